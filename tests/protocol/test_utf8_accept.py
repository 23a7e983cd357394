"""UTF8=ACCEPT (RFC 9755, which replaced RFC 6855) and the downgrade of
UTF-8 header data for the clients that did not enable it (RFC 6855 §7,
RFC 6858).

Each test has accounts of its own (env.new_user). A session that sent
ENABLE UTF8=ACCEPT is "enabled", one that did not is "legacy"; both look at
the same mailboxes, so every name and message is checked through both.
Assertions are on the bytes a client reads."""

import base64
import email.header
import re

from imapclient import login, ok

ENABLE = "ENABLE UTF8=ACCEPT"


def mutf7(name):
    """RFC 3501 §5.1.3, written from the RFC: printable ASCII as itself,
    "&" as "&-", other runs as modified BASE64 of UTF-16BE."""
    out, run = [], ""

    def flush():
        if run:
            b = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b.replace("/", ",") + "-")
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            run = ""
            out.append("&-" if ch == "&" else ch)
        else:
            run += ch
    flush()
    return "".join(out)


def enabled_login(env, user):
    c = login(env.imap_port, user)
    untagged = ok(c, ENABLE, "en")
    assert untagged == [b"* ENABLED UTF8=ACCEPT"], untagged
    return c


def cmd(c, tag, text):
    """A command as bytes (UTF-8 text is sent as UTF-8)."""
    if isinstance(text, str):
        text = text.encode()
    return c.cmd(tag, text)


def expect(c, text, status, code=None, tag="t"):
    tagged, untagged = cmd(c, tag, text)
    want = f"{tag} {status}" + (f" [{code}]" if code else "")
    assert tagged.startswith(want.encode()), (text, tagged, untagged)
    return untagged


def list_names(c, pattern="*", tag="l"):
    """The names of `LIST "" pattern` as the server wrote them (bytes)."""
    untagged = expect(c, f'LIST "" {pattern}', "OK", tag=tag)
    names = []
    for line in untagged:
        m = re.match(rb'\* LIST \([^)]*\) "/" (.*)$', line)
        assert m, line
        names.append(m.group(1))
    return names


def append_literal(c, mailbox, raw, tag="ap"):
    c.send(f"{tag} APPEND {mailbox} {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
    tagged, _ = c.read_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), tagged


# --- IMAP syntax reader (RFC 3501 §4), for ENVELOPE and BODYSTRUCTURE ------

def parse_value(data, i=0):
    """Returns (value, next index): lists as Python lists, strings as
    bytes, NIL as None, atoms and numbers as their bytes."""
    while data[i:i + 1] == b" ":
        i += 1
    c = data[i:i + 1]
    if c == b"(":
        items, i = [], i + 1
        while True:
            while data[i:i + 1] == b" ":
                i += 1
            if data[i:i + 1] == b")":
                return items, i + 1
            v, i = parse_value(data, i)
            items.append(v)
    if c == b'"':
        out, i = b"", i + 1
        while data[i:i + 1] != b'"':
            if data[i:i + 1] == b"\\":
                i += 1
            out += data[i:i + 1]
            i += 1
        return out, i + 1
    if c in (b"{", b"~"):
        j = data.index(b"}\r\n", i)
        n = int(data[i + (2 if c == b"~" else 1):j].rstrip(b"+"))
        return data[j + 3:j + 3 + n], j + 3 + n
    m = re.compile(rb"[^ ()]+").match(data, i)
    word = m.group(0)
    return (None if word.upper() == b"NIL" else word), m.end()


def fetch_item(c, uid, item, tag="f", answer=None):
    """The value of one FETCH data item of one message (`answer`: its
    name in the response, when not the one asked)."""
    untagged = expect(c, f"UID FETCH {uid} ({item})", "OK", tag=tag)
    assert len(untagged) == 1, untagged
    resp = untagged[0]
    answer = answer or item
    at = resp.index(answer.encode() + b" ") + len(answer) + 1
    value, _ = parse_value(resp, at)
    return resp, value


