"""RFC 4469 CATENATE: APPEND of a message built from literal text and
IMAP URLs (RFC 5092) to messages the user may read, over a real socket.

What a client sees: the new message's bytes (FETCH BODY[]), APPENDUID,
and NO [BADURL <url>] / NO [TOOBIG] / BAD for what cannot be built."""

import re

import pytest

import imapclient
from imapclient import ok

SRC = (b"From: alice@example.org\r\nSubject: source\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
       b"--BB\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
       b"--BB\r\nContent-Type: application/octet-stream\r\n\r\nsecond part\r\n"
       b"--BB--\r\n")


def login(env, user):
    return imapclient.login(env.imap_port, user)


def lit(data):
    """A non-synchronising literal (LITERAL+, RFC 7888)."""
    return b"{%d+}\r\n" % len(data) + data


def url(u):
    return b'URL "' + u.encode() + b'"'


def text(data):
    return b"TEXT " + lit(data)


def catenate(*parts):
    return b"CATENATE (" + b" ".join(parts) + b")"


def append_raw(c, mailbox, *messages, tag="ap"):
    """APPEND mailbox followed by the given append-data pieces; returns
    the tagged line."""
    c.send(f"{tag} APPEND {mailbox} ".encode() + b" ".join(messages) + b"\r\n")
    tagged, _ = c.read_tagged(tag)
    return tagged


def append_ok(c, mailbox, *messages):
    """APPEND that must succeed; returns the new UID (set) as text."""
    tagged = append_raw(c, mailbox, *messages)
    assert tagged.startswith(b"ap OK [APPENDUID "), tagged
    return appenduid(tagged)[1]


def body_of(c, uid):
    u = ok(c, f"UID FETCH {uid} (BODY.PEEK[])")
    m = re.search(rb"BODY\[\] \{(\d+)\}\r\n", u[0])
    assert m, u
    return u[0][m.end():m.end() + int(m.group(1))]


def appenduid(tagged):
    m = re.search(rb"\[APPENDUID (\d+) (\d+(?::\d+)?)\]", tagged)
    assert m, tagged
    return int(m.group(1)), m.group(2).decode()


@pytest.fixture
def user(env):
    return env.new_user("cat")


@pytest.fixture
def source(env, user):
    """(uidvalidity, uid) of SRC appended to the user's INBOX."""
    with login(env, user) as c:
        tagged = append_raw(c, "INBOX", lit(SRC))
        assert tagged.startswith(b"ap OK"), tagged
        uv, uid = appenduid(tagged)
        return uv, int(uid)


def test_rfc4469_capability(env, user):
    with login(env, user) as c:
        assert b"CATENATE" in ok(c, "CAPABILITY")[0].split()


def test_rfc4469_3_text_and_url_parts(env, user, source):
    uv, uid = source
    with login(env, user) as c:
        ok(c, "CREATE Later")
        new = append_ok(c, "Later", b"(\\Draft)", catenate(
            text(b"From: bob@example.org\r\nSubject: fwd\r\n\r\nSee below.\r\n"),
            url(f"/INBOX;UIDVALIDITY={uv}/;UID={uid}/;SECTION=1"),
            text(b"\r\n-- \r\n"),
            url(f"/inbox;uidvalidity={uv}/;uid={uid}/;section=HEADER.FIELDS%20(SUBJECT)")))
        ok(c, "SELECT Later")
        assert body_of(c, new) == (b"From: bob@example.org\r\nSubject: fwd\r\n\r\nSee below.\r\n"
                                   b"first part\r\n-- \r\nSubject: source\r\n\r\n")
        # Flags are those of the APPEND; the new message is parsed as any other.
        u = ok(c, f"UID FETCH {new} (FLAGS ENVELOPE)")
        assert b"\\Draft" in u[0] and b'"fwd"' in u[0], u


def test_rfc4469_3_whole_message_mime_header_and_partial(env, user, source):
    uv, uid = source
    with login(env, user) as c:
        whole = append_ok(c, "INBOX", catenate(url(f"/INBOX;UIDVALIDITY={uv}/;UID={uid}")))
        parts = append_ok(c, "INBOX", catenate(
            text(b"Subject: parts\r\n\r\n"),
            url(f"/INBOX/;UID={uid}/;SECTION=2.MIME"),
            url(f"/INBOX/;UID={uid}/;SECTION=2/;PARTIAL=7.4"),
            url(f"/INBOX/;UID={uid}/;SECTION=2/;PARTIAL=7"),
            # A huge PARTIAL length takes what there is; an offset past
            # the end takes nothing (RFC 5092 §3.4 partial-range).
            url(f"/INBOX/;UID={uid}/;SECTION=1/;PARTIAL=0.4294967295"),
            url(f"/INBOX/;UID={uid}/;SECTION=1/;PARTIAL=4294967295.1")))
        ok(c, "SELECT INBOX")
        assert body_of(c, whole) == SRC
        assert body_of(c, parts) == (b"Subject: parts\r\n\r\n"
                                     b"Content-Type: application/octet-stream\r\n\r\n"
                                     b"partpartfirst part")


