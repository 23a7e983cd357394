"""Durability (DESIGN.md, "Data model"): a tagged OK for a change is sent
only after its transaction committed; when PostgreSQL fails the client gets
NO [UNAVAILABLE], never a false OK, and the session recovers."""

import os
import signal
import time

from imapclient import connect

MSG = b"From: a@example.org\r\nSubject: durable\r\n\r\nbody\r\n"


def append(c, tag, mailbox="INBOX"):
    c.send(f"{tag} APPEND {mailbox} {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
    return c.read_tagged(tag)[0]


def test_postgresql_down_gives_unavailable_and_the_session_recovers(env):
    user = env.new_user("dur")
    k = env.start_kairand()
    with connect(k.imap_port) as c:
        assert c.cmd("l", f"LOGIN {user} secret")[0].startswith(b"l OK")
        assert append(c, "a1").startswith(b"a1 OK")
        assert c.cmd("s", "SELECT INBOX")[0].startswith(b"s OK")
        env.pg.stop()
        try:
            for tag, text in (("f", "FETCH 1 (FLAGS)"), ("t", "STORE 1 +FLAGS (\\Seen)"),
                              ("n", "NOOP")):
                tagged, _ = c.cmd(tag, text, timeout=30)
                assert tagged.startswith(f"{tag} NO [UNAVAILABLE]".encode()), tagged
            tagged = append(c, "a2")
            assert tagged.startswith(b"a2 NO [UNAVAILABLE]"), tagged
        finally:
            env.pg.start()
        # The same session goes on once the database is back.
        deadline = time.monotonic() + 20
        while True:
            tagged, u = c.cmd("f2", "FETCH 1:* (UID FLAGS)", timeout=30)
            if tagged.startswith(b"f2 OK") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert tagged.startswith(b"f2 OK"), tagged
        # The APPEND that got NO did not happen; the STORE did not either.
        assert [x for x in u if b"FETCH" in x] == [b"* 1 FETCH (UID 1 FLAGS (\\Recent))"], u
    k.stop()


def test_acknowledged_append_survives_a_kairand_crash(env):
    user = env.new_user("crash")
    k = env.start_kairand()
    with connect(k.imap_port) as c:
        c.cmd("l", f"LOGIN {user} secret")
        for i in range(5):
            assert append(c, f"a{i}").startswith(f"a{i} OK".encode())
        os.kill(k.pid, signal.SIGKILL)
    k.stop()
    with connect(env.imap_port) as c:
        c.cmd("l", f"LOGIN {user} secret")
        _, u = c.cmd("s", "STATUS INBOX (MESSAGES)")
        assert b"(MESSAGES 5)" in u[0], u
