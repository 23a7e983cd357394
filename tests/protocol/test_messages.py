"""The selected state: SELECT/EXAMINE, APPEND, FETCH, STORE, EXPUNGE, CLOSE,
UNSELECT, CHECK and the UID variants (RFC 3501 §6.3-6.4, RFC 4315 UIDPLUS,
RFC 3691 UNSELECT), with two sessions where behaviour depends on it."""

import re

import pytest

from imapclient import connect

MSG = (b"From: Alice Example <alice@example.org>\r\n"
       b"To: Bob <bob@example.org>\r\n"
       b"Subject: Hello there\r\n"
       b"Date: Wed, 25 Nov 2026 10:00:00 +0100\r\n"
       b"Message-ID: <m1@example.org>\r\n"
       b"\r\n"
       b"Body line one.\r\nBody line two.\r\n")


def login(env, user):
    c = connect(env.imap_port)
    tagged, _ = c.cmd("l", f"LOGIN {user} secret")
    assert tagged.startswith(b"l OK"), tagged
    return c


def append(c, mailbox, raw, flags="", date="", tag="ap"):
    extra = (f" ({flags})" if flags else "") + (f' "{date}"' if date else "")
    c.send(f"{tag} APPEND {mailbox}{extra} {{{len(raw)}}}\r\n".encode())
    c.expect_continuation()
    c.send(raw + b"\r\n")
    tagged, _ = c.read_tagged(tag)
    return tagged


def appenduid(tagged):
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", tagged)
    assert m, tagged
    return int(m.group(1)), int(m.group(2))


@pytest.fixture
def user(env):
    return env.new_user("msg")


def test_rfc4315_append_returns_appenduid_and_select_reports_it(env, user):
    with login(env, user) as c:
        tagged = append(c, "INBOX", MSG, flags="\\Flagged $Work", date="25-Nov-2026 10:00:00 +0100")
        assert tagged.startswith(b"ap OK [APPENDUID "), tagged
        validity, uid = appenduid(tagged)
        assert uid == 1
        tagged, untagged = c.cmd("s", "SELECT INBOX")
        assert tagged.startswith(b"s OK [READ-WRITE]"), tagged
        text = b"\n".join(untagged)
        assert b"* 1 EXISTS" in text and b"* 1 RECENT" in text
        assert b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)" in text
        assert b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)]" in text
        assert f"* OK [UIDVALIDITY {validity}]".encode() in text
        assert b"* OK [UIDNEXT 2]" in text
        assert b"* OK [UNSEEN 1]" in text


def test_rfc3501_6_4_5_fetch_body_is_byte_identical(env, user):
    raw = MSG.replace(b"Body line two.", b"8-bit \xe9\xe8 and NUL-free binary \x01\x02")
    with login(env, user) as c:
        append(c, "INBOX", raw)
        c.cmd("s", "SELECT INBOX")
        tagged, untagged = c.cmd("f", "FETCH 1 (BODY.PEEK[] RFC822.SIZE)")
        assert tagged.startswith(b"f OK")
        resp = untagged[0]
        assert resp.startswith(b"* 1 FETCH (")
        assert f"RFC822.SIZE {len(raw)}".encode() in resp
        i = resp.index(b"BODY[] {")
        n = int(resp[i + 8:resp.index(b"}", i)])
        body = resp[resp.index(b"}\r\n", i) + 3:][:n]
        assert n == len(raw) and body == raw


def test_fetch_header_text_fields_and_partial(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG)
        c.cmd("s", "SELECT INBOX")
        _, u = c.cmd("a", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject FROM)])")
        assert b"BODY[HEADER.FIELDS (SUBJECT FROM)] {" in u[0]
        assert u[0].endswith(b"From: Alice Example <alice@example.org>\r\nSubject: Hello there\r\n\r\n)")
        _, u = c.cmd("b", "FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Subject From To Date Message-ID)])")
        assert u[0].endswith(b"{2}\r\n\r\n)"), u[0]
        _, u = c.cmd("c", "FETCH 1 (BODY.PEEK[TEXT])")
        assert u[0].endswith(b"{32}\r\nBody line one.\r\nBody line two.\r\n)"), u[0]
        _, u = c.cmd("d", "FETCH 1 (BODY.PEEK[TEXT]<5.4>)")
        assert b"BODY[TEXT]<5> {4}\r\nline)" in u[0], u[0]
        _, u = c.cmd("e", "FETCH 1 (BODY.PEEK[TEXT]<500.4>)")
        assert b"BODY[TEXT]<500> {0}\r\n)" in u[0], u[0]
        _, u = c.cmd("f", "FETCH 1 (RFC822.HEADER)")
        assert b"RFC822.HEADER {" in u[0] and b"Subject: Hello there" in u[0]
        _, u = c.cmd("g", "FETCH 1 (BODY.PEEK[1])")
        assert u[0].endswith(b"BODY[1] {32}\r\nBody line one.\r\nBody line two.\r\n)"), u[0]


