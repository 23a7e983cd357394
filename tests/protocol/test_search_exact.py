"""SEARCH stays exact where a word index is not (issue 15, item 3): Xapian
(Dovecot's fts-xapian) drops a word inside a long unspaced CJK run and the
last word of a text part, finds nothing for strings of one or two
characters, and turns a phrase into an AND of words. RFC 3501 §6.4.4 (RFC
9051 §6.4.4) defines every string key as a substring match, so Kairan must
find all of them: in BODY and TEXT, in MIME part headers and in the header
of an attached message (BODY is everything after the top-level header),
with case folded beyond ASCII as docs/protocol.md ("Case-insensitive
matching") decides.

Every check runs twice: at once, when the text may still be waiting for
the indexer (read directly), and after the indexer has put it into the
trigram indexes (docs/schema.md): the answers must be the same."""

import base64
import time

import pytest

from test_search import append, crlf, ew, login, ok, search


def plain(n, subject, body, cte="8bit", extra=""):
    if cte == "base64":
        body = base64.encodebytes(body.encode()).decode()
    return crlf(f"""\
From: Sender {n} <s{n}@example.org>
To: team@example.org
Subject: {subject}
Message-ID: <ex{n}@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: {cte}
{extra}
{body}""")


CJK_RUN = ("東京都千代田区丸の内一丁目の第三会議室で明日午後二時から定例打ち合わせを"
           "行いますので関係者の皆様は配布資料をご準備の上ご出席ください")

MULTIPART = crlf("""\
From: Sender 2 <s2@example.org>
To: team@example.org
Subject: quarterly papers
Message-ID: <ex2@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

Please see the attached papers.
The last word of this part is quokkaword
--b1
Content-Type: text/html; charset=us-ascii

<p>Hello <b>world</b> htmlfinalword</p>
--b1
Content-Type: application/pdf; name="invoice-2026.pdf"
Content-Description: Quarterly Invoice Scan
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9-2026.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zDtsOfCg==
--b1--
""")

FORWARD = crlf(f"""\
From: Sender 3 <s3@example.org>
To: team@example.org
Subject: Fwd: minutes
Message-ID: <ex3@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b2"

--b2
Content-Type: text/plain; charset=us-ascii

Forwarding the minutes.
--b2
Content-Type: message/rfc822

From: {ew("Zoë Zed", "UTF-8", "Q")} <zoe@example.org>
To: board@example.org
Subject: {ew("Протокол совещания", "UTF-8")}
Message-ID: <inner@example.org>
X-Project-Code: ORCA-77

The inner body talks about icebergs.
--b2--
""")

# (message, mailbox order = UID)
CORPUS = [
    plain(1, ew("会議のお知らせ", "UTF-8"), CJK_RUN, cte="base64"),
    MULTIPART,
    FORWARD,
    plain(4, "phrase one", "the quick brown fox jumps over the lazy dog"),
    plain(5, "phrase two", "brown quick fox, quick fox brown"),
    plain(6, "phrase three", "a quick bro=\r\nwn fox across a soft line break",
          cte="quoted-printable"),
    plain(7, "phrase four", "quick  brown fox with two spaces"),
    plain(8, "case one", "ÄRGER im BÜRO. ΣΟΦΟΣ. İSTANBUL. 5 µm. STRAẞE. Ω"),
    plain(9, "case two", "ärger im büro. σοφος. istanbul. ıstanbul. 5 μm. straße. ω"),
    plain(10, "short ones", "ёж"),
    plain(11, "short two", "жук"),
    # The very last bytes of the message: no line break after the word.
    plain(12, "no newline", "this text ends with lastwordhere").rstrip(b"\r\n"),
    plain(13, ew("ΟΔΥΣΣΕΥΣ 5 ΜΜ", "UTF-8"), "nothing here", extra="X-Size: 3 µm\n"),
    # What "σοφος" becomes with its sigmas as any letter: never a match.
    plain(14, "near miss", "τοφοχ and µ-less 5 xm"),
]