def decoded(word):
    """An RFC 2047 header text as a str."""
    return str(email.header.make_header(email.header.decode_header(word.decode("ascii"))))


# --- §3: capability, ENABLE ---------------------------------------------

def test_capability_advertised_after_login_rfc9755_s3(env):
    user = env.new_user("u8")
    c = login(env.imap_port, user)
    untagged = expect(c, "CAPABILITY", "OK")
    assert b" UTF8=ACCEPT" in untagged[0]
    assert b"UTF8=ONLY" not in untagged[0]
    c.close()


def test_enable_reports_once_rfc5161_s3_2(env):
    c = enabled_login(env, env.new_user("u8"))
    assert expect(c, ENABLE, "OK") == [b"* ENABLED"]
    c.close()


# --- §3: mailbox names in UTF-8 -----------------------------------------

def test_names_are_utf8_after_enable_and_mutf7_before_rfc9755_s3(env):
    user = env.new_user("u8")
    c = enabled_login(env, user)
    legacy = login(env.imap_port, user)
    expect(c, 'CREATE "Été/Bücher"', "OK")
    expect(c, 'CREATE "日本語"', "OK")

    names = list_names(c)
    assert '"Été"'.encode() in names and '"Été/Bücher"'.encode() in names
    assert '"日本語"'.encode() in names
    # The same mailboxes, to a client that did not enable UTF-8.
    old = list_names(legacy)
    assert mutf7("Été/Bücher").encode() in old and mutf7("日本語").encode() in old
    assert all(b < 0x80 for n in old for b in n), old

    # A UTF-8 pattern matches UTF-8 names (RFC 9755 §3 with RFC 3501 §6.3.8).
    assert list_names(c, '"Été/%"') == ['"Été/Bücher"'.encode()]

    expect(c, 'SUBSCRIBE "Été/Bücher"', "OK")
    assert expect(c, 'LSUB "" "Été/*"', "OK") == ['* LSUB () "/" "Été/Bücher"'.encode()]
    untagged = expect(legacy, 'LSUB "" "*"', "OK")
    assert f'* LSUB () "/" {mutf7("Été/Bücher")}'.encode() in untagged, untagged

    untagged = expect(c, 'STATUS "Été/Bücher" (MESSAGES)', "OK")
    assert untagged == ['* STATUS "Été/Bücher" (MESSAGES 0)'.encode()]
    untagged = expect(c, 'SELECT "日本語"', "OK")
    assert b"* 0 EXISTS" in untagged
    expect(c, "CLOSE", "OK")
    expect(c, 'RENAME "日本語" "Été/日本語"', "OK")
    assert list_names(c, '"Été/*"') == ['"Été/Bücher"'.encode(), '"Été/日本語"'.encode()]

    # The legacy session names them in modified UTF-7 (RFC 3501 §5.1.3).
    expect(legacy, f'STATUS "{mutf7("Été/日本語")}" (MESSAGES)', "OK")
    expect(legacy, f'SELECT "{mutf7("Été/Bücher")}"', "OK")
    c.close()
    legacy.close()


def test_ampersand_is_an_ordinary_character_after_enable_rfc9755_s3(env):
    user = env.new_user("u8")
    c = enabled_login(env, user)
    legacy = login(env.imap_port, user)
    expect(c, 'CREATE "Été"', "OK")
    # Modified UTF-7 is no longer decoded: "&AMk-t&AOk-" is not "Été".
    expect(c, 'SELECT "&AMk-t&AOk-"', "NO", "NONEXISTENT")
    expect(c, 'CREATE "R&D"', "OK")
    assert b"R&D" in list_names(c)
    assert b"R&-D" in list_names(legacy)
    expect(legacy, 'SELECT "R&-D"', "OK")
    c.close()
    legacy.close()


