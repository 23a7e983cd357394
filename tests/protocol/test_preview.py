"""RFC 8970 PREVIEW: FETCH PREVIEW and PREVIEW (LAZY), over a real socket.

What a client sees: the start of the message's first text part, decoded,
converted to UTF-8, HTML reduced to its text, white space collapsed, at
most 256 characters; "" when there is no text to preview (RFC 8970 §3.1,
example in §5: "" is "no preview", NIL is "not available now"); for rows
stored before migrations/0015, NIL under LAZY and the computed preview
without it."""

import base64
import re

import pytest

import imapclient
from imapclient import ok


def login(env, user):
    return imapclient.login(env.imap_port, user)


def append(c, raw, mailbox="INBOX", tag="ap"):
    c.send(f"{tag} APPEND {mailbox} {{{len(raw)}}}\r\n".encode())
    c.expect_continuation()
    c.send(raw + b"\r\n")
    tagged, _ = c.read_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), tagged


STRING = rb'PREVIEW (NIL|"((?:[^"\\]|\\.)*)"|\{(\d+)\}\r\n)'


def preview_of(resp):
    """The PREVIEW value of one FETCH response: None for NIL, else text."""
    m = re.search(STRING, resp, re.S)
    assert m, resp
    if m.group(1) == b"NIL":
        return None
    if m.group(3) is not None:
        start = m.end()
        return resp[start:start + int(m.group(3))].decode()
    return re.sub(rb"\\(.)", rb"\1", m.group(2)).decode()


def previews(c, what="1:*", item="PREVIEW"):
    return [preview_of(r) for r in ok(c, f"FETCH {what} ({item})") if b" FETCH " in r]


def msg(headers, body):
    return headers.encode() + b"\r\n\r\n" + body


@pytest.fixture
def user(env):
    return env.new_user("prev")


def test_rfc8970_capability(env, user):
    with login(env, user) as c:
        caps = ok(c, "CAPABILITY")[0].split()
        assert b"PREVIEW" in caps


def test_rfc8970_3_plain_text_whitespace_normalised(env, user):
    with login(env, user) as c:
        append(c, msg("Subject: hi", b"  Hello\r\n\r\n   world,\tthis  is\r\na test.  \r\n"))
        ok(c, "SELECT INBOX")
        assert previews(c) == ["Hello world, this is a test."]
        # Quoting: a double quote and a backslash survive the string.
        append(c, msg("Subject: q", b'He said "C:\\temp" twice.\r\n'))
        assert previews(c, "2") == ['He said "C:\\temp" twice.']


def test_rfc8970_3_html_only_reduced_to_text(env, user):
    html = (b"<html><head><style>p { color: red }</style><title>T</title></head>"
            b"<body><p>Dear&nbsp;team,</p><p>the <b>report</b> is &amp; was late.</p>"
            b"<script>alert(1)</script></body></html>")
    with login(env, user) as c:
        append(c, msg("Subject: h\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8",
                      html))
        ok(c, "SELECT INBOX")
        assert previews(c) == ["Dear team, the report is & was late."]


def multipart(subtype, boundary, *parts):
    """A multipart body: each part is (header lines, body)."""
    out = b"Content-Type: multipart/%s; boundary=%s\r\n\r\n" % (subtype, boundary)
    for head, body in parts:
        out += b"--%s\r\n%s\r\n\r\n%s\r\n" % (boundary, head, body)
    return out + b"--%s--\r\n" % boundary


def test_rfc8970_3_multipart_alternative_prefers_plain(env, user):
    raw = b"Subject: alt\r\nMIME-Version: 1.0\r\n" + multipart(
        b"alternative", b"XX", (b"Content-Type: text/html", b"<p>the html</p>"),
        (b"Content-Type: text/plain", b"the plain text"))
    with login(env, user) as c:
        append(c, raw)
        ok(c, "SELECT INBOX")
        assert previews(c) == ["the plain text"]


def test_rfc8970_3_first_text_part_not_attachment(env, user):
    alt = multipart(b"alternative", b"YY", (b"Content-Type: text/html", b"<p>only <i>html</i> here</p>"))
    head, body = alt.split(b"\r\n\r\n", 1)
    raw = b"Subject: mixed\r\nMIME-Version: 1.0\r\n" + multipart(
        b"mixed", b"XX",
        (b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt",
         b"attached notes"),
        (head, body))
    with login(env, user) as c:
        append(c, raw)
        ok(c, "SELECT INBOX")
        assert previews(c) == ["only html here"]


def test_rfc8970_3_base64_and_quoted_printable_decoded(env, user):
    b64 = base64.encodebytes("Grüße aus Köln".encode("utf-8"))
    qp = b"caf=C3=A9 au lait, soft=\r\nbreak\r\n"
    with login(env, user) as c:
        append(c, msg("Subject: b\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: base64", b64))
        append(c, msg("Subject: q\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable", qp))
        ok(c, "SELECT INBOX")
        assert previews(c) == ["Grüße aus Köln", "café au lait, softbreak"]


def test_rfc8970_3_other_charsets_converted_to_utf8(env, user):
    with login(env, user) as c:
        append(c, msg("Subject: l\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=iso-8859-1", "Ça coûte 5 €?".encode("latin-1", "replace")))
        append(c, msg("Subject: k\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=koi8-r", "Привет, мир".encode("koi8-r")))
        ok(c, "SELECT INBOX")
        assert previews(c) == ["Ça coûte 5 ??", "Привет, мир"]


