"""What a selected session costs the store, as a client sees it.

- A session never waits on another session's lock to read (issue 10): a
  writer holding the mailbox row (an APPEND, STORE or delivery that has not
  committed yet, here a psql transaction holding the row for three seconds)
  must not delay SELECT, or the NOOP, FETCH and STORE of a session that
  finds new mail to claim as \\Recent (RFC 3501 §2.3.2). Before migration
  0009 the claim took that row lock and every reader queued behind the
  writer.
- The changes a session is told of before its command (dispatch reads them
  with its rights in one statement) keep RFC 3501 §7.4.1: no EXPUNGE while
  answering FETCH, STORE or SEARCH, and the client's numbers stay right.
- A right revoked while the mailbox is selected takes effect at the next
  command (RFC 4314 §4), through that same statement.
"""

import os
import subprocess
import sys
import time

import imapclient

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import kairan_env as ke  # noqa: E402

MSG = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
       b"Subject: pipeline\r\nMessage-ID: <%d@pipeline>\r\n\r\nBody.\r\n")


def login(env, user):
    return imapclient.login(env.imap_port, user)


def append(c, mailbox, i):
    raw = MSG % i
    tagged, _ = c.cmd("ap", f"APPEND {mailbox} {{{len(raw)}+}}\r\n".encode().decode() + raw.decode())
    assert tagged.startswith(b"ap OK"), tagged


def hold_mailbox_row(env, user, mailbox, seconds):
    """A writer that has locked the mailbox row and not committed: psql in
    the background, holding the row for `seconds`. Returns the process
    once the lock is certainly taken."""
    sql = (f"BEGIN; SELECT 1 FROM mailboxes m JOIN accounts a ON a.id = m.owner_id "
           f"WHERE a.login = '{user}' AND m.name = '{mailbox}' FOR UPDATE OF m; "
           f"\\echo locked\n SELECT pg_sleep({seconds}); COMMIT;")
    p = subprocess.Popen([f"{ke.PG_BIN}/psql", "-X", "-q", "-A", "-t", "-h", env.pg.sockdir,
                          "-p", str(env.pg.port), "-U", ke.DB_USER, "-d", ke.DB_NAME],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    p.stdin.write(sql + "\n")
    p.stdin.close()
    for line in p.stdout:            # the SELECT's "1", then the echo
        if line.strip() == "locked":
            return p
    raise AssertionError("psql did not take the lock")


def timed(c, tag, command):
    t0 = time.monotonic()
    tagged, untagged = c.cmd(tag, command)
    return time.monotonic() - t0, tagged, untagged


def test_readers_do_not_wait_for_a_writer_holding_the_mailbox(env):
    user = env.new_user("pipe")
    a, b, c = login(env, user), login(env, user), login(env, user)
    try:
        append(a, "INBOX", 1)
        a.cmd("s", "SELECT INBOX")
        append(b, "INBOX", 2)            # new mail for a to claim as \Recent
        append(b, "INBOX", 3)            # and for c's SELECT
        locker = hold_mailbox_row(env, user, "INBOX", 3)
        try:
            took, tagged, untagged = timed(a, "n", "NOOP")
            assert tagged.startswith(b"n OK") and took < 1.0, (took, tagged)
            assert b"* 3 EXISTS" in untagged and b"* 3 RECENT" in untagged, untagged
            took, tagged, untagged = timed(c, "s", "SELECT INBOX")
            assert tagged.startswith(b"s OK") and took < 1.0, (took, tagged)
            assert b"* 0 RECENT" in untagged, untagged   # a claimed them
            took, tagged, _ = timed(a, "f", "FETCH 1:* (FLAGS)")
            assert tagged.startswith(b"f OK") and took < 1.0, (took, tagged)
        finally:
            locker.wait(timeout=30)
        _, untagged = a.cmd("f2", "FETCH 2:3 (FLAGS)")
        assert all(b"\\Recent" in u for u in untagged), untagged
    finally:
        for x in (a, b, c):
            x.close()


def test_rfc3501_7_4_1_changes_before_fetch_hold_expunges(env):
    user = env.new_user("pipe")
    a, b = login(env, user), login(env, user)
    try:
        for i in range(3):
            append(a, "INBOX", 10 + i)
        a.cmd("s", "SELECT INBOX")
        b.cmd("s", "SELECT INBOX")
        b.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.cmd("x", "EXPUNGE")
        append(b, "INBOX", 20)
        # a's FETCH learns of the new message (EXISTS) but not the
        # expunge; its message numbers are unchanged (the expunged
        # message itself has nothing left to show, §7.4.1 lets it go).
        # The set is read as the client meant it when it sent the
        # command, before the EXISTS: "*" is message 3.
        _, u = a.cmd("f", "FETCH 1:* (UID)")
        assert not any(x.endswith(b"EXPUNGE") for x in u), u
        assert b"* 4 EXISTS" in u, u
        assert [x for x in u if b"FETCH (UID" in x] == \
            [b"* 2 FETCH (UID 2)", b"* 3 FETCH (UID 3)"], u
        _, u = a.cmd("f4", "FETCH 4 (UID)")
        assert u == [b"* 4 FETCH (UID 4)"], u
        # NOOP then reports the expunge first, and numbers move.
        _, u = a.cmd("n", "NOOP")
        assert b"* 1 EXPUNGE" in u, u
        _, u = a.cmd("g", "FETCH 1:* (UID)")
        assert u == [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 3)", b"* 3 FETCH (UID 4)"], u
    finally:
        a.close()
        b.close()


def test_rfc4314_4_right_revoked_while_selected_closes_at_next_command(env):
    owner, reader = env.new_user("pown"), env.new_user("pread")
    o, r = login(env, owner), login(env, reader)
    try:
        o.cmd("c", "CREATE Team")
        append(o, "Team", 30)
        tagged, _ = o.cmd("g", f"SETACL Team {reader} lr")
        assert tagged.startswith(b"g OK"), tagged
        tagged, _ = r.cmd("s", f'SELECT "Other Users/{owner}/Team"')
        assert tagged.startswith(b"s OK [READ-ONLY]"), tagged
        o.cmd("d", f"DELETEACL Team {reader}")
        tagged, untagged = r.cmd("f", "FETCH 1 (FLAGS)")
        assert b"* OK [CLOSED]" in b"\n".join(untagged), untagged
        assert tagged.startswith(b"f NO [NOPERM]"), tagged
        tagged, _ = r.cmd("f2", "FETCH 1 (FLAGS)")
        assert tagged.startswith(b"f2 BAD"), tagged   # no longer selected
    finally:
        o.close()
        r.close()
