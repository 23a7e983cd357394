"""Per-user \\Seen (RFC 3501 §2.3.2 flags; RFC 4314 §4 "s" right): in a
mailbox with mailboxes.seen_per_user, \\Seen is kept per reader in the seen
table and the 1 bit of mailbox_messages.flags means nothing; the other flags
stay shared. Every command that reads or writes \\Seen uses the logged-in
reader's own state.

Shared namespaces are built elsewhere, so these tests switch a personal
mailbox to per-user with SQL and play the second reader by writing its seen
row directly; they then check that the owner's view ignores that row and
that the owner's commands leave it alone. The mode conversions
(db_mailbox_set_seen_mode, db_mailbox_share_seen) are driven through
tests/protocol/seen_mode.c, a test program that calls them with the test
database's DSN, and checked over the wire afterwards."""

import os
import re
import subprocess

import pytest

from imapclient import connect
from kairan_conftest import REPO

MSG = (b"From: Alice Example <alice@example.org>\r\n"
       b"To: Bob <bob@example.org>\r\n"
       b"Subject: seen %d\r\n"
       b"Message-ID: <seen%d@example.org>\r\n"
       b"\r\n"
       b"Body %d.\r\n")


def msg(i):
    return MSG % (i, i, i)


def login(env, user):
    c = connect(env.imap_port)
    tagged, _ = c.cmd("l", f"LOGIN {user} secret")
    assert tagged.startswith(b"l OK"), tagged
    return c


