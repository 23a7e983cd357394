"""UNAUTHENTICATE (RFC 8437): a logged-in session goes back to the
not-authenticated state and can log in again, as someone else, on the same
connection (server/imap/cmd_unauthenticate.c)."""

import base64
import os
import re
import zlib

import pytest

from imapclient import bad, connect, login, ok
from test_compress import compress
from test_logs import trace_dir, traces, wait_for

MSG = b"From: a@example.org\r\nSubject: unauth\r\n\r\nbody\r\n"


def caps(c):
    return ok(c, "CAPABILITY")[0].split()[2:]


def unauthenticate(c, tag="u"):
    """UNAUTHENTICATE, which must succeed; the capabilities of its OK."""
    tagged, untagged = c.cmd(tag, "UNAUTHENTICATE")
    m = re.match(tag.encode() + rb" OK \[CAPABILITY ([^]]*)\] ", tagged)
    assert m, (tagged, untagged)
    # §3: no expunge event, nothing else untagged.
    assert untagged == [], untagged
    return m.group(1).split()


def append(c, mailbox):
    c.send(f"ap APPEND {mailbox} {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
    tagged, _ = c.read_tagged("ap")
    assert tagged.startswith(b"ap OK"), tagged


def test_rfc8437_3_capability_after_login_only(env):
    with connect(env.imap_port) as c:
        assert b"UNAUTHENTICATE" not in c.greeting
        tagged, _ = c.cmd("l", f"LOGIN {env.new_user('ua')} secret")
        assert b" UNAUTHENTICATE" in tagged, tagged          # in the login's CAPABILITY
        assert b"UNAUTHENTICATE" in caps(c)
        after = unauthenticate(c)
        assert b"UNAUTHENTICATE" not in after and b"AUTH=PLAIN" in after
        assert after == caps(c)


def test_rfc8437_3_not_authenticated_state_is_bad(env):
    with connect(env.imap_port) as c:
        bad(c, "UNAUTHENTICATE")
    with login(env.imap_port, env.new_user("ua")) as c:
        bad(c, "UNAUTHENTICATE now")       # no arguments
        unauthenticate(c)
        bad(c, "UNAUTHENTICATE")           # already not authenticated
        # Commands of the authenticated state are refused again.
        tagged, _ = c.cmd("s", "SELECT INBOX")
        assert tagged.startswith(b"s BAD"), tagged


def test_rfc8437_3_login_as_another_user_sees_only_their_mailboxes(env):
    alice, bob = env.new_user("uaa"), env.new_user("uab")
    login(env.imap_port, bob).close()
    with login(env.imap_port, alice) as c:
        ok(c, "CREATE AlicePrivate")
        ok(c, "SELECT AlicePrivate")
        unauthenticate(c)
        tagged, _ = c.cmd("l", f"LOGIN {bob} secret")
        assert tagged.startswith(b"l OK"), tagged
        names = b"\n".join(ok(c, 'LIST "" "*"'))
        assert b"AlicePrivate" not in names and b"INBOX" in names
        tagged, _ = c.cmd("s", f'SELECT "Other Users/{alice}/AlicePrivate"')
        assert tagged.startswith(b"s NO"), tagged
        # And back to alice, with AUTHENTICATE this time.
        unauthenticate(c)
        ir = base64.b64encode(f"\0{alice}\0secret".encode()).decode()
        assert c.cmd("a", f"AUTHENTICATE PLAIN {ir}")[0].startswith(b"a OK")
        assert b"AlicePrivate" in b"\n".join(ok(c, 'LIST "" "*"'))


def test_rfc8437_3_selected_mailbox_closed_without_expunge(env):
    user = env.new_user("ua")
    with login(env.imap_port, user) as c:
        ok(c, "CREATE Box")
        append(c, "Box")
        append(c, "Box")
        ok(c, "SELECT Box")
        ok(c, "STORE 1 +FLAGS (\\Deleted)")
        unauthenticate(c)                  # checks: nothing untagged
        ok(c, f"LOGIN {user} secret")
        status = ok(c, "STATUS Box (MESSAGES DELETED)")
        assert status == [b"* STATUS Box (MESSAGES 2 DELETED 1)"], status


def test_rfc8437_4_1_enabled_extensions_are_reset(env):
    user = env.new_user("ua")
    with login(env.imap_port, user) as c:
        assert ok(c, "ENABLE QRESYNC") == [b"* ENABLED QRESYNC"]
        unauthenticate(c)
        ok(c, f"LOGIN {user} secret")
        # Enabled anew: the old session's ENABLE is forgotten.
        assert ok(c, "ENABLE QRESYNC") == [b"* ENABLED QRESYNC"]


def test_rfc8437_4_1_condstore_off_after_unauthenticate(env):
    user = env.new_user("ua")
    with login(env.imap_port, user) as c:
        ok(c, "CREATE Box")
        append(c, "Box")
        ok(c, "ENABLE CONDSTORE")
        ok(c, "SELECT Box")
        assert b"MODSEQ" in ok(c, "STORE 1 +FLAGS (\\Flagged)")[0]
        unauthenticate(c)
        ok(c, f"LOGIN {user} secret")
        ok(c, "SELECT Box")
        assert b"MODSEQ" not in ok(c, "STORE 1 -FLAGS (\\Flagged)")[0]


def test_rfc8437_per_user_connection_slot_is_released(env):
    k = env.start_kairand(max_connections_per_user="1")
    alice, bob = env.new_user("uaa"), env.new_user("uab")
    try:
        with connect(k.imap_port) as first, connect(k.imap_port) as second:
            assert first.cmd("a", f"LOGIN {alice} secret")[0].startswith(b"a OK")
            tagged, _ = second.cmd("a", f"LOGIN {alice} secret")
            assert tagged.startswith(b"a NO [LIMIT]"), tagged
            unauthenticate(first)
            # alice's slot is free at once: the other connection gets it...
            assert second.cmd("b", f"LOGIN {alice} secret")[0].startswith(b"b OK")
            # ... and the first can log in as someone else.
            assert first.cmd("c", f"LOGIN {bob} secret")[0].startswith(b"c OK")
            tagged, _ = first.cmd("d", "UNAUTHENTICATE")
            assert tagged.startswith(b"d OK"), tagged
            tagged, _ = first.cmd("e", f"LOGIN {alice} secret")
            assert tagged.startswith(b"e NO [LIMIT]"), tagged
    finally:
        k.stop()


def test_rfc8437_pre_login_limits_apply_again(env):
    """The session is not authenticated: the pre-login literal limit (64
    KiB, server/imap/session.c) holds again."""
    with login(env.imap_port, env.new_user("ua")) as c:
        unauthenticate(c)
        c.send(b"x LOGIN {100000}\r\n")
        tagged = c.read_response()
        assert tagged.startswith(b"x NO [TOOBIG]"), tagged


def end_compression(c, z):
    """The client side of §4.1 once UNAUTHENTICATE went out compressed:
    reads the OK through the inflater, then the server's final block; c
    speaks plain again. Returns the tagged OK."""
    tagged, untagged = c.read_tagged("u")
    assert tagged.startswith(b"u OK [CAPABILITY ") and untagged == [], (tagged, untagged)
    leftover = z.pending + c.buf
    assert leftover == b"", leftover          # nothing after the OK but the end
    while not z.inflater.eof:
        raw = z.sock.recv(65536)
        assert raw, "server closed before ending its stream"
        assert z.inflater.decompress(raw) == b""
    c.sock, c.buf = z.sock, z.inflater.unused_data
    return tagged


@pytest.mark.parametrize("final", [False, True])
def test_rfc8437_4_1_compression_ends_with_unauthenticate(env, final):
    alice, bob = env.new_user("uaa"), env.new_user("uab")
    with login(env.imap_port, alice) as c:
        z = compress(c)
        assert b"UNAUTHENTICATE" in caps(c)
        ok(c, "SELECT INBOX")
        data = b"u UNAUTHENTICATE\r\n"
        if final:
            # A final block, and the next command in plain right behind
            # it, in the same segment (§3: pipelining is allowed).
            raw = z.deflater.compress(data) + z.deflater.flush(zlib.Z_FINISH)
            z.send_raw(raw + f"l LOGIN {bob} secret\r\n".encode())
        else:
            z.sendall(data)
        tagged = end_compression(c, z)
        assert b"COMPRESS=DEFLATE" not in tagged and b"AUTH=PLAIN" in tagged
        if not final:
            c.send(f"l LOGIN {bob} secret\r\n".encode())
        assert c.read_tagged("l")[0].startswith(b"l OK")
        # Plain both ways, and COMPRESS can start again.
        assert b"COMPRESS=DEFLATE" in caps(c)
        compress(c)
        assert ok(c, "NAMESPACE")[0].startswith(b"* NAMESPACE")


def test_rfc8437_4_1_compressed_stream_ended_without_unauthenticate_closes(env):
    with login(env.imap_port, env.new_user("ua")) as c:
        z = compress(c)
        z.send_raw(z.deflater.compress(b"n NOOP\r\n") + z.deflater.flush(zlib.Z_FINISH))
        assert c.read_tagged("n")[0].startswith(b"n OK")
        z.sock.settimeout(5)
        rest = b""
        while True:
            raw = z.sock.recv(65536)
            if not raw:
                break
            rest += raw
        # Nothing but perhaps the end of our stream: the server closed.
        assert z.inflater.decompress(rest) == b""


def test_rfc8437_8_can_be_disabled(env):
    k = env.start_kairand(allow_unauthenticate="no")
    try:
        with login(k.imap_port, env.new_user("ua")) as c:
            assert b"UNAUTHENTICATE" not in caps(c)
            bad(c, "UNAUTHENTICATE")
            ok(c, "SELECT INBOX")
    finally:
        k.stop()


def test_rfc8437_3_pipelined_with_login(env):
    """§3: without a SASL layer the client may pipeline UNAUTHENTICATE
    with the next authentication."""
    alice, bob = env.new_user("uaa"), env.new_user("uab")
    with login(env.imap_port, alice) as c:
        c.send(f"u UNAUTHENTICATE\r\nl LOGIN {bob} secret\r\nn NAMESPACE\r\n".encode())
        assert c.read_tagged("u")[0].startswith(b"u OK")
        assert c.read_tagged("l")[0].startswith(b"l OK")
        assert c.read_tagged("n")[0].startswith(b"n OK")


def test_rfc8437_3_a_trace_of_the_user_ends_with_the_user(env):
    """A trace started for alice (trace_users) ends at her UNAUTHENTICATE:
    bob, logging in next on the connection, is not written into it."""
    alice, bob = env.new_user("uaa"), env.new_user("uab")
    d = trace_dir(env, "unauth")
    k = env.start_kairand(trace_dir=d, trace_users=alice)
    try:
        with connect(k.imap_port) as c:
            assert c.cmd("a", f"LOGIN {alice} secret")[0].startswith(b"a OK")
            assert c.cmd("b", "SELECT INBOX")[0].startswith(b"b OK")
            unauthenticate(c)
            assert c.cmd("l", f"LOGIN {bob} secret")[0].startswith(b"l OK")
            assert c.cmd("m", "EXAMINE INBOX")[0].startswith(b"m OK")
        path, text = wait_for(lambda: [(p, t) for p, t in traces(d).items()
                                       if "trace ends" in t], "the end of alice's trace")[0]
    finally:
        k.stop()
    assert os.path.basename(path).startswith(alice + ".")
    assert "b SELECT INBOX" in text and "u UNAUTHENTICATE" in text
    assert bob not in text and "EXAMINE" not in text
    assert len(traces(d)) == 1           # bob is not traced at all