def test_search_takes_utf8_with_and_without_charset_after_enable(env):
    # docs/protocol.md: CHARSET UTF-8 stays accepted after ENABLE (RFC
    # 6855 §3's SHOULD-BAD is not followed), and is not needed.
    c = enabled_login(env, env.new_user("u8"))
    append_literal(c, "INBOX", UTF8_MSG)
    expect(c, "EXAMINE INBOX", "OK")
    for text in ('SEARCH SUBJECT "Grüße"', 'SEARCH CHARSET UTF-8 SUBJECT "Grüße"'):
        assert expect(c, text, "OK") == [b"* SEARCH 1"], text
    expect(c, 'SEARCH CHARSET KOI8-R SUBJECT "x"', "NO", "BADCHARSET (UTF-8 US-ASCII)")
    c.close()


def test_8bit_name_refused_before_enable_rfc3501_s5_1_3(env):
    c = login(env.imap_port, env.new_user("u8"))
    expect(c, 'CREATE "Été"', "NO", "CANNOT")
    c.close()


# --- hostile names after ENABLE (RFC 9755 §3, RFC 3629 §4) ------------------

def send_literal_name(c, tag, command, name):
    c.send(f"{tag} {command} {{{len(name)}+}}\r\n".encode() + name + b"\r\n")
    tagged, _ = c.read_tagged(tag)
    return tagged


def test_invalid_utf8_names_are_refused_with_a_code(env):
    c = enabled_login(env, env.new_user("u8"))
    cases = [
        b"caf\xe9",              # Latin-1, not UTF-8
        b"\xc0\xaf",             # overlong "/"
        b"a\xe0\x80\xafb",       # overlong, three bytes
        b"a\xed\xa0\x80b",       # an encoded surrogate
        b"a\xf4\x90\x80\x80",    # above U+10FFFF
        b"trunc\xe6\x97",        # a truncated sequence
        "a\u2028b".encode(),     # LINE SEPARATOR (RFC 9755 §3)
        "a\u0085b".encode(),     # a C1 control
    ]
    for name in cases:
        tagged = send_literal_name(c, "cr", "CREATE", name)
        assert tagged.startswith(b"cr NO [CANNOT]"), (name, tagged)
        tagged = send_literal_name(c, "se", "SELECT", name)
        assert tagged.startswith(b"se NO [NONEXISTENT]"), (name, tagged)
    # Quoted strings carry UTF-8 too (uQUOTED-CHAR), and the same check.
    tagged, _ = cmd(c, "q", b'CREATE "caf\xe9"')
    assert tagged.startswith(b"q NO [CANNOT]"), tagged
    # NUL cannot be in a name (RFC 3629 allows it, a name cannot hold it).
    tagged = send_literal_name(c, "nu", "CREATE", b"a\x00b")
    assert tagged.startswith(b"nu NO [CANNOT]"), tagged
    # Nothing above was created.
    assert sorted(list_names(c)) == [b"Archive", b"Drafts", b"INBOX", b"Junk", b"Sent", b"Trash"]
    c.close()


# --- §4: APPEND with the UTF8 data extension --------------------------------

UTF8_MSG = ("From: Jürgen Müller <juergen@example.org>\r\n"
            "To: δοκιμή@παράδειγμα.δοκιμή, plain@example.org\r\n"
            "Subject: Re: Grüße aus Köln\r\n"
            "Date: Wed, 25 Nov 2026 10:00:00 +0100\r\n"
            "Message-ID: <u8@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo\r\n"
            "--b\r\nContent-Type: application/pdf\r\n"
            "Content-Disposition: attachment; filename=\"Übersicht.pdf\"\r\n\r\n%PDF\r\n"
            "--b--\r\n").encode()


def append_utf8(c, raw, tag="ap", literal=None):
    literal = literal or f"~{{{len(raw)}+}}"
    c.send(f"{tag} APPEND INBOX UTF8 ({literal}\r\n".encode() + raw + b")\r\n")
    return c.read_tagged(tag)[0]