def test_fetch_envelope_and_bodystructure(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG)
        c.cmd("s", "SELECT INBOX")
        _, u = c.cmd("a", "FETCH 1 (ENVELOPE BODYSTRUCTURE BODY)")
        r = u[0]
        assert b'ENVELOPE ("Wed, 25 Nov 2026 10:00:00 +0100" "Hello there" ' \
               b'(("Alice Example" NIL "alice" "example.org"))' in r, r
        assert b'(("Bob" NIL "bob" "example.org")) NIL NIL NIL "<m1@example.org>")' in r, r
        # Case of MIME tokens is the server's choice (RFC 3501 §7.4.2).
        assert b'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 32 2' \
            in r.upper(), r
        assert b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 32 2)' in r.upper(), r


def test_fetch_macros_and_uid_fetch(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG, date="25-Nov-2026 10:00:00 +0100")
        append(c, "INBOX", MSG.replace(b"m1@", b"m2@"))
        c.cmd("s", "SELECT INBOX")
        _, u = c.cmd("a", "FETCH 1:* FAST")
        assert len(u) == 2
        assert b'INTERNALDATE "25-Nov-2026 09:00:00 +0000"' in u[0], u[0]
        _, u = c.cmd("b", "UID FETCH 2 (FLAGS)")
        assert u == [b"* 2 FETCH (UID 2 FLAGS (\\Recent))"], u
        _, u = c.cmd("c", "UID FETCH 1:* (UID)")
        assert u == [b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 2)"]
        _, u = c.cmd("d", "UID FETCH 99 (FLAGS)")
        assert u == []
        tagged, _ = c.cmd("e", "FETCH 3 (FLAGS)")
        assert tagged.startswith(b"e BAD"), tagged      # RFC 3501 §9: > EXISTS


def test_rfc3501_6_4_5_body_fetch_sets_seen(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG)
        c.cmd("s", "SELECT INBOX")
        _, u = c.cmd("a", "FETCH 1 (BODY[TEXT])")
        assert b"FLAGS (\\Seen \\Recent)" in u[0], u[0]
        _, u = c.cmd("b", "FETCH 1 (FLAGS)")
        assert u == [b"* 1 FETCH (FLAGS (\\Seen \\Recent))"]


def test_examine_is_read_only_and_does_not_set_seen(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG)
        tagged, u = c.cmd("x", "EXAMINE INBOX")
        assert tagged.startswith(b"x OK [READ-ONLY]")
        assert b"* OK [PERMANENTFLAGS ()] Read-only mailbox" in u
        _, u = c.cmd("a", "FETCH 1 (BODY[] FLAGS)")
        assert b"FLAGS ()" in u[0] or b"FLAGS (\\Recent)" in u[0], u[0]
        tagged, _ = c.cmd("b", "STORE 1 +FLAGS (\\Seen)")
        assert tagged.startswith(b"b NO [READ-ONLY]"), tagged
        tagged, _ = c.cmd("c", "EXPUNGE")
        assert tagged.startswith(b"c NO [READ-ONLY]"), tagged


