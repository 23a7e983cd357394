"""Compliance fixes of issue 13 item 7, each test named after the RFC
section it checks: what a client sees over a real socket."""

import re

import pytest

import imapclient
from imapclient import ok, quote

MSG = b"From: carol@example.org\r\nSubject: compliance\r\n\r\nA line.\r\n"


def login(env, user):
    return imapclient.login(env.imap_port, user)


def append(c, mailbox, raw, tag="ap"):
    c.send(f"{tag} APPEND {mailbox} {{{len(raw)}}}\r\n".encode())
    c.expect_continuation()
    c.send(raw + b"\r\n")
    tagged, untagged = c.read_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    return untagged


@pytest.fixture
def user(env):
    return env.new_user("compl")


# RFC 3501 §6.3.2: EXAMINE "MUST NOT cause messages to lose the \Recent
# flag", and returns the same output as SELECT: the RECENT count included.

def test_rfc3501_6_3_2_examine_reports_recent_without_claiming(env, user):
    a, b = login(env, user), login(env, user)
    try:
        append(a, "INBOX", MSG)
        append(a, "INBOX", MSG)
        _, u = b.cmd("e", "EXAMINE INBOX")
        assert b"* 2 EXISTS" in u and b"* 2 RECENT" in u, u
        # The examining session shows the flag it counts (as Dovecot does).
        assert ok(b, "FETCH 1:* (FLAGS)") == [b"* 1 FETCH (FLAGS (\\Recent))",
                                             b"* 2 FETCH (FLAGS (\\Recent))"]
        # A new message arrives: the examining session is told it is recent.
        append(a, "INBOX", MSG)
        u = ok(b, "NOOP")
        assert b"* 3 EXISTS" in u and b"* 3 RECENT" in u, u
        # EXAMINE took nothing: a SELECT then shows them and claims them.
        _, u = a.cmd("s", "SELECT INBOX")
        assert b"* 3 RECENT" in u, u
        _, u = a.cmd("s2", "SELECT INBOX")
        assert b"* 0 RECENT" in u, u
        # Once claimed, a new EXAMINE sees no recent messages.
        _, u = b.cmd("e2", "EXAMINE INBOX")
        assert b"* 0 RECENT" in u, u
        assert ok(b, "SEARCH RECENT") == [b"* SEARCH"]
    finally:
        a.close()
        b.close()


def test_rfc3501_6_3_2_examine_after_select_session_claims(env, user):
    """A message claimed by a SELECT session while another session has
    the mailbox EXAMINEd stays counted where the examiner already saw it
    (it was told so), and later mail the SELECT session claims first is
    not recent for the examiner."""
    a, b = login(env, user), login(env, user)
    try:
        ok(a, "SELECT INBOX")
        ok(b, "EXAMINE INBOX")
        append(a, "INBOX", MSG)   # a is told first, and claims it
        u = ok(b, "NOOP")
        assert b"* 1 EXISTS" in u and b"* 0 RECENT" in u, u
        assert ok(b, "FETCH 1 (FLAGS)") == [b"* 1 FETCH (FLAGS ())"]
    finally:
        a.close()
        b.close()


# RFC 6851 §3.3 / RFC 3501 §6.4.7: a MOVE or COPY whose target is the
# selected mailbox itself adds messages to it, which the client must be
# told of (EXISTS), and MOVE removes the source messages (EXPUNGE).

def test_rfc6851_3_3_move_into_selected_mailbox_expunges_and_reports_exists(env, user):
    with login(env, user) as c:
        for _ in range(3):
            append(c, "INBOX", MSG)
        ok(c, "SELECT INBOX")
        tagged, u = c.cmd("m", "MOVE 1 INBOX")
        assert tagged.startswith(b"m OK"), tagged
        assert any(re.match(rb"\* OK \[COPYUID \d+ 1 4\]", x) for x in u), u
        assert b"* 1 EXPUNGE" in u, u
        assert b"* 3 EXISTS" in u, u
        assert u.index(b"* 1 EXPUNGE") < u.index(b"* 3 EXISTS"), u
        assert ok(c, "UID FETCH 1:* (UID)") == [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 3)",
                                               b"* 3 FETCH (UID 4)"]
        tagged, u = c.cmd("um", "UID MOVE 2:3 INBOX")
        assert tagged.startswith(b"um OK"), tagged
        assert u.count(b"* 1 EXPUNGE") == 2 and b"* 3 EXISTS" in u, u
        assert ok(c, "UID FETCH 1:* (UID)") == [b"* 1 FETCH (UID 4)", b"* 2 FETCH (UID 5)",
                                               b"* 3 FETCH (UID 6)"]
        assert b"* STATUS INBOX (MESSAGES 3)" in ok(c, "STATUS INBOX (MESSAGES)")


def test_rfc3501_6_4_7_copy_into_selected_mailbox_reports_exists(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG)
        ok(c, "SELECT INBOX")
        tagged, u = c.cmd("c", "COPY 1 INBOX")
        assert tagged.startswith(b"c OK [COPYUID "), tagged
        assert b"* 2 EXISTS" in u, u
        assert ok(c, "FETCH 2 (UID)") == [b"* 2 FETCH (UID 2)"]