CASES = [
    # A word inside a long unspaced CJK run, in BODY and TEXT; one and two
    # characters of it; the encoded subject in TEXT and SUBJECT.
    ("BODY 打ち合わせ", [1]),
    ("TEXT 打ち合わせ", [1]),
    ("BODY 配布資料", [1]),
    ("BODY 議", [1]),
    ("BODY 会議", [1]),
    ("TEXT お知らせ", [1]),
    ("SUBJECT 知ら", [1]),
    ("BODY お知らせ", []),
    # The last word of a text part, of a non-final part, of the message.
    ("BODY quokkaword", [2]),
    ("TEXT quokkaword", [2]),
    ("BODY htmlfinalword", [2]),
    ("BODY lastwordhere", [12]),
    ("BODY \"ends with lastwordhere\"", [12]),
    # Strings of one and two characters (not words).
    ("BODY ж", [10, 11]),
    ("BODY ЁЖ", [10]),
    ("BODY жу", [11]),
    ("BODY Ж", [10, 11]),
    ("BODY ω", [8, 9]),
    # Phrases: the exact string, spaces included, never an AND of words.
    ("BODY \"quick brown fox\"", [4, 6]),
    ("TEXT \"QUICK BROWN FOX\"", [4, 6]),
    ("BODY \"brown fox\"", [4, 6, 7]),
    ("BODY \"quick fox\"", [5]),
    ("BODY \"quick  brown\"", [7]),
    ("BODY \"fox brown\"", [5]),
    ("BODY \"lazy dog \"", []),
    # MIME part headers: BODY is everything after the top-level header.
    ("BODY invoice-2026.pdf", [2]),
    ("BODY \"quarterly invoice scan\"", [2]),
    ("BODY résumé-2026", [2]),
    ("TEXT RÉSUMÉ-2026", [2]),
    ("BODY application/pdf", [2]),
    # The header of an attached message, decoded; not the top-level one.
    ("BODY \"протокол совещания\"", [3]),
    ("BODY Zoë", [3]),
    ("BODY orca-77", [3]),
    ("TEXT ORCA-77", [3]),
    ("BODY icebergs", [3]),
    ("SUBJECT протокол", []),
    ("HEADER X-Project-Code ORCA", []),
    ("SUBJECT minutes", [3]),
    # Case beyond ASCII (docs/protocol.md, "Case-insensitive matching").
    ("BODY ärger", [8, 9]),
    ("BODY ÄRGER", [8, 9]),
    ("BODY \"im büro\"", [8, 9]),
    ("BODY σοφος", [8, 9]),
    ("BODY ΣΟΦΟΣ", [8, 9]),
    ("BODY σοφοσ", [8, 9]),
    ("BODY istanbul", [8, 9]),
    ("BODY İstanbul", [8, 9]),
    ("BODY ıstanbul", [9]),
    ("BODY \"5 µm\"", [8, 9]),
    ("BODY \"5 μm\"", [8, 9]),
    ("BODY straße", [8, 9]),
    ("BODY STRASSE", []),
    ("BODY Ω", [8, 9]),
    ("BODY τοφοχ", [14]),
    ("BODY σοφο", [8, 9]),
    ("SUBJECT οδυσσευς", [13]),
    ("SUBJECT Οδυσσευσ", [13]),
    ("TEXT \"ΟΔΥΣΣΕΥς 5 μμ\"", [13]),
    ("HEADER Subject \"σσευς 5 µµ\"", [13]),
    ("HEADER X-Size \"3 μM\"", [13]),
    ("TEXT \"3 ΜM\"", [13]),
    ("BODY \"5 µ\"", [8, 9]),
]


@pytest.fixture(scope="module")
def exact_user(env):
    user = env.new_user("exact")
    with login(env.imap_port, user) as c:
        ok(c, "CREATE X")
        for raw in CORPUS:
            append(c, "X", raw)
    return user


def waiting(env, user):
    return int(env.pg.psql(
        "SELECT count(*) FROM messages m JOIN mailbox_messages mm ON mm.message_id = m.id "
        "JOIN mailboxes b ON b.id = mm.mailbox_id JOIN accounts a ON a.id = b.owner_id "
        f"WHERE a.login = '{user}' AND NOT m.search_ready").strip())


def quoted(key):
    """The key with an unquoted 8-bit string argument quoted (an atom is
    ASCII)."""
    name, _, value = key.partition(" ")
    if value.isascii() or '"' in value:
        return key
    return f'{name} "{value}"'


def check_all(c):
    wrong = []
    for key, want in CASES:
        got = search(c, ("UID SEARCH CHARSET UTF-8 " + quoted(key)).encode())
        if got != want:
            wrong.append((key, want, got))
    return wrong


def test_exact_before_and_after_indexing(env, exact_user):
    with login(env.imap_port, exact_user) as c:
        ok(c, "EXAMINE X")
        before = check_all(c)
        t0 = time.monotonic()
        while waiting(env, exact_user) > 0:
            assert time.monotonic() - t0 < 30, "the indexer did not index the corpus"
            time.sleep(0.1)
        after = check_all(c)
    assert before == [] and after == [], (before, after)


def test_search_strings_as_literals(env, exact_user):
    """The same strings sent as literals (what a client does with 8-bit
    text), so nothing depends on the quoting."""
    with login(env.imap_port, exact_user) as c:
        ok(c, "EXAMINE X")
        for key, value, want in (("BODY", "打ち合わせ", [1]), ("BODY", "quick brown fox", [4, 6]),
                                 ("TEXT", "ΣΟΦΟΣ", [8, 9]), ("BODY", "ж", [10, 11])):
            data = value.encode()
            c.send(f"s UID SEARCH CHARSET UTF-8 {key} {{{len(data)}+}}\r\n".encode() + data +
                   b"\r\n")
            tagged, untagged = c.read_tagged("s")
            assert tagged.startswith(b"s OK"), tagged
            got = [int(x) for x in untagged[0].split()[2:]]
            assert got == want, (key, value, got)