def test_rfc3501_6_4_6_store_variants(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG)
        c.cmd("s", "SELECT INBOX")
        _, u = c.cmd("a", "STORE 1 +FLAGS (\\Flagged $Todo)")
        # RFC 3501 §7.2.6: the new keyword is announced before it is used.
        assert u == [b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Todo)",
                     b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Todo \\*)]"
                     b" Flags permitted",
                     b"* 1 FETCH (FLAGS (\\Flagged \\Recent $Todo))"], u
        _, u = c.cmd("b", "STORE 1 -FLAGS ($Todo)")
        assert u == [b"* 1 FETCH (FLAGS (\\Flagged \\Recent))"], u
        _, u = c.cmd("c", "STORE 1 FLAGS (\\Seen \\Answered)")
        assert u == [b"* 1 FETCH (FLAGS (\\Seen \\Answered \\Recent))"], u
        tagged, u = c.cmd("d", "STORE 1 +FLAGS.SILENT (\\Draft)")
        assert tagged.startswith(b"d OK") and u == []
        _, u = c.cmd("e", "UID STORE 1 +FLAGS (\\Deleted)")
        assert u == [b"* 1 FETCH (UID 1 FLAGS (\\Seen \\Answered \\Deleted \\Draft \\Recent))"], u
        tagged, _ = c.cmd("f", "STORE 1 +FLAGS (\\Recent)")
        assert tagged.startswith(b"f BAD"), tagged