def test_append_utf8_data_extension_rfc9755_s4(env):
    c = enabled_login(env, env.new_user("u8"))
    tagged = append_utf8(c, UTF8_MSG)
    m = re.match(rb"ap OK \[APPENDUID \d+ (\d+)\]", tagged)
    assert m, tagged
    expect(c, "SELECT INBOX", "OK")
    _, body = fetch_item(c, m.group(1).decode(), "BODY[]")
    assert body == UTF8_MSG
    # MULTIAPPEND mixes both forms (RFC 3502 §6 with RFC 9755 §4).
    c.send(f"mm APPEND INBOX UTF8 (~{{{len(UTF8_MSG)}+}}\r\n".encode() + UTF8_MSG +
           f") {{{len(UTF8_MSG)}+}}\r\n".encode() + UTF8_MSG + b"\r\n")
    tagged, _ = c.read_tagged("mm")
    assert re.match(rb"mm OK \[APPENDUID \d+ \d+:\d+\]", tagged), tagged
    c.close()


def test_append_utf8_refused_without_enable_rfc9755_s4(env):
    c = login(env.imap_port, env.new_user("u8"))
    assert append_utf8(c, UTF8_MSG).startswith(b"ap BAD")
    # A plain literal with UTF-8 header fields is taken either way.
    append_literal(c, "INBOX", UTF8_MSG)
    c.close()


def test_append_utf8_needs_a_literal8_rfc9755_s4(env):
    c = enabled_login(env, env.new_user("u8"))
    assert append_utf8(c, UTF8_MSG, literal=f"{{{len(UTF8_MSG)}+}}").startswith(b"ap BAD")
    tagged, _ = cmd(c, "x", 'APPEND INBOX UTF8 ("not a literal")')
    assert tagged.startswith(b"x BAD"), tagged
    tagged, _ = cmd(c, "y", "APPEND INBOX UTF8 ()")
    assert tagged.startswith(b"y BAD"), tagged
    # docs/protocol.md: no UTF8 part inside CATENATE (TEXT does the same).
    c.send(f"z APPEND INBOX CATENATE (UTF8 (~{{{len(UTF8_MSG)}+}}\r\n".encode() + UTF8_MSG +
           b"))\r\n")
    tagged, _ = c.read_tagged("z")
    assert tagged.startswith(b"z BAD"), tagged
    expect(c, "STATUS INBOX (MESSAGES)", "OK")
    c.close()


# --- the downgrade for legacy clients (RFC 6855 §7, RFC 6858) --------------

def both_sessions(env, raw):
    """An enabled and a legacy session of a new account, both with INBOX
    (holding the message raw) examined."""
    user = env.new_user("u8")
    c = enabled_login(env, user)
    append_literal(c, "INBOX", raw)
    legacy = login(env.imap_port, user)
    expect(c, "EXAMINE INBOX", "OK")
    expect(legacy, "EXAMINE INBOX", "OK")
    return c, legacy


def test_envelope_raw_when_enabled_and_downgraded_otherwise_rfc6858(env):
    c, legacy = both_sessions(env, UTF8_MSG)

    _, env_new = fetch_item(c, "1", "ENVELOPE")
    assert env_new[1] == "Re: Grüße aus Köln".encode()
    assert env_new[2] == [["Jürgen Müller".encode(), None, b"juergen", b"example.org"]]
    assert env_new[5][0] == [None, None, "δοκιμή".encode(), "παράδειγμα.δοκιμή".encode()]

    resp, env_old = fetch_item(legacy, "1", "ENVELOPE")
    assert all(b < 0x80 for b in resp), resp
    # Only the words that need it are encoded.
    assert env_old[1].startswith(b"Re: =?UTF-8?B?")
    assert decoded(env_old[1]) == "Re: Grüße aus Köln"
    name = env_old[2][0][0]
    assert decoded(name) == "Jürgen Müller"
    assert env_old[2][0][1:] == [None, b"juergen", b"example.org"]
    # RFC 6858 §3: an address that has no ASCII form becomes an empty
    # group named after it; the ASCII address after it is untouched.
    to = env_old[5]
    assert to[0][0] is None and to[0][1] is None and to[0][3] is None
    assert decoded(to[0][2]) == "δοκιμή@παράδειγμα.δοκιμή"
    assert to[1] == [None, None, None, None]
    assert to[2] == [None, None, b"plain", b"example.org"]
    assert env_old[9] == b"<u8@example.org>"
    # Reply-To and Sender default to From, downgraded the same way.
    assert env_old[3] == env_old[2] and env_old[4] == env_old[2]
    c.close()
    legacy.close()


