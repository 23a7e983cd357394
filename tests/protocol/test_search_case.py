"""SEARCH string keys against text stored lower-cased (migrations/0007):
case folding beyond ASCII (German umlauts and ß, Cyrillic with Ё) on both
sides, LIKE's metacharacters %, _ and \\ taken literally in upper and
lower case, in the header and in the body, and a match far beyond the start
of a long body. The stored text is the search text only: what FETCH shows
keeps its case.

The text is kept in the row (storage MAIN) unless even compressed it
would not fit a page: a body too large for that is searched all the same.

The migration itself is tested on a database of its own: rows as the
APPEND before 0007 stored them (mixed case, pglz, EXTENDED storage) are
lower-cased, recompressed with lz4 and kept in the row by `kairanctl
migrate`, and found again over IMAP.
"""

import random

import pytest

from imapclient import quote
from test_search import append, crlf, ew, login, ok, search


def message(n, sender, subject, body):
    """Message n of the corpus: 8-bit UTF-8 text/plain."""
    return crlf(f"""\
From: {sender}
To: team@example.org
Subject: {subject}
Date: 0{n} Feb 2026 10:00:00 +0100
Message-ID: <c{n}@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{body}""")


C1 = message(1, f'{ew("Ömer Ünal", "UTF-8", "Q")} <oemer@example.org>',
             f'{ew("ÄRGER im BÜRO", "UTF-8", "Q")} 50% OFF',
             "ПРОВЕРКА Связи\nGRÖSSE: 50%_RABATT in der STRAẞE\nPfad: C:\\TEMP\\DATEI\n")
C2 = message(2, "Bob Builder <bob@example.org>", "Sure_thing",
             "ärger im büro\nпроверка связи\n50 percent\nC:/temp/datei\n")
C3 = message(3, "Long Writer <long@example.org>", "long",
             "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 150 +
             "ЁЛКА ENDWORT Ä\n")


def fill(port, user):
    """Mailbox "C" of `user` with C1, C2, C3 (UIDs 1-3)."""
    with login(port, user) as c:
        ok(c, "CREATE C")
        for raw in (C1, C2, C3):
            append(c, "C", raw)


@pytest.fixture(scope="module")
def case_user(env):
    """An account whose mailbox "C" holds the corpus."""
    user = env.new_user("case")
    fill(env.imap_port, user)
    assert len(C3) > 8000
    return user


@pytest.fixture
def cx(env, case_user):
    with login(env.imap_port, case_user) as c:
        ok(c, "EXAMINE C")
        yield c


CASES = [
    # umlauts: the subject of 1 is upper case, the body of 2 lower case
    ("BODY", "ärger", [2]), ("BODY", "ÄRGER IM BÜRO", [2]), ("TEXT", "ärger", [1, 2]),
    ("TEXT", "ÄrGeR iM bÜrO", [1, 2]), ("SUBJECT", "ärger im büro", [1]),
    ("HEADER Subject", "BÜRO", [1]), ("FROM", "ömer ünal", [1]), ("FROM", "ÖMER", [1]),
    ("TEXT", "grösse", [1]), ("BODY", "GRÖSSE", [1]),
    # capital sharp s (U+1E9E) folds to ß
    ("BODY", "straße", [1]), ("BODY", "STRAẞE", [1]),
    # Cyrillic, Ё/ё included
    ("BODY", "проверка связи", [1, 2]), ("BODY", "ПРОВЕРКА СВЯЗИ", [1, 2]),
    ("TEXT", "Связи", [1, 2]), ("BODY", "ёлка", [3]), ("BODY", "Ёлка", [3]),
    # far beyond the first kilobytes of a long body, at its very end
    ("BODY", "endwort ä", [3]), ("TEXT", "ENDWORT Ä", [3]), ("BODY", "ёлка endwort", [3]),
    # % and _ are literal, in either case of the letters around them
    ("BODY", "50%_rabatt", [1]), ("BODY", "50%_RaBaTt", [1]), ("BODY", "50%", [1]),
    ("BODY", "50_", []), ("BODY", "50%r", []), ("BODY", "0%_r", [1]), ("BODY", "%", [1]),
    ("BODY", "_", [1]), ("TEXT", "_", [1, 2]), ("TEXT", "50% off", [1]), ("TEXT", "50%_", [1]),
    ("TEXT", "50 %", []), ("TEXT", "SURE_THING", [2]), ("TEXT", "sure thing", []),
    ("TEXT", "sure%thing", []), ("SUBJECT", "E_T", [2]), ("HEADER Subject", "50% OFF", [1]),
    ("HEADER Subject", "50_", []), ("TEXT", "subject: sure_", [2]),
    # \ is literal: C:\TEMP\DATEI in 1, C:/temp/datei in 2
    ("BODY", "c:\\temp\\datei", [1]), ("BODY", "C:\\Temp", [1]), ("BODY", "\\", [1]),
    ("BODY", "\\TEMP\\", [1]), ("BODY", "c:/temp", [2]), ("BODY", "c:\\\\temp", []),
    ("TEXT", "\\datei", [1]), ("BODY", "\\%", []), ("BODY", "\\_", []),
]