def test_rfc3501_6_4_3_expunge_and_uid_expunge(env, user):
    with login(env, user) as c:
        for i in range(5):
            append(c, "INBOX", MSG.replace(b"m1@", f"e{i}@".encode()))
        c.cmd("s", "SELECT INBOX")
        c.cmd("a", "STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        tagged, u = c.cmd("b", "EXPUNGE")
        assert tagged.startswith(b"b OK")
        assert u == [b"* 2 EXPUNGE", b"* 3 EXPUNGE"], u
        _, u = c.cmd("c", "UID FETCH 1:* (UID)")
        assert [int(x.split()[4].rstrip(b")")) for x in u] == [1, 3, 5]
        c.cmd("d", "STORE 1:3 +FLAGS.SILENT (\\Deleted)")
        tagged, u = c.cmd("e", "UID EXPUNGE 3:5")
        assert u == [b"* 2 EXPUNGE", b"* 2 EXPUNGE"], u
        _, u = c.cmd("f", "FETCH 1 (UID)")
        assert u == [b"* 1 FETCH (UID 1)"]


def test_close_expunges_and_unselect_does_not(env, user):
    with login(env, user) as c:
        append(c, "INBOX", MSG)
        append(c, "INBOX", MSG.replace(b"m1@", b"m2@"))
        c.cmd("s", "SELECT INBOX")
        c.cmd("a", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        tagged, u = c.cmd("b", "UNSELECT")
        assert tagged.startswith(b"b OK") and u == []
        tagged, _ = c.cmd("c", "FETCH 1 FLAGS")
        assert tagged.startswith(b"c BAD")              # no longer selected
        _, u = c.cmd("s2", "SELECT INBOX")
        assert b"* 2 EXISTS" in u
        tagged, u = c.cmd("d", "CLOSE")
        assert tagged.startswith(b"d OK") and u == []   # CLOSE expunges silently
        _, u = c.cmd("s3", "SELECT INBOX")
        assert b"* 1 EXISTS" in u


def test_append_to_missing_mailbox_is_trycreate(env, user):
    with login(env, user) as c:
        # In place of the "+": the message is never sent (test_big_append.py).
        c.send(f"ap APPEND NoSuchBox {{{len(MSG)}}}\r\n")
        tagged, _ = c.read_tagged("ap")
        assert tagged.startswith(b"ap NO [TRYCREATE]"), tagged
        # Non-synchronising: the message comes anyway, the answer is the same.
        c.send(f"ap APPEND NoSuchBox {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
        tagged, _ = c.read_tagged("ap")
        assert tagged.startswith(b"ap NO [TRYCREATE]"), tagged
        tagged, _ = c.cmd("s", "SELECT NoSuchBox")
        assert tagged.startswith(b"s NO [NONEXISTENT]"), tagged


def test_rfc3502_multiappend_is_atomic_and_consecutive(env, user):
    with login(env, user) as c:
        m1, m2 = MSG, MSG.replace(b"m1@", b"m2@")
        c.send(f"ma APPEND INBOX (\\Seen) {{{len(m1)}+}}\r\n".encode() + m1 +
               f" {{{len(m2)}+}}\r\n".encode() + m2 + b"\r\n")
        tagged, _ = c.read_tagged("ma")
        assert re.match(rb"ma OK \[APPENDUID \d+ 1:2\]", tagged), tagged
        _, u = c.cmd("s", "SELECT INBOX")
        assert b"* 2 EXISTS" in u


def test_check_and_noop_in_selected_state(env, user):
    with login(env, user) as c:
        c.cmd("s", "SELECT INBOX")
        assert c.cmd("a", "CHECK")[0].startswith(b"a OK")
        assert c.cmd("b", "NOOP")[0].startswith(b"b OK")


def test_rfc3501_7_4_1_other_sessions_changes_reported(env, user):
    a, b = login(env, user), login(env, user)
    try:
        append(a, "INBOX", MSG)
        append(a, "INBOX", MSG.replace(b"m1@", b"m2@"))
        a.cmd("s", "SELECT INBOX")
        b.cmd("s", "SELECT INBOX")
        # New message from b's side: a learns EXISTS at NOOP.
        append(b, "INBOX", MSG.replace(b"m1@", b"m3@"))
        _, u = a.cmd("n1", "NOOP")
        assert b"* 3 EXISTS" in u, u
        # A flag change by b shows up as FETCH in a.
        b.cmd("f", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        _, u = a.cmd("n2", "NOOP")
        assert any(x.startswith(b"* 2 FETCH (FLAGS (\\Flagged") for x in u), u
        # b expunges message 1; a is not told during FETCH (§7.4.1) ...
        b.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.cmd("x", "EXPUNGE")
        _, u = a.cmd("f1", "FETCH 1:* (UID)")
        assert not any(b"EXPUNGE" in x for x in u), u
        # ... but at NOOP, and the numbering then moves.
        _, u = a.cmd("n3", "NOOP")
        assert b"* 1 EXPUNGE" in u, u
        _, u = a.cmd("f2", "FETCH 1:* (UID)")
        assert u == [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 3)"], u
    finally:
        a.close()
        b.close()


def test_rfc3501_2_3_2_recent_goes_to_exactly_one_session(env, user):
    a, b = login(env, user), login(env, user)
    try:
        append(a, "INBOX", MSG)
        _, ua = a.cmd("s", "SELECT INBOX")
        _, ub = b.cmd("s", "SELECT INBOX")
        assert b"* 1 RECENT" in ua and b"* 0 RECENT" in ub
        # A new message: whichever session learns of it first claims it.
        a.send(b"ap APPEND INBOX {%d}\r\n" % len(MSG))
        a.expect_continuation()
        a.send(MSG + b"\r\n")
        _, ua = a.read_tagged("ap")      # a is told at once (EXISTS, RECENT)
        _, ub = b.cmd("n", "NOOP")
        assert b"* 2 EXISTS" in ua and b"* 2 EXISTS" in ub
        assert b"* 2 RECENT" in ua and b"* 0 RECENT" in ub, (ua, ub)
        _, u = a.cmd("f", "FETCH 2 (FLAGS)")
        assert u == [b"* 2 FETCH (FLAGS (\\Recent))"]
        _, u = b.cmd("f", "FETCH 2 (FLAGS)")
        assert u == [b"* 2 FETCH (FLAGS ())"]
    finally:
        a.close()
        b.close()


def test_concurrent_expunge_while_other_fetches(env, user):
    """Two sessions, one expunging while the other fetches: the fetching
    session's numbers stay consistent and it never sees a gap."""
    a, b = login(env, user), login(env, user)
    try:
        for i in range(20):
            append(a, "INBOX", MSG.replace(b"m1@", f"c{i}@".encode()))
        a.cmd("s", "SELECT INBOX")
        b.cmd("s", "SELECT INBOX")
        b.cmd("d", "STORE 1:10 +FLAGS.SILENT (\\Deleted)")
        b.send(b"x EXPUNGE\r\n")
        for i in range(5):
            tagged, u = a.cmd(f"f{i}", "FETCH 1:* (UID)")
            assert tagged.startswith(f"f{i} OK".encode())
            # Unsolicited FETCH (FLAGS) of b's STORE may come too; the
            # answers to this FETCH are the ones with a UID.
            msns = [int(x.split()[1]) for x in u if b" FETCH (UID " in x]
            assert msns == sorted(msns) and len(set(msns)) == len(msns)
        b.read_tagged("x")
        _, u = a.cmd("n", "NOOP")
        assert sum(1 for x in u if x.endswith(b"EXPUNGE")) == 10, u
        _, u = a.cmd("g", "FETCH 1:* (UID)")
        assert [int(x.split()[4].rstrip(b")")) for x in u] == list(range(11, 21))
    finally:
        a.close()
        b.close()


def test_large_fetch_is_streamed_to_a_slow_reader(env, user):
    """A FETCH whose response is far larger than the output bound reaches a
    client that reads slowly, complete and in order."""
    big = MSG.replace(b"Body line two.", b"x" * 200000)
    with login(env, user) as c:
        for i in range(15):
            c.send(f"a{i} APPEND INBOX {{{len(big)}+}}\r\n".encode() + big + b"\r\n")
        for i in range(15):
            assert c.read_tagged(f"a{i}")[0].startswith(f"a{i} OK".encode())
        c.cmd("s", "SELECT INBOX")
        c.send(b"f FETCH 1:* (BODY.PEEK[])\r\n")
        import time
        time.sleep(1.0)      # let the server hit its bound
        count = 0
        while True:
            resp = c.read_response(timeout=30)
            if resp.startswith(b"f "):
                assert resp.startswith(b"f OK")
                break
            assert resp.startswith(f"* {count + 1} FETCH".encode())
            assert resp.endswith(big + b")")
            count += 1
        assert count == 15


def test_rfc4315_copy_returns_copyuid_and_shares_content(env, user):
    with login(env, user) as c:
        for i in range(4):
            append(c, "INBOX", MSG.replace(b"m1@", f"k{i}@".encode()), flags="\\Flagged")
        c.cmd("s", "SELECT INBOX")
        tagged, _ = c.cmd("a", "COPY 1,3:4 Archive")
        m = re.match(rb"a OK \[COPYUID (\d+) 1,3:4 1:3\]", tagged)
        assert m, tagged
        tagged, _ = c.cmd("b", "UID COPY 2 Archive")
        assert re.match(rb"b OK \[COPYUID \d+ 2 4\]", tagged), tagged
        tagged, _ = c.cmd("c", "COPY 1 NoSuchBox")
        assert tagged.startswith(b"c NO [TRYCREATE]"), tagged
        c.cmd("x", "EXAMINE Archive")
        _, u = c.cmd("f", "FETCH 1:* (UID FLAGS)")
        assert len(u) == 4 and all(b"\\Flagged" in x for x in u), u
    # Single instance: the four copies and the originals share content rows.
    out = env.pg.psql(
        "SELECT count(DISTINCT mm.message_id), count(*) FROM mailbox_messages mm"
        " JOIN mailboxes mb ON mb.id = mm.mailbox_id JOIN accounts a ON a.id = mb.owner_id"
        f" WHERE a.login = '{user}'")
    assert out.split() == ["4", "8"] or out.replace("|", " ").split() == ["4", "8"], out


def test_rfc6851_move(env, user):
    with login(env, user) as c:
        for i in range(3):
            append(c, "INBOX", MSG.replace(b"m1@", f"v{i}@".encode()))
        c.cmd("s", "SELECT INBOX")
        tagged, u = c.cmd("m", "MOVE 1:2 Trash")
        assert tagged.startswith(b"m OK"), tagged
        assert re.match(rb"\* OK \[COPYUID \d+ 1:2 1:2\]", u[0]), u
        assert u[1:] == [b"* 1 EXPUNGE", b"* 1 EXPUNGE"], u
        tagged, u = c.cmd("n", "UID MOVE 3 Trash")
        assert re.match(rb"\* OK \[COPYUID \d+ 3 3\]", u[0]), u
        assert u[1:] == [b"* 1 EXPUNGE"], u
        _, u = c.cmd("s2", "STATUS Trash (MESSAGES)")
        assert b"(MESSAGES 3)" in u[0], u


def test_rfc3516_binary_append_and_fetch(env, user):
    """APPEND of a literal8 with a NUL, then BINARY[1] decodes a base64 part
    and BINARY.SIZE gives its decoded size; BODY[] never carries the NUL."""
    raw = (b"From: a@example.org\r\nSubject: bin\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n"
           b"AAECA2hp\r\n")                       # \x00\x01\x02\x03hi
    with login(env, user) as c:
        _, u = c.cmd("c", "CAPABILITY")
        assert b"BINARY" in u[0].split()
        c.send(f"a APPEND INBOX ~{{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
        assert c.read_tagged("a")[0].startswith(b"a OK [APPENDUID")
        c.cmd("s", "SELECT INBOX")
        _, u = c.cmd("f", "FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])")
        assert b"BINARY[1] ~{6}\r\n\x00\x01\x02\x03hi" in u[0], u
        assert b"BINARY.SIZE[1] 6" in u[0], u
