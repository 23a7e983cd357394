"""CONDSTORE and QRESYNC (RFC 7162), with a per-reader modseq
(migrations/0011, docs/architecture.md "Design decisions", 2): a change to
one reader's \\Seen in a shared mailbox is a modification for that reader
only, yet every MODSEQ a client sees grows with every change it can see.

Each test makes its own people and mailboxes."""

import re

import pytest

from imapclient import append_circulars as append, login, ok


def highestmodseq(untagged):
    for line in untagged:
        m = re.search(rb"\[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"no HIGHESTMODSEQ in {untagged}")


def select_noting(c, mailbox="Box"):
    """SELECT with QRESYNC enabled; (HIGHESTMODSEQ, UIDVALIDITY) as a
    client would note them."""
    ok(c, "ENABLE QRESYNC")
    untagged = ok(c, f"SELECT {mailbox}")
    return (highestmodseq(untagged),
            int(re.search(rb"UIDVALIDITY (\d+)", b" ".join(untagged)).group(1)))


def fetches(untagged):
    """{uid or msn: {item: value}} of the FETCH responses: FLAGS as a set,
    MODSEQ and UID as ints."""
    out = {}
    for line in untagged:
        m = re.match(rb"\* (\d+) FETCH \((.*)\)$", line)
        if not m:
            continue
        body = m.group(2).decode()
        items = {}
        uid = re.search(r"UID (\d+)", body)
        if uid:
            items["UID"] = int(uid.group(1))
        flags = re.search(r"FLAGS \(([^)]*)\)", body)
        if flags:
            items["FLAGS"] = set(flags.group(1).split()) - {"\\Recent"}
        modseq = re.search(r"MODSEQ \((\d+)\)", body)
        if modseq:
            items["MODSEQ"] = int(modseq.group(1))
        out[items.get("UID", int(m.group(1)))] = items
    return out


def vanished(untagged, earlier):
    prefix = b"* VANISHED (EARLIER) " if earlier else b"* VANISHED "
    lines = [line for line in untagged if line.startswith(prefix)]
    if not lines:
        return set()
    assert len(lines) == 1, lines
    uids = set()
    for part in lines[0][len(prefix):].decode().split(","):
        lo, _, hi = part.partition(":")
        uids.update(range(int(lo), int(hi or lo) + 1))
    return uids


@pytest.fixture
def box(env):
    """A user with a mailbox "Box" of 10 messages, not selected."""
    user = env.new_user("cs")
    c = login(env.imap_port, user)
    ok(c, "CREATE Box")
    append(c, "Box", 10)
    yield {"user": user, "c": c}
    c.close()


@pytest.fixture
def team(env):
    """alice shares "Team" (5 messages) with bob, who may read and mark
    \\Seen: the mailbox keeps \\Seen per reader. Both logged in with
    CONDSTORE enabled."""
    alice, bob = env.new_user("csa"), env.new_user("csb")
    login(env.imap_port, bob).close()
    a = login(env.imap_port, alice)
    ok(a, "CREATE Team")
    append(a, "Team", 5)
    ok(a, f"SETACL Team {bob} lrsw")
    b = login(env.imap_port, bob)
    for c in (a, b):
        ok(c, "ENABLE CONDSTORE")
    yield {"a": a, "b": b, "alice": alice, "bob": bob, "bobs_name": f'"Other Users/{alice}/Team"'}
    a.close()
    b.close()


def test_rfc7162_capability_and_enable(box):
    c = box["c"]
    caps = ok(c, "CAPABILITY")[0].split()
    assert b"CONDSTORE" in caps and b"QRESYNC" in caps
    assert ok(c, "ENABLE CONDSTORE") == [b"* ENABLED CONDSTORE"]
    # RFC 5161 §3.2: only what this command newly enabled.
    assert ok(c, "ENABLE CONDSTORE QRESYNC") == [b"* ENABLED QRESYNC"]
    assert ok(c, "ENABLE QRESYNC") == [b"* ENABLED"]


def test_rfc7162_3_1_2_select_and_status_report_highestmodseq(box):
    c = box["c"]
    hms = highestmodseq(ok(c, "SELECT Box"))
    status = ok(c, "STATUS Box (HIGHESTMODSEQ)")[0]
    assert status.endswith(f"(HIGHESTMODSEQ {hms})".encode()), status
    u = fetches(ok(c, "STORE 1 +FLAGS (\\Flagged)"))
    assert u[1]["FLAGS"] == {"\\Flagged"} and "MODSEQ" not in u[1]   # not enabled yet
    u = fetches(ok(c, "FETCH 1:* (MODSEQ)"))                        # enables it (§3.1)
    assert u[1]["MODSEQ"] > hms and all(u[i]["MODSEQ"] <= hms for i in range(2, 11))
    assert highestmodseq(ok(c, "EXAMINE Box")) == u[1]["MODSEQ"]


def test_rfc7162_3_1_3_unchangedsince_fails_for_modified_messages(box):
    """A modifier parsed and ignored would be worse than none (issue 13):
    STORE (UNCHANGEDSINCE 1) on a message whose MODSEQ is higher must not
    change it and must name it in MODIFIED."""
    c = box["c"]
    ok(c, "SELECT Box")
    tagged, u = c.cmd("a", "STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Answered)")
    assert tagged.startswith(b"a OK [MODIFIED 1]") and u == [], (tagged, u)
    assert fetches(ok(c, "FETCH 1 (FLAGS)"))[1]["FLAGS"] == set()

    mod = {i: v["MODSEQ"] for i, v in fetches(ok(c, "FETCH 1:* (MODSEQ)")).items()}
    ok(c, "STORE 2 +FLAGS.SILENT (\\Deleted)")
    since = max(mod[1], mod[3], mod[4])
    # 2 changed after `since`; 1, 3, 4 did not: only 2 fails, the rest are stored.
    tagged, u = c.cmd("b", f"STORE 1:4 (UNCHANGEDSINCE {since}) +FLAGS (\\Flagged)")
    assert tagged.startswith(b"b OK [MODIFIED 2]"), tagged
    got = fetches(u)
    assert set(got) == {1, 3, 4}
    assert all(got[i]["FLAGS"] == {"\\Flagged"} and got[i]["MODSEQ"] > since for i in (1, 3, 4))
    assert "\\Flagged" not in fetches(ok(c, "FETCH 2 (FLAGS)"))[2]["FLAGS"]

    # UID STORE names UIDs; .SILENT still reports the new MODSEQ (§3.1.3).
    tagged, u = c.cmd("d", "UID STORE 5,6 (UNCHANGEDSINCE 0) +FLAGS.SILENT (\\Seen)")
    assert tagged.startswith(b"d OK [MODIFIED 5:6]") and u == [], (tagged, u)
    tagged, u = c.cmd("e", f"UID STORE 5 (UNCHANGEDSINCE {mod[5]}) +FLAGS.SILENT (\\Seen)")
    assert tagged.startswith(b"e OK") and b"MODIFIED" not in tagged
    assert re.fullmatch(rb"\* 5 FETCH \(UID 5 MODSEQ \(\d+\)\)", u[0]) and len(u) == 1, u


def test_rfc7162_3_1_4_fetch_changedsince(box):
    c = box["c"]
    hms = highestmodseq(ok(c, "SELECT Box"))
    assert fetches(ok(c, f"FETCH 1:* (FLAGS) (CHANGEDSINCE {hms})")) == {}
    ok(c, "STORE 3,7 +FLAGS (\\Flagged)")
    got = fetches(ok(c, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {hms})"))
    assert set(got) == {3, 7} and all(v["MODSEQ"] > hms for v in got.values())
    # Also when the store, not the state, answers (ENVELOPE is not in the state).
    got = ok(c, f"FETCH 1:* (ENVELOPE) (CHANGEDSINCE {hms})")
    assert len(got) == 2 and all(b"MODSEQ (" in line for line in got)


@pytest.mark.parametrize("command", [
    "FETCH 1 (FLAGS) (CHANGEDSINCE)",
    "FETCH 1 (FLAGS) (CHANGEDSINCE x)",
    "FETCH 1 (FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)",
    "FETCH 1 (FLAGS) (CHANGEDSINCE 99999999999999999999)",
    "FETCH 1 (FLAGS) (SOMETHING 1)",
    "FETCH 1 (FLAGS) ()",
    "UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)",      # QRESYNC not enabled
    "STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)",
    "STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 1) +FLAGS (\\Seen)",
    "SELECT Box (QRESYNC (1 1))",                         # QRESYNC not enabled
    "SELECT Box (NOTHING)",
    "SELECT Box ()",
])
def test_rfc7162_malformed_modifiers_are_bad(box, command):
    c = box["c"]
    ok(c, "SELECT Box")
    tagged, _ = c.cmd("x", command)
    assert tagged.startswith(b"x BAD"), (command, tagged)


def test_rfc7162_seen_of_one_reader_is_a_change_for_that_reader_only(env, team):
    a, b, bobs = team["a"], team["b"], team["bobs_name"]
    ok(a, "SELECT Team")
    b_hms = highestmodseq(ok(b, f"SELECT {bobs}"))
    a2 = login(env.imap_port, team["alice"])
    try:
        ok(a2, "ENABLE CONDSTORE")
        a2_hms = highestmodseq(ok(a2, "SELECT Team"))

        u = fetches(ok(a, "STORE 1 +FLAGS (\\Seen)"))
        seen_modseq = u[1]["MODSEQ"]
        assert seen_modseq > a2_hms

        # bob is not told of alice's reading, by NOOP, CHANGEDSINCE or STATUS.
        assert [line for line in ok(b, "NOOP") if b"FETCH" in line] == []
        assert fetches(ok(b, f"FETCH 1:* (FLAGS) (CHANGEDSINCE {b_hms})")) == {}
        ok(b, "UNSELECT")
        status = ok(b, f"STATUS {bobs} (HIGHESTMODSEQ)")[0]
        assert status.endswith(f"(HIGHESTMODSEQ {b_hms})".encode()), status
        assert highestmodseq(ok(b, f"SELECT {bobs}")) == b_hms

        # alice's other session is, with the new MODSEQ.
        got = fetches(ok(a2, "NOOP"))
        assert got == {1: {"FLAGS": {"\\Seen"}, "MODSEQ": seen_modseq}}, got
        assert fetches(ok(a2, f"FETCH 1:* (FLAGS) (CHANGEDSINCE {a2_hms})"))[1]["MODSEQ"] == seen_modseq

        # A shared change reaches bob with a MODSEQ above everything he saw.
        ok(a, "STORE 2 +FLAGS (\\Flagged)")
        got = fetches(ok(b, "NOOP"))
        assert list(got) == [2] and got[2]["FLAGS"] == {"\\Flagged"} and got[2]["MODSEQ"] > b_hms
        assert fetches(ok(b, f"FETCH 1:* (FLAGS) (CHANGEDSINCE {b_hms})")).keys() == {2}
        # And alice's session sees it above her own reading.
        got = fetches(ok(a2, "NOOP"))
        assert got[2]["MODSEQ"] > seen_modseq

        # bob's reading: his MODSEQ for 1 goes above alice's shared change.
        shared = got[2]["MODSEQ"]
        got = fetches(ok(b, "STORE 1 +FLAGS (\\Seen)"))
        assert got[1]["MODSEQ"] > shared
        assert fetches(ok(b, "FETCH 1 (MODSEQ)"))[1]["MODSEQ"] == got[1]["MODSEQ"]
        # ... and alice is not told.
        assert [line for line in ok(a2, "NOOP") if b"FETCH" in line] == []
        assert fetches(ok(a2, "FETCH 1 (FLAGS MODSEQ)"))[1]["MODSEQ"] == seen_modseq
    finally:
        a2.close()


def test_rfc7162_unchangedsince_uses_the_readers_modseq(env, team):
    """bob's conditional STORE is not failed by alice's reading, and is by
    his own."""
    a, b, bobs = team["a"], team["b"], team["bobs_name"]
    ok(a, "SELECT Team")
    b_hms = highestmodseq(ok(b, f"SELECT {bobs}"))
    ok(a, "STORE 1 +FLAGS (\\Seen)")
    tagged, u = b.cmd("u", f"STORE 1 (UNCHANGEDSINCE {b_hms}) +FLAGS (\\Seen)")
    assert tagged.startswith(b"u OK") and b"MODIFIED" not in tagged, tagged
    tagged, u = b.cmd("v", f"STORE 1 (UNCHANGEDSINCE {b_hms}) -FLAGS (\\Seen)")
    assert tagged.startswith(b"v OK [MODIFIED 1]"), tagged


def test_rfc7162_3_2_5_qresync_select_reports_exactly_what_changed(env, box):
    """The check of issue 13: a client notes HIGHESTMODSEQ, another session
    expunges 5 and flags 3 messages, the client comes back with SELECT
    (QRESYNC ...) and gets exactly those 5 UIDs in VANISHED (EARLIER) and
    exactly those 3 FETCHes, VANISHED first."""
    c = box["c"]
    hms, uidvalidity = select_noting(c)
    ok(c, "LOGOUT")

    other = login(env.imap_port, box["user"])
    ok(other, "SELECT Box")
    ok(other, "UID STORE 2,4,6,8,10 +FLAGS.SILENT (\\Deleted)")
    ok(other, "EXPUNGE")
    ok(other, "UID STORE 1,3,5 +FLAGS.SILENT (\\Flagged)")
    other.close()

    c = login(env.imap_port, box["user"])
    box["c"] = c
    ok(c, "ENABLE QRESYNC")
    untagged = ok(c, f"SELECT Box (QRESYNC ({uidvalidity} {hms}))")
    assert vanished(untagged, True) == {2, 4, 6, 8, 10}
    got = fetches(untagged)
    assert set(got) == {1, 3, 5} and all(v["FLAGS"] == {"\\Flagged"} and v["MODSEQ"] > hms
                                         for v in got.values())
    first_fetch = min(i for i, line in enumerate(untagged) if b"FETCH" in line)
    assert any(line.startswith(b"* VANISHED (EARLIER)") for line in untagged[:first_fetch])

    # known-uids narrows VANISHED (§3.2.5); a wrong UIDVALIDITY reports nothing.
    untagged = ok(c, f"SELECT Box (QRESYNC ({uidvalidity} {hms} 1:5 (1:3 1,3,5)))")
    assert vanished(untagged, True) == {2, 4}
    untagged = ok(c, f"SELECT Box (QRESYNC ({uidvalidity + 1} {hms}))")
    assert vanished(untagged, True) == set() and fetches(untagged) == {}


def test_rfc7162_3_2_5_pruned_history_falls_back_to_what_is_missing(env, box):
    c = box["c"]
    hms, uidvalidity = select_noting(c)
    ok(c, "UID STORE 3 +FLAGS.SILENT (\\Deleted)")
    ok(c, "EXPUNGE")
    env.pg.psql(f"UPDATE mailboxes SET expunged_floor = {hms + 100} FROM accounts a"
                f" WHERE a.id = owner_id AND a.login = '{box['user']}' AND name = 'Box'")
    untagged = ok(c, f"SELECT Box (QRESYNC ({uidvalidity} {hms + 1}))")
    assert vanished(untagged, True) == {3}
    # UIDs 1..10 existed; only 3 is gone. With known-uids beyond UIDNEXT,
    # nothing above it is claimed.
    untagged = ok(c, f"SELECT Box (QRESYNC ({uidvalidity} {hms} 2:1000))")
    assert vanished(untagged, True) == {3}


def test_rfc7162_3_2_10_vanished_replaces_expunge(env, box):
    c = box["c"]
    ok(c, "ENABLE QRESYNC")
    ok(c, "SELECT Box")
    other = login(env.imap_port, box["user"])
    try:
        ok(other, "SELECT Box")
        ok(other, "UID STORE 4:5 +FLAGS.SILENT (\\Deleted)")
        ok(other, "EXPUNGE")
    finally:
        other.close()
    untagged = ok(c, "NOOP")
    assert vanished(untagged, False) == {4, 5}
    assert not any(line.endswith(b"EXPUNGE") for line in untagged)
    # Flag changes carry the UID once QRESYNC is on (§3.2.4 / §3.1.4).
    ok(c, "UID STORE 7 +FLAGS.SILENT (\\Deleted)")
    untagged = ok(c, "EXPUNGE")
    assert vanished(untagged, False) == {7}


def test_rfc7162_3_2_6_uid_fetch_vanished(box):
    c = box["c"]
    ok(c, "ENABLE QRESYNC")
    hms = highestmodseq(ok(c, "SELECT Box"))
    ok(c, "UID STORE 2,9 +FLAGS.SILENT (\\Deleted)")
    ok(c, "EXPUNGE")
    ok(c, "UID STORE 3 +FLAGS.SILENT (\\Answered)")
    untagged = ok(c, f"UID FETCH 1:8 (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
    assert vanished(untagged, True) == {2}
    assert set(fetches(untagged)) == {3}
    assert untagged[0].startswith(b"* VANISHED (EARLIER)")


def test_rfc7162_3_1_5_search_modseq(env, team):
    """SEARCH MODSEQ finds what changed for this reader, and says the
    highest MODSEQ it found; alice's reading is not a change for bob."""
    a, b, bobs = team["a"], team["b"], team["bobs_name"]
    ok(a, "SELECT Team")
    b_hms = highestmodseq(ok(b, f"SELECT {bobs}"))
    ok(a, "STORE 1 +FLAGS (\\Seen)")
    assert ok(b, f"SEARCH MODSEQ {b_hms + 1}") == [b"* SEARCH"]
    u = fetches(ok(b, "STORE 3 +FLAGS (\\Seen)"))
    mine = u[3]["MODSEQ"]
    assert ok(b, f"SEARCH MODSEQ {b_hms + 1}") == [f"* SEARCH 3 (MODSEQ {mine})".encode()]
    assert ok(b, f"UID SEARCH RETURN (ALL) MODSEQ {b_hms + 1}") == [
        f'* ESEARCH (TAG "t") UID ALL 3 MODSEQ {mine}'.encode()]
    # alice's search sees her reading, not bob's.
    got = ok(a, f"SEARCH MODSEQ {b_hms + 1}")[0]
    assert got.startswith(b"* SEARCH 1 (MODSEQ "), got


def test_gc_prunes_history_and_raises_the_floors(env, team):
    """kairanctl gc removes history older than expunge_history_days; the
    floors rise with it, so a client from before them gets the fallback
    (every missing UID) and no MODSEQ ever goes down."""
    import subprocess
    a, b, bobs = team["a"], team["b"], team["bobs_name"]
    ok(a, "SELECT Team")
    b_hms = highestmodseq(ok(b, f"SELECT {bobs}"))
    ok(b, "STORE 2 +FLAGS (\\Seen)")
    ok(a, "UID STORE 4 +FLAGS.SILENT (\\Deleted)")
    ok(a, "EXPUNGE")
    before = fetches(ok(b, "UID FETCH 1:* (MODSEQ)"))
    env.pg.psql("UPDATE expunges SET expunged_at = now() - interval '3 days';"
                " UPDATE seen_changes SET changed_at = now() - interval '3 days'")
    k = env.kairand
    r = subprocess.run([k.kairanctl, "-c", k.conf_path, "gc", "--history-days", "2"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "pruned" in r.stdout, r.stdout
    assert env.pg.psql("SELECT count(*) FROM expunges e JOIN mailboxes m ON m.id = e.mailbox_id"
                       " WHERE m.expunged_floor = 0 AND e.expunged_at < now() - interval '2 days'"
                       ).strip() == "0"
    # An open session still knows its log and answers exactly; a new
    # SELECT learns the floor: bob's log is gone, every message is at
    # least at the floor, so a CHANGEDSINCE from before it reports
    # everything, and no MODSEQ went down.
    ok(b, f"SELECT {bobs}")
    after = fetches(ok(b, "UID FETCH 1:* (MODSEQ)"))
    assert all(after[i]["MODSEQ"] >= before[i]["MODSEQ"] for i in after)
    assert set(fetches(ok(b, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {b_hms})"))) == set(after)
    ok(b, "ENABLE QRESYNC")
    uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", b" ".join(ok(b, f"EXAMINE {bobs}"))).group(1))
    untagged = ok(b, f"EXAMINE {bobs} (QRESYNC ({uidvalidity} {b_hms}))")
    assert vanished(untagged, True) == {4}

    for bad in (["--history-days", "0"], ["--history-days"], ["--nothing", "1"]):
        r = subprocess.run([k.kairanctl, "-c", k.conf_path, "gc", *bad],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, bad


def test_rfc7162_expunge_tells_the_new_highestmodseq(box):
    c = box["c"]
    ok(c, "ENABLE CONDSTORE")
    hms = highestmodseq(ok(c, "SELECT Box"))
    ok(c, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    tagged, untagged = c.cmd("e", "EXPUNGE")
    m = re.match(rb"e OK \[HIGHESTMODSEQ (\d+)\]", tagged)
    assert m and int(m.group(1)) > hms and untagged == [b"* 1 EXPUNGE"], (tagged, untagged)
    assert highestmodseq(ok(c, "EXAMINE Box")) == int(m.group(1))


def test_rfc7162_held_expunges_keep_highestmodseq_below_them(env, box):
    """RFC 3501 §7.4.1 holds expunges back during FETCH; the FETCH's MODSEQs
    may be above them, so the server says how far it is complete
    (erratum 1810): a client reconnecting from there misses nothing."""
    c = box["c"]
    ok(c, "ENABLE CONDSTORE")
    hms = highestmodseq(ok(c, "SELECT Box"))
    other = login(env.imap_port, box["user"])
    try:
        ok(other, "SELECT Box")
        ok(other, "UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        ok(other, "EXPUNGE")
        ok(other, "UID STORE 3 +FLAGS.SILENT (\\Flagged)")
    finally:
        other.close()
    untagged = ok(c, "FETCH 1:* (FLAGS MODSEQ)")
    assert not any(line.endswith(b"EXPUNGE") for line in untagged)
    assert fetches(untagged)[3]["MODSEQ"] > hms
    assert highestmodseq(untagged) == hms
    assert b"* 2 EXPUNGE" in ok(c, "NOOP")