@pytest.mark.parametrize("key,value,expected", CASES,
                         ids=[f"{k} {v}" for k, v, _ in CASES])
def test_case_folding_and_metacharacters(cx, key, value, expected):
    assert search(cx, b"SEARCH CHARSET UTF-8 " + key.encode() + b" " + quote(value)) == expected


def test_fetch_keeps_the_case(cx):
    u = ok(cx, "FETCH 1 (BODY.PEEK[TEXT] ENVELOPE)")
    data = b"".join(u)
    assert "ПРОВЕРКА Связи".encode() in data and b"C:\\TEMP\\DATEI" in data, data[:500]
    assert b"50% OFF" in data, data[:500]


def test_body_beyond_a_page_is_searched(env):
    # ~300 KB of words of random letters: lz4 cannot bring it under a
    # page, so PostgreSQL moves it to the TOAST table despite MAIN.
    rnd = random.Random(7)
    words = ("".join(rnd.choice("abcdefghijklmnopqrstuvwxyzäöü") for _ in range(rnd.randint(2, 9)))
             for _ in range(50000))
    body = "\n".join(" ".join(line) for line in zip(*[words] * 12)) + "\nSchlußwort ÄÖÜ\n"
    assert len(body.encode()) > 300000
    user = env.new_user("big")
    with login(env.imap_port, user) as c:
        ok(c, "CREATE B")
        append(c, "B", message(1, "Big <big@example.org>", "big", body))
        ok(c, "EXAMINE B")
        assert search(c, 'SEARCH CHARSET UTF-8 BODY "SCHLUẞWORT äöü"') == [1]
        assert search(c, 'SEARCH CHARSET UTF-8 TEXT "schlußwort ÄÖÜ"') == [1]
        assert search(c, 'SEARCH CHARSET UTF-8 BODY "schlusswort"') == []