def test_bodystructure_parameters_downgraded_rfc2231(env):
    c, legacy = both_sessions(env, UTF8_MSG)
    resp, bs = fetch_item(c, "1", "BODYSTRUCTURE")
    assert "Übersicht.pdf".encode() in resp
    resp, bs = fetch_item(legacy, "1", "BODYSTRUCTURE")
    assert all(b < 0x80 for b in resp), resp
    # RFC 2231 §4 (RFC 2047 §5 forbids encoded-words in parameters).
    disposition = bs[1][8]
    assert disposition == [b"attachment", [b"filename*", b"utf-8''%C3%9Cbersicht.pdf"]]
    resp, _ = fetch_item(legacy, "1", "BODY")
    assert all(b < 0x80 for b in resp), resp
    c.close()
    legacy.close()


def test_raw_sections_are_the_stored_bytes_for_everyone(env):
    # docs/protocol.md: BODY[HEADER] and BODY[] are the message as stored,
    # in a literal, whoever asks: RFC822.SIZE and the sections agree.
    user = env.new_user("u8")
    c = login(env.imap_port, user)
    append_literal(c, "INBOX", UTF8_MSG)
    expect(c, "EXAMINE INBOX", "OK")
    _, header = fetch_item(c, "1", "BODY.PEEK[HEADER]", answer="BODY[HEADER]")
    assert header == UTF8_MSG[:UTF8_MSG.index(b"\r\n\r\n") + 4]
    c.close()


def test_raw_latin1_header_keeps_its_bytes_for_legacy_clients(env):
    # docs/protocol.md: a header that is not UTF-8 is labelled ISO-8859-1.
    raw = b"From: a@example.org\r\nSubject: caf\xe9 cr\xe8me\r\n\r\nbody\r\n"
    enabled, c = both_sessions(env, raw)
    resp, envelope = fetch_item(c, "1", "ENVELOPE")
    assert all(b < 0x80 for b in resp), resp
    assert decoded(envelope[1]) == "café crème"
    c.close()
    enabled.close()


def test_ascii_envelope_is_unchanged_for_legacy_clients(env):
    raw = (b"From: \"A, B\" <a@example.org>\r\nTo: undisclosed:;\r\n"
           b"Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n\r\nbody\r\n")
    enabled, c = both_sessions(env, raw)
    assert fetch_item(c, "1", "ENVELOPE")[0] == fetch_item(enabled, "1", "ENVELOPE")[0]
    c.close()
    enabled.close()


# --- IMAP4rev2 and UNAUTHENTICATE --------------------------------------------

def test_imap4rev2_session_is_a_utf8_session_rfc9051_s5_1(env):
    # RFC 9755's abstract: IMAP4rev2 "includes everything in this
    # extension"; an IMAP4rev2 session needs no ENABLE UTF8=ACCEPT.
    user = env.new_user("u8")
    c = login(env.imap_port, user)
    assert expect(c, "ENABLE IMAP4rev2", "OK") == [b"* ENABLED IMAP4rev2"]
    expect(c, 'CREATE "Été"', "OK")
    assert '"Été"'.encode() in list_names(c)
    append_literal(c, "INBOX", UTF8_MSG)
    expect(c, "EXAMINE INBOX", "OK")
    _, envelope = fetch_item(c, "1", "ENVELOPE")
    assert envelope[1] == "Re: Grüße aus Köln".encode()
    c.close()


def test_unauthenticate_forgets_utf8_accept_rfc8437_s4_1(env):
    user = env.new_user("u8")
    c = enabled_login(env, user)
    expect(c, 'CREATE "Été"', "OK")
    expect(c, "UNAUTHENTICATE", "OK")
    expect(c, f"LOGIN {user} secret", "OK")
    assert mutf7("Été").encode() in list_names(c)
    assert expect(c, ENABLE, "OK") == [b"* ENABLED UTF8=ACCEPT"]
    c.close()