def test_rfc4469_3_relative_url_in_the_selected_mailbox(env, user, source):
    _, uid = source
    with login(env, user) as c:
        ok(c, "SELECT INBOX")
        tagged = append_raw(c, "INBOX", catenate(text(b"Subject: r\r\n\r\n"),
                                                 url(f";UID={uid}/;SECTION=TEXT")))
        assert tagged.startswith(b"ap OK"), tagged
        _, new = appenduid(tagged)
        assert body_of(c, new).startswith(b"Subject: r\r\n\r\n--BB\r\n")
    with login(env, user) as c:
        # Nothing selected: a relative URL has no base.
        tagged = append_raw(c, "INBOX", catenate(url(f";UID={uid}")))
        assert tagged.startswith(f'ap NO [BADURL ;UID={uid}]'.encode()), tagged


def test_rfc3502_multiappend_with_catenate(env, user, source):
    uv, uid = source
    with login(env, user) as c:
        tagged = append_raw(c, "INBOX", lit(b"Subject: one\r\n\r\n1\r\n"),
                            b"(\\Seen)", catenate(url(f"/INBOX;UIDVALIDITY={uv}/;UID={uid}")),
                            catenate(text(b"Subject: three\r\n\r\n3\r\n")))
        assert tagged.startswith(b"ap OK"), tagged
        _, uids = appenduid(tagged)
        lo, hi = map(int, uids.split(":"))
        assert hi - lo == 2
        ok(c, "SELECT INBOX")
        assert body_of(c, lo + 1) == SRC
        assert body_of(c, hi) == b"Subject: three\r\n\r\n3\r\n"
        u = ok(c, f"UID FETCH {lo + 1} (FLAGS)")
        assert b"\\Seen" in u[0], u
        # All or none (RFC 3502): one bad URL stores nothing.
        _, before = c.cmd("s", "STATUS INBOX (MESSAGES)")
        tagged = append_raw(c, "INBOX", lit(b"Subject: x\r\n\r\nx\r\n"),
                            catenate(url(f"/INBOX/;UID={hi + 100}")))
        assert tagged.startswith(b"ap NO [BADURL "), tagged
        _, after = c.cmd("s", "STATUS INBOX (MESSAGES)")
        assert before == after


@pytest.mark.parametrize("bad, why", [
    ("/INBOX;UIDVALIDITY={wrong}/;UID={uid}", "another UIDVALIDITY"),
    ("/INBOX/;UID={missing}", "no such UID"),
    ("/INBOX/;UID={uid}/;SECTION=9", "no such part"),
    ("/INBOX/;UID={uid}/;SECTION=1.2.3.4", "no such part"),
    ("/NoSuchBox/;UID={uid}", "no such mailbox"),
    ("/INBOX", "no UID"),
    ("/INBOX/;UID=0", "UID 0"),
    ("/INBOX/;UID=4294967296", "UID overflow"),
    ("/INBOX;UIDVALIDITY=x/;UID={uid}", "bad UIDVALIDITY"),
    ("/INBOX/;UID={uid}/;PARTIAL=1.0", "zero length"),
    ("/INBOX/;UID={uid}/;PARTIAL=4294967296", "partial overflow"),
    ("/INBOX/;UID={uid}/;SECTION=1]<0.5>", "section with brackets"),
    ("/INBOX/;UID={uid}/;SECTION=BOGUS", "bad section"),
    ("/INBOX/;UID={uid}/junk", "trailing text"),
    ("/IN%ZZBOX/;UID={uid}", "bad percent escape"),
    ("/IN%00BOX/;UID={uid}", "NUL in the name"),
    ("/%FF/;UID={uid}", "not UTF-8"),
    ("imap://localhost/INBOX/;UID={uid}", "a server in the URL"),
    ("/../INBOX/;UID={uid}", "a dot-dot level"),
    ("x" * 3000, "too long"),
])
def test_rfc4469_5_badurl(env, user, source, bad, why):
    uv, uid = source
    u = bad.format(wrong=uv + 1, uid=uid, missing=uid + 1000)
    with login(env, user) as c:
        tagged = append_raw(c, "INBOX", catenate(text(b"Subject: x\r\n\r\n"), url(u)))
        assert tagged.startswith(b"ap NO [BADURL "), (why, tagged)
        echoed = tagged[len(b"ap NO [BADURL "):tagged.index(b"]", len(b"ap NO [BADURL "))]
        assert b"\r" not in echoed and len(echoed) <= 2048
        if "]" not in u and len(u) < 2048:
            assert echoed == u.encode(), (why, tagged)
        _, s = c.cmd("s", "STATUS INBOX (MESSAGES)")
        assert s == [b"* STATUS INBOX (MESSAGES 1)"], s


