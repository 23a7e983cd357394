"""FETCH of a message's own header reads the header alone (DB_FETCH_HEADER,
docs/architecture.md "Big messages"): BODY[HEADER], BODY[HEADER.FIELDS
(...)], BODY[HEADER.FIELDS.NOT (...)] and RFC822.HEADER (RFC 3501 §6.4.5)
are answered from the first bytes of the stored message, as far as the part
map says the header goes, so a client listing new mail (Thunderbird asks
for BODY.PEEK[HEADER.FIELDS (...)] of every new message) does not make
kairand read a 30 MiB attachment. Each answer must be the same as when the
whole message is read: a FETCH that also asks for a body section reads it
whole, and the test compares the two."""

import re

import pytest

from imapclient import login, ok
from test_big_append import MiB, append_big, appenduid, sanitized, status

HEADER = (b"From: Carol <carol@example.org>\r\nTo: team@example.org\r\n"
          b"Subject: header only\r\nX-Long: " + b"x" * 3000 + b"\r\n"
          b"Message-ID: <h1@example.org>\r\nMIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n")
BODY = (b"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        b"--b1\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: inner\r\nFrom: inner@example.org\r\n\r\ninner body\r\n"
        b"--b1--\r\n")
MESSAGE = HEADER + BODY


def literal_after(untagged, name):
    """The bytes of the literal that follows `name` in the FETCH responses."""
    for u in untagged:
        i = u.find(name + b" {")
        if i >= 0:
            m = re.match(rb"\{(\d+)\}\r\n", u[i + len(name) + 1:])
            start = i + len(name) + 1 + m.end()
            return u[start:start + int(m.group(1))]
    raise AssertionError((name, untagged))


@pytest.fixture
def one_message(env):
    user = env.new_user("hdronly")
    with login(env.imap_port, user) as c:
        c.send(b"a APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE + b"\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a OK"), tagged
        ok(c, "SELECT INBOX")
        yield c


@pytest.mark.parametrize("item, name, expect", [
    ("BODY.PEEK[HEADER]", b"BODY[HEADER]", HEADER),
    ("RFC822.HEADER", b"RFC822.HEADER", HEADER),
    ("BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]", b"BODY[HEADER.FIELDS (SUBJECT FROM)]",
     b"From: Carol <carol@example.org>\r\nSubject: header only\r\n\r\n"),
    ("BODY.PEEK[HEADER.FIELDS.NOT (X-LONG CONTENT-TYPE MIME-VERSION MESSAGE-ID)]",
     b"BODY[HEADER.FIELDS.NOT (X-LONG CONTENT-TYPE MIME-VERSION MESSAGE-ID)]",
     b"From: Carol <carol@example.org>\r\nTo: team@example.org\r\n"
     b"Subject: header only\r\n\r\n"),
    ("BODY.PEEK[HEADER]<6.5>", b"BODY[HEADER]<6>", HEADER[6:11]),
])
def test_rfc3501_6_4_5_header_sections_read_alone_match_the_message(one_message, item, name,
                                                                      expect):
    c = one_message
    alone = literal_after(ok(c, f"FETCH 1 ({item})"), name)
    assert alone == expect
    # With a section that needs the whole message in the same FETCH.
    whole = ok(c, f"FETCH 1 ({item} BODY.PEEK[TEXT])")
    assert literal_after(whole, name) == expect
    assert literal_after(whole, b"BODY[TEXT]") == BODY


def test_rfc3501_6_4_5_nested_header_still_reads_the_message(one_message):
    """BODY[2.HEADER] is the header of the attached message, deeper in the
    bytes: it is not the message's own header, so the message is read
    whole."""
    got = literal_after(ok(one_message, "FETCH 1 (BODY.PEEK[2.HEADER])"), b"BODY[2.HEADER]")
    assert got == b"Subject: inner\r\nFrom: inner@example.org\r\n\r\n"


def test_rfc8970_lazy_preview_with_header_only_is_never_made_from_the_header(one_message):
    """PREVIEW (LAZY) beside a header section: the preview is the text's
    (or NIL, which LAZY allows), never computed from header bytes alone."""
    untagged = ok(one_message, "FETCH 1 (PREVIEW (LAZY) BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    line = b"".join(untagged)
    m = re.search(rb'PREVIEW (NIL|"[^"]*"|\{\d+\}\r\n)', line)
    assert m, line
    assert m.group(1) in (b"NIL", b'"hello"'), line


def test_header_of_a_30mib_message_is_read_without_its_body(env):
    """kairand's peak resident size does not take the 30 MiB body when a
    client asks for the header fields only (a fresh kairand, so nothing
    else moved its peak)."""
    k = env.start_kairand(workers="2")
    try:
        user = env.new_user("hdrbig")
        with login(k.imap_port, user) as c:
            tagged, _ = append_big(c, "INBOX", 7, 30 * MiB)
            uid = appenduid(tagged)
            ok(c, "SELECT INBOX")
            before = status(k.pid)["VmHWM"]
            for i in range(3):
                got = literal_after(ok(c, f"UID FETCH {uid} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"),
                                    b"BODY[HEADER.FIELDS (SUBJECT)]")
                assert got == b"Subject: big 7\r\n\r\n"
            after = status(k.pid)["VmHWM"]
        if not sanitized(env):
            assert after - before < 8 * 1024, (before, after)
    finally:
        k.stop()