def test_migration_0007_folds_and_recompresses_existing_rows(env):
    """A database of its own, brought to the newest version and filled by
    APPEND, is put back the way 0006 left such rows (search text in its
    original case, here upper case, pglz-compressed, EXTENDED storage; 0007
    not applied), then migrated again: every row is lower-cased and its
    long text lz4-compressed, the columns are MAIN, and SEARCH finds the
    messages in any case."""
    db = "kmig0007"
    env.pg.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", db="postgres")
    env.pg.psql(f"CREATE DATABASE {db} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' "
                f"LC_CTYPE 'C.UTF-8'", db="postgres")
    k = env.start_kairand(db_dsn=env.pg.dsn.replace("dbname=kairan", f"dbname={db}"),
                          migrate=True)
    user = env.new_user("mig")
    fill(k.imap_port, user)
    k.stop()
    main = "body_text header_text header_fields envelope bodystructure body parts".split()
    # Back to 0006 also means undoing 0008 (search_ready, its partial
    # indexes) and what follows it: 0009 (the keyword registry, which
    # takes 0005's keyword index with it) and 0010 (the \Recent bound's
    # own table), and what came after 0010: 0011 (the per-reader modseq),
    # 0012 (the stale-MIME index), 0013 (private keywords), 0014
    # (protocol_trace), 0015 (the preview column), 0016 (team addresses),
    # 0017 (the save date), 0018 (the quota usage counters and their
    # triggers), 0019 (delivery duplicates) and 0020 (import_sources);
    # migrating again then applies 0007 onwards,
    # and 0008 marks the existing rows indexed.
    env.pg.psql("DROP TRIGGER mailbox_usage_delete ON mailbox_messages; "
                "DROP TRIGGER mailbox_usage_move ON mailbox_messages; "
                "DROP FUNCTION mailbox_usage_removed(); "
                "DROP FUNCTION mailbox_usage_moved(); "
                "ALTER TABLE mailboxes DROP COLUMN message_count, DROP COLUMN message_bytes; "
                "DELETE FROM quotas WHERE quota_limit IS NULL; "
                "ALTER TABLE quotas ALTER COLUMN quota_limit SET NOT NULL, DROP COLUMN origin; "
                "DROP TABLE delivery_duplicates; "
                "DROP TABLE import_sources; "
                "ALTER TABLE mailbox_messages DROP COLUMN saved_at; "
                "DROP INDEX messages_mime_stale; DROP TABLE private_keywords; "
                "DROP TABLE protocol_trace; ALTER TABLE messages DROP COLUMN preview; "
                "DROP TABLE shared_addresses; "
                "DROP TABLE seen_changes; ALTER TABLE seen DROP COLUMN modseq, DROP COLUMN pruned_modseq; "
                "ALTER TABLE mailboxes DROP COLUMN shared_modseq, DROP COLUMN expunged_floor; "
                "ALTER TABLE expunges DROP COLUMN expunged_at; "
                "ALTER TABLE mailboxes ADD COLUMN recent_uid bigint NOT NULL DEFAULT 1; "
                "DROP TRIGGER mailbox_recent_row ON mailboxes; "
                "DROP FUNCTION mailbox_recent_row(); DROP TABLE mailbox_recent; "
                "DROP TABLE mailbox_keywords; "
                "CREATE INDEX mailbox_messages_keywords_idx ON mailbox_messages (mailbox_id) "
                "WHERE keywords <> '{}'; "
                "DROP INDEX messages_search_backlog; "
                "ALTER TABLE messages DROP COLUMN search_ready; "
                "CREATE INDEX messages_body_text_trgm ON messages USING gin (body_text gin_trgm_ops); "
                "CREATE INDEX messages_header_text_trgm ON messages USING gin (header_text gin_trgm_ops); "
                "ALTER TABLE messages ALTER COLUMN body_text SET COMPRESSION pglz, "
                "ALTER COLUMN header_text SET COMPRESSION pglz, " +
                ", ".join(f"ALTER COLUMN {c} SET STORAGE EXTENDED" for c in main) + "; "
                "UPDATE messages SET body_text = upper(body_text), header_text = upper(header_text); "
                "DELETE FROM schema_migrations WHERE version >= 7", db=db)
    # rows in lower case | compression of the long body | the storage of `main`
    check = ("SELECT count(*) FILTER (WHERE body_text = lower(body_text) AND "
             "header_text = lower(header_text)), string_agg(DISTINCT "
             "pg_column_compression(body_text), ','), (SELECT string_agg(DISTINCT "
             "attstorage::text, ',') FROM pg_attribute WHERE attrelid = 'messages'::regclass "
             f"AND attname = ANY ('{{{','.join(main)}}}')) FROM messages")
    assert env.pg.psql(check, db=db).strip() == "0|pglz|x"
    k.start(migrate=True)
    try:
        assert env.pg.psql(check, db=db).strip() == "3|lz4|m"
        assert env.pg.psql("SELECT bool_and(search_ready) FROM messages", db=db).strip() == "t"
        with login(k.imap_port, user) as c:
            ok(c, "EXAMINE C")
            for key, value, expected in CASES:
                got = search(c, b"SEARCH CHARSET UTF-8 " + key.encode() + b" " + quote(value))
                assert got == expected, (key, value)
    finally:
        k.stop()
        env.pg.psql(f"DROP DATABASE {db} WITH (FORCE)", db="postgres")
