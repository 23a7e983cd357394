"""Private keywords (issue 13 item 9, migrations/0013, docs/protocol.md
"Private keywords"): in a mailbox with per-user \\Seen, the keywords clients
use as read state (config private_keywords, default "Old": neomutt marks
every unread message it has shown "Old" when leaving a folder) are each
reader's own, as \\Seen is, so bob does not see alice's circulars as old."""

import re

import pytest

from imapclient import login, ok
from teamlib import append, make_team
from test_condstore import fetches


@pytest.fixture
def team(env):
    """alice shares "Team" (4 messages) with bob (lrsw): \\Seen and the
    private keywords are per reader there. a and a2 are alice's sessions,
    b is bob's; all have Team selected."""
    alice, bob, a = make_team(env, "pk", 4)
    ok(a, "SELECT Team")
    a2, b = login(env.imap_port, alice), login(env.imap_port, bob)
    ok(a2, "SELECT Team")
    ok(b, f'SELECT "Other Users/{alice}/Team"')
    yield {"a": a, "a2": a2, "b": b, "alice": alice}
    for c in (a, a2, b):
        c.close()


def flags(c, uid):
    return fetches(ok(c, f"UID FETCH {uid} (FLAGS)"))[uid]["FLAGS"]


def test_private_keyword_is_the_readers_own(team):
    a, a2, b = team["a"], team["a2"], team["b"]
    u = fetches(ok(a, "UID STORE 1 +FLAGS (Old)"))
    assert u[1]["FLAGS"] == {"Old"}
    assert flags(a, 1) == {"Old"}
    # bob neither sees it nor is told of it.
    assert [x for x in ok(b, "NOOP") if b"FETCH" in x] == []
    assert flags(b, 1) == set()
    # alice's other session is told, as of her \Seen.
    assert fetches(ok(a2, "NOOP")) == {1: {"FLAGS": {"Old"}}}
    # SEARCH follows the reader.
    assert ok(a, "UID SEARCH KEYWORD Old") == [b"* SEARCH 1"]
    assert ok(a, "UID SEARCH KEYWORD old") == [b"* SEARCH 1"]   # keywords ignore case
    assert ok(b, "UID SEARCH KEYWORD Old") == [b"* SEARCH"]
    assert ok(b, "UID SEARCH UNKEYWORD Old") == [b"* SEARCH 1 2 3 4"]
    # bob's own.
    ok(b, "UID STORE 2:3 +FLAGS.SILENT (Old)")
    assert ok(b, "UID SEARCH KEYWORD Old") == [b"* SEARCH 2 3"]
    assert ok(a, "UID SEARCH KEYWORD Old") == [b"* SEARCH 1"]


def test_private_and_shared_keywords_in_one_store(team):
    a, b = team["a"], team["b"]
    ok(a, "UID STORE 2 +FLAGS ($Label1 Old \\Flagged)")
    assert flags(a, 2) == {"$Label1", "Old", "\\Flagged"}
    assert flags(b, 2) == {"$Label1", "\\Flagged"}
    # Replacing clears the reader's private keywords not named.
    u = fetches(ok(a, "UID STORE 2 FLAGS (\\Seen $Label1)"))
    assert u[2]["FLAGS"] == {"\\Seen", "$Label1"}
    assert flags(a, 2) == {"\\Seen", "$Label1"}
    ok(a, "UID STORE 2 -FLAGS (Old)")                          # nothing to remove
    assert flags(b, 2) == {"$Label1"}


def test_private_keyword_is_announced_in_flags(env):
    """RFC 3501 §7.2.6: a keyword a FETCH shows was announced in FLAGS;
    the private ones are announced in every per-user mailbox, whatever the
    registry holds."""
    alice, bob, a = make_team(env, "pkf", 0, rights="lr")
    try:
        flags_line = [x for x in ok(a, "SELECT Team") if x.startswith(b"* FLAGS")][0]
        assert b" Old" in flags_line, flags_line
        # A personal mailbox keeps a common \Seen: Old is an ordinary keyword there.
        ok(a, "CREATE Mine")
        append(a, "Mine", 1)
        ok(a, "SELECT Mine")
        ok(a, "STORE 1 +FLAGS (Old)")
        kws = env.pg.psql("SELECT keywords FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id"
                          f" JOIN accounts x ON x.id = m.owner_id WHERE x.login = '{alice}' AND m.name = 'Mine'")
        assert kws.strip() == "{Old}"
    finally:
        a.close()


def test_rfc7162_private_keyword_is_a_private_change(team):
    a, a2, b = team["a"], team["a2"], team["b"]
    for c in (a, a2, b):
        ok(c, "ENABLE CONDSTORE")
    b_hms = max(v["MODSEQ"] for v in fetches(ok(b, "UID FETCH 1:* (MODSEQ)")).values())
    a2_hms = max(v["MODSEQ"] for v in fetches(ok(a2, "UID FETCH 1:* (MODSEQ)")).values())
    u = fetches(ok(a, "UID STORE 3 +FLAGS (Old)"))
    assert u[3]["MODSEQ"] > a2_hms
    assert fetches(ok(b, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {b_hms})")) == {}
    got = fetches(ok(a2, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {a2_hms})"))
    assert got == {3: {"UID": 3, "FLAGS": {"Old"}, "MODSEQ": u[3]["MODSEQ"]}}, got
    # UNCHANGEDSINCE protects private keywords too.
    tagged, _ = a.cmd("u", f"UID STORE 3 (UNCHANGEDSINCE {a2_hms}) -FLAGS (Old)")
    assert tagged.startswith(b"u OK [MODIFIED 3]"), tagged
    assert flags(a, 3) == {"Old"}


def test_private_keywords_go_with_the_readers_seen_row(env, team):
    """The private keywords are kept with the reader's seen row: switching
    the mailbox to a common \\Seen (which deletes the seen rows,
    schema/db_seen.c) drops them with it."""
    a = team["a"]
    ok(a, "UID STORE 4 +FLAGS.SILENT (Old)")
    assert env.pg.psql("SELECT count(*) FROM private_keywords").strip() != "0"
    env.pg.psql("UPDATE mailboxes SET seen_per_user = false, seen_fixed = true"
                " WHERE id IN (SELECT mailbox_id FROM private_keywords)")
    env.pg.psql("DELETE FROM seen WHERE mailbox_id IN (SELECT mailbox_id FROM private_keywords)")
    assert env.pg.psql("SELECT count(*) FROM private_keywords").strip() == "0"
