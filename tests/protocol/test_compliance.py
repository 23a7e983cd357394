"""Compliance fixes of issue 13 item 7, each test named after the RFC
section it checks: what a client sees over a real socket."""

import re
import time

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


def test_rfc3501_6_3_3_legacy_dot_level_mailbox_can_be_cleaned_up(env, user):
    """A ".." mailbox an older kairand let a client create stays listable,
    selectable and renamable, so that it can be cleaned up."""
    with login(env, user) as c:
        ok(c, "CREATE legacy")
    env.pg.psql("UPDATE mailboxes SET name = '../x' WHERE name = 'legacy' AND owner_id ="
                f" (SELECT id FROM accounts WHERE login = '{user}')")
    with login(env, user) as c:
        assert b'* LIST (\\HasNoChildren) "/" ../x' in ok(c, 'LIST "" *')
        ok(c, 'SELECT "../x"')
        ok(c, 'RENAME "../x" cleaned')
        names = b"".join(ok(c, 'LIST "" *'))
        assert b"cleaned" in names and b".." not in names


def test_rfc3501_6_3_3_dots_inside_a_level_are_fine(env, user):
    with login(env, user) as c:
        for name in ("a.b", "...x", "x..", ".hidden", "v1.2/..notes"):
            ok(c, f"CREATE {quote(name).decode()}")
        names = untagged_lists(ok(c, 'LIST "" *'))
        assert b'* LIST (\\HasNoChildren) "/" ...x' in names, names


# RFC 3501 §6.4.4 FROM/TO/CC/BCC "contains the specified string in the
# envelope structure's ... field": the address as parsed (comments, quoting
# and folding removed) is found as well as the header as written.

ADDR_MSG = (b"From: <user-from (comment)@ (comment) domain.org>\r\n"
            b"To: Team: a@b.org, \"Q, R\" <q (x) @r.org>;\r\n"
            b"Cc: \"Carol\"\r\n <carol (c).smith@\r\n example.net>\r\n"
            b"Bcc: (hidden) blind@example.com (bcc)\r\n"
            b"Subject: addresses\r\n\r\nbody\r\n")


def search(c, criteria):
    u = ok(c, f"UID SEARCH {criteria}")
    return [int(x) for x in u[0].split()[2:]]


def assert_found(c, keys, uids):
    for key in keys:
        assert search(c, key) == uids, key


def test_rfc3501_6_4_4_from_matches_the_parsed_address(env, user):
    with login(env, user) as c:
        append(c, "INBOX", ADDR_MSG)
        append(c, "INBOX", MSG)
        ok(c, "EXAMINE INBOX")
        assert_found(c, ("FROM user-from@domain.org", "FROM user-from", "FROM \"(comment)\"",
                         "TO a@b.org", "TO q@r.org", "TO \"Q, R\"", "CC carol.smith@example.net",
                         "CC Carol", "BCC blind@example.com", "BCC hidden",
                         "TEXT user-from@domain.org", "HEADER From user-from@domain.org"), [1])
        assert search(c, "FROM carol@example.org") == [2]
        assert search(c, "FROM q@r.org") == [] and search(c, "TO user-from@domain.org") == []
        # What FETCH shows is unchanged: the header as written.
        u = ok(c, "FETCH 1 (BODY.PEEK[HEADER.FIELDS (FROM)])")
        assert b"<user-from (comment)@ (comment) domain.org>" in b"".join(u)
        assert b"\t" not in b"".join(u)


# RFC 3501 §6.4.4 BODY: "Messages that contain the specified string in the
# body of the message" -- everything after the top-level header, MIME part
# headers and attached messages' headers included.

ATTACH_MSG = (b"From: a@example.org\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
              b"--b1\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
              b"--b1\r\nContent-Type: application/zip; name=\"failure_650.zip\"\r\n"
              b"Content-Disposition: attachment; filename=\"failure_650.zip\"\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBAo=\r\n"
              b"--b1\r\nContent-Type: application/pdf\r\n"
              b"Content-Disposition: attachment;\r\n filename*=UTF-8''r%C3%A9sum%C3%A9_quarterly.pdf\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
              b"--b1\r\nContent-Type: message/rfc822\r\n\r\n"
              b"From: forwarder@example.net\r\nSubject: Zebracorn sighting\r\n\r\nInner words.\r\n"
              b"--b1--\r\n")


def test_rfc3501_6_4_4_body_and_text_search_part_headers(env, user):
    with login(env, user) as c:
        c.send(f"ap APPEND INBOX {{{len(ATTACH_MSG)}+}}\r\n".encode() + ATTACH_MSG +
               f" {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
        assert c.read_tagged("ap")[0].startswith(b"ap OK")
        ok(c, "EXAMINE INBOX")
        assert_found(c, ("TEXT failure", "TEXT failure_650.zip", "BODY failure_650",
                         "BODY zebracorn", "TEXT \"Zebracorn sighting\"",
                         "BODY forwarder@example.net", "CHARSET UTF-8 BODY \"résumé_quarterly\"",
                         "BODY application/zip", "BODY \"inner words\""), [1])
        # The top-level header is not part of the body.
        assert search(c, "BODY report") == [] and search(c, "TEXT report") == [1]
        assert search(c, "BODY a@example.org") == []
        # Nor is an attachment's encoded content.
        assert search(c, "BODY UEsDBAo") == []


def test_rfc3501_6_4_4_existing_messages_are_reanalysed(env, user):
    """Rows an older parser computed (migrations/0012: mime_version below
    the current one) are parsed again by the indexer of a kairand that
    starts on the store, in a quiet moment."""
    with login(env, user) as c:
        append(c, "INBOX", ATTACH_MSG)
        append(c, "INBOX", ADDR_MSG)
    # As an older kairand would have stored them.
    env.pg.psql("UPDATE messages m SET mime_version = 1, body_text = 'see the attachment.',"
                " header_text = '', header_fields = '{}'"
                " FROM mailbox_messages mm JOIN mailboxes b ON b.id = mm.mailbox_id"
                " JOIN accounts a ON a.id = b.owner_id"
                f" WHERE mm.message_id = m.id AND a.login = '{user}'")
    with login(env, user) as c:
        ok(c, "EXAMINE INBOX")
        assert search(c, "TEXT failure") == [] and search(c, "FROM user-from@domain.org") == []
    k = env.start_kairand(search_index_quiet_ms="0")
    try:
        deadline = time.time() + 20
        with imapclient.login(k.imap_port, user) as c:
            ok(c, "EXAMINE INBOX")
            while search(c, "FROM user-from@domain.org") != [2] and time.time() < deadline:
                time.sleep(0.2)
            assert search(c, "TEXT failure") == [1]
            assert search(c, "FROM user-from@domain.org") == [2]
            assert search(c, "SUBJECT addresses") == [2]
        stale = env.pg.psql("SELECT count(*) FROM messages WHERE mime_version < 2").strip()
        assert stale == "0", stale
    finally:
        k.stop()
