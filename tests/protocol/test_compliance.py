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


# RFC 3501 §5.1.3 and RFC 5530: a name that is not valid modified UTF-7 (or
# otherwise cannot be a mailbox name) is a name that cannot exist, not a
# syntax error: commands naming an existing mailbox answer NONEXISTENT,
# those that would make one CANNOT, and LIST matches nothing.

IMPOSSIBLE = ['"&Jjo"', '"&AGE-"', '"a&AOk-&AOk-"', '"a//b"', '"/a"', '""']


def untagged_lists(u):
    return [x for x in u if x.startswith((b"* LIST", b"* LSUB"))]


def answers(c, commands, want):
    for text in commands:
        tagged, _ = c.cmd("t", text)
        assert tagged.startswith(b"t " + want), (text, tagged)


@pytest.mark.parametrize("name", IMPOSSIBLE)
def test_rfc3501_5_1_3_invalid_name_is_nonexistent(env, user, name):
    with login(env, user) as c:
        answers(c, [f"{cmd} {name}" for cmd in ("SELECT", "EXAMINE", "DELETE", "GETACL",
                                                "MYRIGHTS")] +
                [f"STATUS {name} (MESSAGES)", f"RENAME {name} x"], b"NO [NONEXISTENT]")
        answers(c, [f"CREATE {name}", f"SUBSCRIBE {name}", f"RENAME INBOX {name}"],
                b"NO [CANNOT]")
        answers(c, [f"UNSUBSCRIBE {name}"], b"OK")
        c.send(f"ap APPEND {name} {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
        tagged, _ = c.read_tagged("ap")
        assert tagged.startswith(b"ap NO [NONEXISTENT]"), tagged
        append(c, "INBOX", MSG)
        ok(c, "SELECT INBOX")
        answers(c, [f"{cmd} 1 {name}" for cmd in ("COPY", "MOVE", "UID COPY", "UID MOVE")],
                b"NO [NONEXISTENT]")
        assert b"* STATUS INBOX (MESSAGES 1)" in ok(c, "STATUS INBOX (MESSAGES)")


def test_rfc3501_6_3_8_list_invalid_utf7_pattern_lists_nothing(env, user):
    with login(env, user) as c:
        for args in ('"" "&Jjo"', '"&Jjo" *', '"" "&AGE-*"', '"" "INBOX&Jjo%"'):
            for cmd in ("LIST", "LSUB"):
                assert untagged_lists(ok(c, f"{cmd} {args}")) == [], (cmd, args)
        assert untagged_lists(ok(c, 'LIST "" INBOX')) == [b'* LIST (\\HasNoChildren) "/" INBOX']


# RFC 3501 §5.1 leaves the hierarchy's meaning to the server; a level that
# is empty, "." or ".." is refused (mbsync aborts the whole account's sync
# when LIST shows one, and ".." reads as a path escape).

@pytest.mark.parametrize("name", ["..", ".", "../../etc", "a/../b", "a/.", "./a", "a/./b",
                                  "INBOX/..", "a//b", "&AC4-&AC4-"])
def test_rfc3501_6_3_3_create_dot_levels_cannot(env, user, name):
    with login(env, user) as c:
        before = untagged_lists(ok(c, 'LIST "" *'))
        tagged, _ = c.cmd("c", f"CREATE {quote(name).decode()}")
        assert tagged.startswith(b"c NO [CANNOT]"), tagged
        ok(c, "CREATE ok")
        tagged, _ = c.cmd("r", f"RENAME ok {quote(name).decode()}")
        assert tagged.startswith(b"r NO [CANNOT]"), tagged
        tagged, _ = c.cmd("s", f"SUBSCRIBE {quote(name).decode()}")
        assert tagged.startswith(b"s NO [CANNOT]"), tagged
        ok(c, "DELETE ok")
        assert untagged_lists(ok(c, 'LIST "" *')) == before
        assert untagged_lists(ok(c, 'LSUB "" *')) == untagged_lists(ok(c, 'LSUB "" *'))
        assert not any(b".." in x or b'/."' in x for x in untagged_lists(ok(c, 'LSUB "" *')))


def test_rfc3501_6_3_3_dots_inside_a_level_are_fine(env, user):
    with login(env, user) as c:
        for name in ("a.b", "...x", "x..", ".hidden", "v1.2/..notes"):
            ok(c, f"CREATE {quote(name).decode()}")
        names = untagged_lists(ok(c, 'LIST "" *'))
        assert b'* LIST (\\HasNoChildren) "/" ...x' in names, names