@pytest.mark.parametrize("args", [
    b"CATENATE ()",
    b"CATENATE (TEXT)",
    b"CATENATE (FOO \"x\")",
    b'CATENATE (TEXT "not a literal")',
    b"CATENATE (URL (a list))",
    b"CATENATE",
])
def test_rfc4469_3_grammar_errors_are_bad(env, user, args):
    with login(env, user) as c:
        tagged = append_raw(c, "INBOX", args)
        assert tagged.startswith(b"ap BAD"), (args, tagged)


def test_rfc4314_4_other_users_mailbox_needs_the_r_right(env, user, source):
    """A URL to another user's mailbox works only with "r" there, and a
    refusal is the same BADURL as for a mailbox that does not exist."""
    uv, uid = source
    bob = env.new_user("catb")
    theirs = f"/Other%20Users/{user}/;UID={uid}"
    missing = f"/Other%20Users/{user}/Nothing/;UID={uid}"
    with login(env, bob) as b:
        t1 = append_raw(b, "INBOX", catenate(url(theirs)))
        t2 = append_raw(b, "INBOX", catenate(url(missing)))
        assert t1.startswith(b"ap NO [BADURL ") and t2.startswith(b"ap NO [BADURL "), (t1, t2)
        assert t1.split(b"] ", 1)[1] == t2.split(b"] ", 1)[1]
        with login(env, user) as a:
            ok(a, f"SETACL INBOX {bob} l")
            assert append_raw(b, "INBOX", catenate(url(theirs))).startswith(b"ap NO [BADURL ")
            ok(a, f"SETACL INBOX {bob} lr")
        tagged = append_raw(b, "INBOX", catenate(
            url(f"/Other%20Users/{user};UIDVALIDITY={uv}/;UID={uid}/;SECTION=1")))
        assert tagged.startswith(b"ap OK"), tagged
        _, new = appenduid(tagged)
        ok(b, "SELECT INBOX")
        assert body_of(b, new) == b"first part"
        # Nor can bob write there through CATENATE: APPEND's own "i" check.
        tagged = append_raw(b, f'"Other Users/{user}"', catenate(text(b"Subject: x\r\n\r\n")))
        assert tagged.startswith(b"ap NO"), tagged


def test_rfc4469_5_toobig(env, user):
    big = b"Subject: big\r\n\r\n" + b"x" * (2038 - 16)
    with login(env, user) as c:
        uv, uid = appenduid(append_raw(c, "INBOX", lit(big)))
    too_many = [text(b"x")] * 101
    with login(env, user) as c:
        tagged = append_raw(c, "INBOX", catenate(*too_many))
        assert tagged.startswith(b"ap NO [TOOBIG]"), tagged
        assert append_raw(c, "INBOX", catenate(*too_many[:100])).startswith(b"ap OK")
    k = env.start_kairand(max_literal_size="2048")
    try:
        with imapclient.login(k.imap_port, user) as c:
            whole = url(f"/INBOX;UIDVALIDITY={uv}/;UID={uid}")
            assert append_raw(c, "INBOX", catenate(whole, text(b"0123456789"))).startswith(b"ap OK")
            # One byte over APPENDLIMIT.
            tagged = append_raw(c, "INBOX", catenate(whole, text(b"0123456789x")))
            assert tagged.startswith(b"ap NO [TOOBIG]"), tagged
            tagged = append_raw(c, "INBOX", catenate(text(b"12345"), whole))
            assert tagged.startswith(b"ap OK"), tagged
            tagged = append_raw(c, "INBOX", catenate(text(b"12345678901"), whole))
            assert tagged.startswith(b"ap NO [TOOBIG]"), tagged
            # The URL parts of one command fetch at most APPENDLIMIT in all.
            tagged = append_raw(c, "INBOX", catenate(whole), catenate(whole))
            assert tagged.startswith(b"ap NO [TOOBIG]"), tagged
    finally:
        k.stop()