def append(c, mailbox, raw, flags=""):
    extra = f" ({flags})" if flags else ""
    c.send(f"ap APPEND {mailbox}{extra} {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
    tagged, _ = c.read_tagged("ap")
    assert tagged.startswith(b"ap OK"), tagged
    return int(re.search(rb"\[APPENDUID \d+ (\d+)\]", tagged).group(1))


def sql(env, text):
    return env.pg.psql(text).strip()


def account_id(env, login_):
    return int(sql(env, f"SELECT id FROM accounts WHERE login = '{login_}'"))


def mailbox_id(env, login_, name):
    return int(sql(env, "SELECT mb.id FROM mailboxes mb JOIN accounts a ON a.id = mb.owner_id"
                        f" WHERE a.login = '{login_}' AND mb.name = '{name}'"))


def make_per_user(env, mbox):
    sql(env, f"UPDATE mailboxes SET seen_per_user = true WHERE id = {mbox}")


def seen_uids(env, account, mbox):
    """The reader's seen row as text ('{[1,3),[5,6)}'), None without a row."""
    out = sql(env, f"SELECT uids::text FROM seen WHERE account_id = {account}"
                   f" AND mailbox_id = {mbox}")
    return out or None


def set_seen(env, account, mbox, uids):
    """Writes a reader's seen row, as that reader's sessions would."""
    sql(env, f"INSERT INTO seen (account_id, mailbox_id, uids) VALUES ({account}, {mbox},"
             f" '{uids}') ON CONFLICT (account_id, mailbox_id) DO UPDATE SET uids = EXCLUDED.uids")


def flag_bits(env, mbox):
    """{uid: flags column} of a mailbox."""
    out = sql(env, f"SELECT uid, flags FROM mailbox_messages WHERE mailbox_id = {mbox} ORDER BY uid")
    return {int(u): int(f) for u, f in (line.split("|") for line in out.splitlines())}


def modseqs(env, mbox):
    out = sql(env, f"SELECT uid, modseq FROM mailbox_messages WHERE mailbox_id = {mbox} ORDER BY uid")
    return {int(u): int(m) for u, m in (line.split("|") for line in out.splitlines())}


def private_log(env, account, mbox):
    """The reader's private change log (migrations/0011): [(modseq, uids)]."""
    out = sql(env, f"SELECT modseq, uids::text FROM seen_changes WHERE account_id = {account}"
                   f" AND mailbox_id = {mbox} ORDER BY modseq")
    return [(int(m), u) for m, u in (line.split("|") for line in out.splitlines())]


def fetch_flags(c, tag="ff"):
    """{uid: set of flags} from UID FETCH 1:* (FLAGS)."""
    tagged, u = c.cmd(tag, "UID FETCH 1:* (FLAGS)")
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    out = {}
    for line in u:
        m = re.match(rb"\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)", line)
        assert m, line
        out[int(m.group(1))] = set(m.group(2).split()) - {b"\\Recent"}
    return out


def search(c, keys, tag="se"):
    tagged, u = c.cmd(tag, f"UID SEARCH {keys}")
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    return [int(x) for x in u[0].split()[2:]]


def status_unseen(c, mailbox):
    _, u = c.cmd("st", f"STATUS {mailbox} (UNSEEN MESSAGES)")
    m = re.search(rb"UNSEEN (\d+)", u[0])
    return int(m.group(1))


def claim_recent(c, mailbox):
    """SELECT once, so that later responses carry no \\Recent."""
    assert c.cmd("s0", f"SELECT {mailbox}")[0].startswith(b"s0 OK")
    c.cmd("x0", "UNSELECT")


@pytest.fixture
def team(env):
    """An owner with a per-user mailbox "Team" holding messages 1..3, none
    \\Recent any more (the third appended with \\Seen while the mailbox was
    still common, so its stale common bit must be ignored), and a second
    reader with an account and a seen row that says it has read everything."""
    owner, other = env.new_user("seen"), env.new_user("seenb")
    login(env, other).close()
    c = login(env, owner)
    assert c.cmd("cr", "CREATE Team")[0].startswith(b"cr OK")
    for i in (1, 2):
        append(c, "Team", msg(i))
    append(c, "Team", msg(3), "\\Seen")
    claim_recent(c, "Team")
    mbox = mailbox_id(env, owner, "Team")
    make_per_user(env, mbox)
    set_seen(env, account_id(env, other), mbox, "{[1,3]}")
    yield {"c": c, "owner": owner, "me": account_id(env, owner), "other": account_id(env, other),
           "mbox": mbox}
    c.close()


def test_store_seen_changes_only_the_readers_row(env, team):
    c, me, other, mbox = team["c"], team["me"], team["other"], team["mbox"]
    c.cmd("s", "SELECT Team")
    assert fetch_flags(c) == {1: set(), 2: set(), 3: set()}
    before = modseqs(env, mbox)

    tagged, u = c.cmd("a", "STORE 1 +FLAGS (\\Seen)")
    assert tagged.startswith(b"a OK") and u == [b"* 1 FETCH (FLAGS (\\Seen))"], u
    assert seen_uids(env, me, mbox) == "{[1,2)}"
    assert seen_uids(env, other, mbox) == "{[1,4)}"
    assert flag_bits(env, mbox) == {1: 0, 2: 0, 3: 1}    # 3: the stale bit, untouched
    # migrations/0011: a private change leaves the message rows and the
    # shared modseq alone; the counter moves, and the reader's log and
    # seen row take it.
    after = modseqs(env, mbox)
    assert after == before
    hms, shared = sql(env, f"SELECT highestmodseq, shared_modseq FROM mailboxes WHERE id = {mbox}").split("|")
    assert int(shared) < int(hms)
    assert private_log(env, me, mbox) == [(int(hms), "{[1,2)}")]
    assert sql(env, f"SELECT modseq FROM seen WHERE account_id = {me} AND mailbox_id = {mbox}") == hms

    # Nothing changes for this reader: no new modseq.
    tagged, u = c.cmd("b", "STORE 1 +FLAGS (\\Seen)")
    assert u == [b"* 1 FETCH (FLAGS (\\Seen))"] and modseqs(env, mbox) == after

    # Replace: \Seen per reader, \Flagged shared.
    tagged, u = c.cmd("c", "STORE 2:3 FLAGS (\\Seen \\Flagged)")
    assert u == [b"* 2 FETCH (FLAGS (\\Seen \\Flagged))",
                 b"* 3 FETCH (FLAGS (\\Seen \\Flagged))"], u
    assert seen_uids(env, me, mbox) == "{[1,4)}"
    assert flag_bits(env, mbox) == {1: 0, 2: 4, 3: 5}

    tagged, u = c.cmd("d", "STORE 1:2 -FLAGS.SILENT (\\Seen)")
    assert tagged.startswith(b"d OK") and u == [], u
    assert seen_uids(env, me, mbox) == "{[3,4)}"
    tagged, u = c.cmd("e", "STORE 3 FLAGS (\\Answered)")
    assert u == [b"* 3 FETCH (FLAGS (\\Answered))"], u
    assert seen_uids(env, me, mbox) == "{}"
    assert seen_uids(env, other, mbox) == "{[1,4)}"
    assert flag_bits(env, mbox) == {1: 0, 2: 4, 3: 3}
    assert fetch_flags(c) == {1: set(), 2: {b"\\Flagged"}, 3: {b"\\Answered"}}


def test_fetch_flags_and_implicit_seen_of_body(env, team):
    c, me, other, mbox = team["c"], team["me"], team["other"], team["mbox"]
    set_seen(env, me, mbox, "{[2,2]}")
    c.cmd("s", "SELECT Team")
    assert fetch_flags(c) == {1: set(), 2: {b"\\Seen"}, 3: set()}
    _, u = c.cmd("p", "FETCH 1 (BODY.PEEK[TEXT])")
    assert b"FLAGS" not in u[0] and seen_uids(env, me, mbox) == "{[2,3)}"
    tagged, u = c.cmd("f", "FETCH 1 (BODY[TEXT])")
    assert tagged.startswith(b"f OK"), tagged
    assert u[0].startswith(b"* 1 FETCH (BODY[TEXT] {9}") and u[0].endswith(b" FLAGS (\\Seen))"), u
    tagged, u = c.cmd("g", "FETCH 3 (FLAGS BODY[])")
    assert u[0].startswith(b"* 3 FETCH (FLAGS (\\Seen) BODY[] {"), u
    assert seen_uids(env, me, mbox) == "{[1,4)}"
    assert seen_uids(env, other, mbox) == "{[1,4)}"
    assert flag_bits(env, mbox) == {1: 0, 2: 0, 3: 1}


def test_search_seen_unseen_new_old(env, team):
    c, me, mbox = team["c"], team["me"], team["mbox"]
    set_seen(env, me, mbox, "{[1,1]}")
    append(c, "Team", msg(4))
    c.cmd("s", "SELECT Team")                    # only 4 is \Recent here
    assert search(c, "SEEN") == [1]
    assert search(c, "UNSEEN") == [2, 3, 4]
    assert search(c, "NOT SEEN") == [2, 3, 4]
    assert search(c, "NEW") == [4]
    assert search(c, "OLD") == [1, 2, 3]
    assert search(c, "RECENT SEEN") == []
    c.cmd("a", "STORE 4 +FLAGS (\\Seen)")
    assert search(c, "NEW") == [] and search(c, "RECENT SEEN") == [4]
    c.cmd("b", "STORE 3 +FLAGS (\\Seen \\Flagged)")
    assert search(c, "SEEN FLAGGED") == [3]
    assert search(c, "UNSEEN UNFLAGGED") == [2]
    assert search(c, "OR SEEN FLAGGED") == [1, 3, 4]
    assert search(c, "NOT OR UNSEEN DELETED") == [1, 3, 4]


def test_status_unseen_and_select_first_unseen(env, team):
    c, me, mbox = team["c"], team["me"], team["mbox"]
    assert status_unseen(c, "Team") == 3         # the other reader's row does not count
    set_seen(env, me, mbox, "{[1,1],[3,3]}")
    assert status_unseen(c, "Team") == 1
    _, u = c.cmd("s", "SELECT Team")
    assert b"* OK [UNSEEN 2] First unseen message" in u, u
    set_seen(env, me, mbox, "{[1,2]}")
    _, u = c.cmd("s", "EXAMINE Team")
    assert b"* OK [UNSEEN 3] First unseen message" in u, u
    set_seen(env, me, mbox, "{[1,3]}")
    _, u = c.cmd("s", "SELECT Team")
    assert not any(b"[UNSEEN" in x for x in u), u
    c.cmd("x", "UNSELECT")
    assert status_unseen(c, "Team") == 0
    sql(env, f"DELETE FROM seen WHERE account_id = {me}")
    _, u = c.cmd("s", "SELECT Team")
    assert b"* OK [UNSEEN 1] First unseen message" in u, u


def test_two_sessions_of_one_reader_learn_each_others_seen(env, team):
    c, owner = team["c"], team["owner"]
    c.cmd("s", "SELECT Team")
    with login(env, owner) as c2:
        c2.cmd("s", "SELECT Team")
        c.cmd("a", "STORE 1 +FLAGS.SILENT (\\Seen)")
        _, u = c2.cmd("n", "NOOP")
        assert b"* 1 FETCH (FLAGS (\\Seen))" in u, u
        _, u = c.cmd("n", "NOOP")
        assert not any(b"FETCH" in x for x in u), u     # its own change
        c2.cmd("f", "FETCH 2 (BODY[TEXT])")
        _, u = c.cmd("n2", "NOOP")
        assert b"* 2 FETCH (FLAGS (\\Seen))" in u, u
        c2.cmd("r", "STORE 1 -FLAGS.SILENT (\\Seen)")
        _, u = c.cmd("n3", "NOOP")
        assert b"* 1 FETCH (FLAGS ())" in u, u


def test_append_with_seen_marks_it_for_the_appender_only(env, team):
    c, me, other, mbox = team["c"], team["me"], team["other"], team["mbox"]
    uid = append(c, "Team", msg(4), "\\Seen \\Flagged")
    assert seen_uids(env, me, mbox) == f"{{[{uid},{uid + 1})}}"
    assert seen_uids(env, other, mbox) == "{[1,4)}"
    assert flag_bits(env, mbox)[uid] == 4
    append(c, "Team", msg(5), "\\Draft")
    assert seen_uids(env, me, mbox) == f"{{[{uid},{uid + 1})}}"
    # MULTIAPPEND: each message in the same transaction.
    a, b = msg(6), msg(7)
    c.send(f"ma APPEND Team (\\Seen) {{{len(a)}+}}\r\n".encode() + a
           + f" {{{len(b)}+}}\r\n".encode() + b + b"\r\n")
    tagged, _ = c.read_tagged("ma")
    assert tagged.startswith(b"ma OK"), tagged
    assert seen_uids(env, me, mbox) == f"{{[{uid},{uid + 1}),[{uid + 2},{uid + 3})}}"
    c.cmd("s", "SELECT Team")
    assert search(c, "SEEN") == [uid, uid + 2]
    # A normal mailbox keeps the common bit and gets no seen row.
    inbox = mailbox_id(env, team["owner"], "INBOX")
    u2 = append(c, "INBOX", msg(8), "\\Seen")
    assert flag_bits(env, inbox)[u2] == 1 and seen_uids(env, me, inbox) is None


def test_copy_and_move_carry_the_copiers_seen(env, team):
    c, me, other, mbox, owner = team["c"], team["me"], team["other"], team["mbox"], team["owner"]
    archive = mailbox_id(env, owner, "Archive")
    set_seen(env, me, mbox, "{[2,2]}")
    c.cmd("s", "SELECT Team")
    c.cmd("fl", "STORE 1 +FLAGS.SILENT (\\Flagged)")
    # per-user -> common: the copier's \Seen becomes the common bit; the
    # stale bit of 3 and the other reader's state do not travel.
    tagged, _ = c.cmd("a", "COPY 1:3 Archive")
    assert re.match(rb"a OK \[COPYUID \d+ 1:3 1:3\]", tagged), tagged
    assert flag_bits(env, archive) == {1: 4, 2: 1, 3: 0}
    assert seen_uids(env, me, archive) is None

    # common -> per-user: into the copier's row, never the common bit.
    assert c.cmd("cr", "CREATE Team2")[0].startswith(b"cr OK")
    team2 = mailbox_id(env, owner, "Team2")
    make_per_user(env, team2)
    set_seen(env, other, team2, "{[1,1]}")
    c.cmd("s2", "SELECT Archive")
    tagged, u = c.cmd("m", "MOVE 1:3 Team2")
    assert re.match(rb"\* OK \[COPYUID \d+ 1:3 1:3\]", u[0]), u
    assert flag_bits(env, team2) == {1: 4, 2: 0, 3: 0}
    assert seen_uids(env, me, team2) == "{[2,3)}"
    assert seen_uids(env, other, team2) == "{[1,2)}"

    # per-user -> per-user: from the copier's row to the copier's row.
    c.cmd("s3", "SELECT Team")
    c.cmd("b", "STORE 3 +FLAGS.SILENT (\\Seen)")
    tagged, _ = c.cmd("c", "UID MOVE 2:3 Team2")
    assert tagged.startswith(b"c OK"), tagged
    assert seen_uids(env, me, team2) == "{[2,3),[4,6)}"
    assert seen_uids(env, other, team2) == "{[1,2)}"
    assert flag_bits(env, team2) == {1: 4, 2: 0, 3: 0, 4: 0, 5: 0}
    c.cmd("s4", "SELECT Team2")
    assert fetch_flags(c) == {1: {b"\\Flagged"}, 2: {b"\\Seen"}, 3: set(),
                              4: {b"\\Seen"}, 5: {b"\\Seen"}}


def test_normal_mailbox_ignores_seen_rows(env):
    """seen_per_user = false: the common bit is the truth, whatever the
    seen table holds, and STORE writes the common bit only."""
    user = env.new_user("seenn")
    with login(env, user) as c:
        for i in (1, 2):
            append(c, "INBOX", msg(i))
        claim_recent(c, "INBOX")
        me, inbox = account_id(env, user), mailbox_id(env, user, "INBOX")
        set_seen(env, me, inbox, "{[1,2]}")
        _, u = c.cmd("s", "SELECT INBOX")
        assert b"* OK [UNSEEN 1] First unseen message" in u, u
        assert fetch_flags(c) == {1: set(), 2: set()}
        assert search(c, "SEEN") == [] and search(c, "UNSEEN") == [1, 2]
        tagged, u = c.cmd("a", "STORE 2 +FLAGS (\\Seen)")
        assert u == [b"* 2 FETCH (FLAGS (\\Seen))"], u
        c.cmd("f", "FETCH 1 (BODY[TEXT])")
        assert flag_bits(env, inbox) == {1: 1, 2: 1}
        assert seen_uids(env, me, inbox) == "{[1,3)}"
        assert search(c, "SEEN") == [1, 2]
        c.cmd("x", "UNSELECT")
        assert status_unseen(c, "INBOX") == 0


# ---- the mode conversions (schema/db_seen.c) --------------------------------

def seen_mode(env, *args):
    """Runs tests/protocol/seen_mode.c (built by make protocol) against the
    test database; returns its exit status (0 done, 2 no such mailbox)."""
    build = os.environ.get("KAIRAN_BUILD", os.path.join(REPO, "build"))
    exe = os.path.join(build, "tests", "seen_mode")
    r = subprocess.run([exe, env.pg.dsn] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode in (0, 2), r.stderr
    return r.returncode


def mode(env, mbox):
    return sql(env, f"SELECT seen_per_user, seen_fixed FROM mailboxes WHERE id = {mbox}")


def highestmodseq(env, mbox):
    return int(sql(env, f"SELECT highestmodseq FROM mailboxes WHERE id = {mbox}"))


@pytest.fixture
def common(env):
    """A normal mailbox "Box" with 1 and 3 \\Seen, 2 unseen and \\Flagged,
    and a second account."""
    owner, other = env.new_user("seenc"), env.new_user("seend")
    login(env, other).close()
    c = login(env, owner)
    c.cmd("cr", "CREATE Box")
    append(c, "Box", msg(1), "\\Seen")
    append(c, "Box", msg(2), "\\Flagged")
    append(c, "Box", msg(3), "\\Seen \\Answered")
    claim_recent(c, "Box")
    yield {"c": c, "owner": owner, "me": account_id(env, owner), "other": account_id(env, other),
           "mbox": mailbox_id(env, owner, "Box")}
    c.close()


def test_set_seen_mode_per_user_and_back(env, common):
    c, me, other, mbox = common["c"], common["me"], common["other"], common["mbox"]
    c.cmd("s", "SELECT Box")
    before, hms = modseqs(env, mbox), highestmodseq(env, mbox)

    assert seen_mode(env, "set", mbox, "per-user", "unfixed", me) == 0
    assert mode(env, mbox) == "t|f"
    assert seen_uids(env, me, mbox) == "{[1,2),[3,4)}"
    assert flag_bits(env, mbox) == {1: 0, 2: 4, 3: 2}
    after = modseqs(env, mbox)
    assert after[1] == after[3] == hms + 1 == highestmodseq(env, mbox) and after[2] == before[2]
    # The owner's flags did not change; the new modseq reaches its session.
    _, u = c.cmd("n", "NOOP")
    assert b"* 1 FETCH (FLAGS (\\Seen))" in u and b"* 3 FETCH (FLAGS (\\Seen \\Answered))" in u, u
    assert search(c, "UNSEEN") == [2]

    # Switching to the mode it is in changes nothing but seen_fixed.
    assert seen_mode(env, "set", mbox, "per-user", "fixed", other) == 0
    assert mode(env, mbox) == "t|t" and highestmodseq(env, mbox) == hms + 1
    assert seen_uids(env, other, mbox) is None

    # Back to common: the union of every reader's rows becomes the common bit.
    set_seen(env, other, mbox, "{[2,2]}")
    c.cmd("r", "STORE 3 -FLAGS.SILENT (\\Seen)")
    assert seen_mode(env, "set", mbox, "shared", "fixed", 0) == 0
    assert mode(env, mbox) == "f|t"
    assert flag_bits(env, mbox) == {1: 1, 2: 5, 3: 2}
    assert sql(env, f"SELECT count(*) FROM seen WHERE mailbox_id = {mbox}") == "0"
    # Every row whose stored bit changed gets a new modseq.
    _, u = c.cmd("n2", "NOOP")
    assert u == [b"* 1 FETCH (FLAGS (\\Seen))", b"* 2 FETCH (FLAGS (\\Seen \\Flagged))"], u
    c.cmd("a", "STORE 3 +FLAGS.SILENT (\\Seen)")
    assert flag_bits(env, mbox)[3] == 3 and seen_uids(env, me, mbox) is None

    assert seen_mode(env, "set", 999999999, "shared", "fixed", 0) == 2


def test_share_seen_switches_once_and_respects_fixed(env, common):
    me, mbox = common["me"], common["mbox"]
    assert seen_mode(env, "share", mbox, me) == 0
    assert mode(env, mbox) == "t|f"
    assert seen_uids(env, me, mbox) == "{[1,2),[3,4)}"
    assert flag_bits(env, mbox) == {1: 0, 2: 4, 3: 2}
    hms = highestmodseq(env, mbox)
    # Idempotent: already per-user, nothing moves.
    assert seen_mode(env, "share", mbox, me) == 0
    assert highestmodseq(env, mbox) == hms and seen_uids(env, me, mbox) == "{[1,2),[3,4)}"

    # An admin's explicit common mode stays.
    assert seen_mode(env, "set", mbox, "shared", "fixed", 0) == 0
    assert seen_mode(env, "share", mbox, me) == 0
    assert mode(env, mbox) == "f|t" and flag_bits(env, mbox) == {1: 1, 2: 4, 3: 3}
    assert seen_mode(env, "share", 999999999, me) == 2


def test_setacl_granting_read_switches_to_per_user(env, common):
    c, me, mbox = common["c"], common["me"], common["mbox"]
    other = sql(env, f"SELECT login FROM accounts WHERE id = {common['other']}")
    assert c.cmd("a", f"SETACL Box {other} lr")[0].startswith(b"a OK")
    assert mode(env, mbox) == "t|f"
    assert seen_uids(env, me, mbox) == "{[1,2),[3,4)}"
    c.cmd("s", "SELECT Box")
    assert search(c, "SEEN") == [1, 3]