def test_rfc8970_3_cut_at_256_characters_on_a_character_boundary(env, user):
    # 300 three-byte characters: a byte cut at 256 would split one.
    text = "€" * 300
    with login(env, user) as c:
        append(c, msg("Subject: long\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8", text.encode()))
        words = " ".join(["word"] * 100)   # spaces count as characters too
        append(c, msg("Subject: words", words.encode()))
        ok(c, "SELECT INBOX")
        p = previews(c)
        assert p[0] == "€" * 256
        assert len(p[1]) <= 256 and words.startswith(p[1]) and not p[1].endswith(" ")
        assert len(p[1]) >= 255


def test_rfc8970_3_1_no_text_part_is_empty_string(env, user):
    raw = (b"Subject: pic\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"iVBORw0KGgo=\r\n")
    with login(env, user) as c:
        append(c, raw)
        append(c, msg("Subject: blank", b"   \r\n\t\r\n"))
        ok(c, "SELECT INBOX")
        assert previews(c) == ["", ""]
        assert previews(c, item="PREVIEW (LAZY)") == ["", ""]


def test_rfc8970_3_1_lazy_forms_and_bad_modifiers(env, user):
    with login(env, user) as c:
        append(c, msg("Subject: a", b"alpha"))
        ok(c, "SELECT INBOX")
        # The bare form: modifiers right after PREVIEW, outside a list.
        u = ok(c, "FETCH 1 PREVIEW (LAZY)")
        assert preview_of(u[0]) == "alpha"
        u = ok(c, "UID FETCH 1 (UID PREVIEW (LAZY) FLAGS)")
        assert preview_of(u[0]) == "alpha" and b"FLAGS (" in u[0], u
        for bad in ["FETCH 1 (PREVIEW (FUZZY))", "FETCH 1 (PREVIEW ())",
                    "FETCH 1 PREVIEW (LAZY FOO)"]:
            tagged, _ = c.cmd("b", bad)
            assert tagged.startswith(b"b BAD"), (bad, tagged)
        # PREVIEW does not set \Seen (it is no BODY[]).
        assert b"\\Seen" not in ok(c, "FETCH 1 (FLAGS)")[0]


def test_rfc8970_3_1_rows_stored_before_the_preview_column(env, user):
    """Migration 0015 leaves old rows with preview NULL: LAZY answers NIL
    (RFC 8970 §3.1: the client may ask again later), a plain PREVIEW
    computes it from the stored bytes and stores it."""
    with login(env, user) as c:
        append(c, msg("Subject: old", b"an  old\r\nmessage"))
        append(c, msg("Subject: old2", b"<not html>"))
    env.pg.psql("UPDATE messages m SET preview = NULL, mime_version = 2"
                " FROM mailbox_messages mm JOIN mailboxes b ON b.id = mm.mailbox_id"
                " JOIN accounts a ON a.id = b.owner_id"
                f" WHERE mm.message_id = m.id AND a.login = '{user}'")
    with login(env, user) as c:
        ok(c, "SELECT INBOX")
        assert previews(c, item="PREVIEW (LAZY)") == [None, None]
        assert previews(c, "1") == ["an old message"]
        # Stored: LAZY now has it for message 1, not yet for message 2.
        assert previews(c, item="PREVIEW (LAZY)") == ["an old message", None]
        # With the bytes fetched anyway, LAZY computes it too.
        u = ok(c, "FETCH 2 (PREVIEW (LAZY) BODY.PEEK[TEXT])")
        assert preview_of(u[0]) == "<not html>"
    stored = env.pg.psql("SELECT m.preview FROM messages m"
                         " JOIN mailbox_messages mm ON mm.message_id = m.id"
                         " JOIN mailboxes b ON b.id = mm.mailbox_id"
                         " JOIN accounts a ON a.id = b.owner_id"
                         f" WHERE a.login = '{user}' ORDER BY mm.uid").split("\n")
    assert stored[0].strip() == "an old message", stored


def test_rfc8970_3_1_old_rows_reanalysed_by_the_indexer(env, user):
    """MIME version 3 makes every older row stale: the indexer rewrites
    it, preview included, so LAZY finds it without any FETCH computing it."""
    import time
    with login(env, user) as c:
        append(c, msg("Subject: old", b"reanalysed text"))
    env.pg.psql("UPDATE messages m SET preview = NULL, mime_version = 2"
                " FROM mailbox_messages mm JOIN mailboxes b ON b.id = mm.mailbox_id"
                " JOIN accounts a ON a.id = b.owner_id"
                f" WHERE mm.message_id = m.id AND a.login = '{user}'")
    k = env.start_kairand(search_index_quiet_ms="0")
    try:
        deadline = time.time() + 20
        with imapclient.login(k.imap_port, user) as c:
            ok(c, "EXAMINE INBOX")
            while previews(c, item="PREVIEW (LAZY)") != ["reanalysed text"] and time.time() < deadline:
                time.sleep(0.2)
            assert previews(c, item="PREVIEW (LAZY)") == ["reanalysed text"]
    finally:
        k.stop()


def test_rfc8970_3_hostile_bodies(env, user):
    """Control characters and NULs become space, invalid UTF-8 becomes
    U+FFFD, a huge body costs no more than its start, and HTML whose
    text lies beyond what is decoded previews as ""."""
    with login(env, user) as c:
        append(c, msg("Subject: ctl", b"a\x00b\x01c\x1bd\x7fe"))
        append(c, msg("Subject: bad\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8", b"ok \xff\xfe \xe2\x82 end"))
        append(c, msg("Subject: big", b"x" * (4 * 1024 * 1024)))
        append(c, msg("Subject: deep\r\nMIME-Version: 1.0\r\nContent-Type: text/html",
                      b"<p>" + b"<b>" * 200000 + b"late text"))
        ok(c, "SELECT INBOX")
        p = previews(c)
        assert p[0] == "a b c d e"
        assert p[1].startswith("ok ") and p[1].endswith(" end") and "\ufffd" in p[1]
        assert p[2] == "x" * 256
        assert p[3] == ""
