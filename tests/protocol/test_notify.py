"""NOTIFY (RFC 5465) over the wire: each filter and event, the responses a
client gets between its commands and during IDLE without asking, shared
folders (seen only by those with the "l" right, at the time of the
event), two kairand processes over one database, NOTIFY NONE, and hostile
NOTIFY SET arguments (docs/protocol.md, "NOTIFY")."""

import re
import time

import pytest

from imapclient import connect, login, ok
from test_change_bus import listener_pids, wait_bus_ready
from test_idle import append, done, quiet, start_idle, wait_for
from test_shared_folders import new_shared_account

NEW_EXP = "(MessageNew MessageExpunge)"
_teams = iter(range(1, 1_000_000))
ALL_MSG = "(MessageNew MessageExpunge FlagChange)"


def user_with(env, prefix, *boxes):
    """A fresh user with the given mailboxes: (login, watcher, writer)."""
    user = env.new_user(prefix)
    w = login(env.imap_port, user)
    for b in boxes:
        ok(w, f"CREATE {b}")
    return user, login(env.imap_port, user), w


def notify(c, args, tag="nt"):
    tagged, untagged = c.cmd(tag, "NOTIFY " + args)
    assert tagged.startswith(tag.encode() + b" OK"), (args, tagged, untagged)
    return untagged


def status_of(lines, name):
    """The STATUS responses for mailbox `name` among lines, as dicts."""
    out = []
    for line in lines:
        m = re.match(rb'^\* STATUS "?(.*?)"? \((.*)\)$', line)
        if m and m.group(1) == name.encode():
            items = m.group(2).split()
            out.append({items[i].decode(): int(items[i + 1]) for i in range(0, len(items), 2)})
    return out


def no_status(c, seconds=0.6):
    lines = quiet(c, seconds)
    assert not any(b"STATUS" in x or b"LIST" in x for x in lines), lines


# --- the command -----------------------------------------------------------

def test_rfc5465_capability_notify_after_login(env):
    c = login(env.imap_port, env.new_user("ncap"))
    _, u = c.cmd("c", "CAPABILITY")
    assert b"NOTIFY" in u[0].split(), u


def test_rfc5465_3_1_set_status_sends_status_of_each_mailbox_before_ok(env):
    _, c, w = user_with(env, "nst", "Lists", "Lists/a")
    append(w, "Lists/a")
    u = notify(c, f"SET STATUS (personal {NEW_EXP})")
    assert status_of(u, "INBOX") and status_of(u, "Lists"), u
    st = status_of(u, "Lists/a")[0]
    assert st["MESSAGES"] == 1 and st["UIDNEXT"] == 2 and st["UNSEEN"] == 1, st
    # Without STATUS: no STATUS at all.
    assert not status_of(notify(c, f"SET (personal {NEW_EXP})"), "Lists/a")


# --- events on mailboxes other than the selected one ------------------------

def test_rfc5465_5_2_messagenew_reaches_an_idle_session_between_commands(env):
    _, c, w = user_with(env, "nnew", "Lists")
    notify(c, f"SET (personal {NEW_EXP})")
    append(w, "Lists")
    # The client sent nothing: RFC 5465 lets the server speak at any time.
    line, _ = wait_for(c, rb"^\* STATUS Lists ", timeout=2)
    st = status_of([line], "Lists")[0]
    assert st["MESSAGES"] == 1 and st["UIDNEXT"] == 2, line


def test_rfc5465_5_3_messageexpunge_sends_the_new_count(env):
    _, c, w = user_with(env, "nexp", "Lists")
    append(w, "Lists")
    append(w, "Lists")
    notify(c, f"SET (mailboxes Lists {NEW_EXP})")
    ok(w, "SELECT Lists")
    ok(w, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    ok(w, "EXPUNGE")
    line, _ = wait_for(c, rb"^\* STATUS Lists ", timeout=2)
    assert status_of([line], "Lists")[0]["MESSAGES"] == 1, line


def test_rfc5465_5_1_flagchange_only_when_asked(env):
    _, c, w = user_with(env, "nflag", "A", "B")
    append(w, "A")
    append(w, "B")
    notify(c, f"SET (mailboxes A {ALL_MSG}) (mailboxes B {NEW_EXP})")
    ok(w, "SELECT A")
    ok(w, "STORE 1 +FLAGS (\\Seen)")
    line, _ = wait_for(c, rb"^\* STATUS A ", timeout=2)
    assert status_of([line], "A")[0]["UNSEEN"] == 0, line
    ok(w, "SELECT B")
    ok(w, "STORE 1 +FLAGS (\\Seen)")
    no_status(c)


def test_rfc5465_6_inboxes_is_inbox_only(env):
    _, c, w = user_with(env, "ninb", "Other")
    notify(c, f"SET (inboxes {NEW_EXP})")
    append(w, "Other")
    no_status(c)
    append(w, "INBOX")
    wait_for(c, rb"^\* STATUS INBOX ", timeout=2)


def test_rfc5465_6_subscribed_follows_subscriptions(env):
    _, c, w = user_with(env, "nsub", "Sub", "Unsub")
    ok(w, "SUBSCRIBE Sub")
    notify(c, f"SET (subscribed {NEW_EXP})")
    append(w, "Unsub")
    no_status(c)
    append(w, "Sub")
    wait_for(c, rb"^\* STATUS Sub ", timeout=2)
    # Subscribing later brings the mailbox in.
    ok(w, "SUBSCRIBE Unsub")
    quiet(c, 0.5)
    append(w, "Unsub")
    wait_for(c, rb"^\* STATUS Unsub ", timeout=2)


def test_rfc5465_6_subtree_and_mailboxes(env):
    _, c, w = user_with(env, "ntree", "Lists", "Lists/a", "Listsx", "Exact", "Exact/child")
    notify(c, f"SET (subtree Lists {NEW_EXP}) (mailboxes (Exact) {NEW_EXP})")
    append(w, "Listsx")
    append(w, "Exact/child")
    no_status(c)
    append(w, "Lists/a")
    wait_for(c, rb'^\* STATUS "?Lists/a"? ', timeout=2)
    append(w, "Exact")
    wait_for(c, rb"^\* STATUS Exact ", timeout=2)


# --- the selected mailbox ----------------------------------------------------

def test_rfc5465_6_1_selected_messagenew_with_fetch_attributes(env):
    _, c, w = user_with(env, "nsel")
    append(w, "INBOX")
    ok(c, "SELECT INBOX")
    notify(c, "SET (selected (MessageNew (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)]) "
              "MessageExpunge))")
    append(w, "INBOX")
    wait_for(c, rb"^\* 2 EXISTS$", timeout=2)
    line, _ = wait_for(c, rb"^\* 2 FETCH ", timeout=2)
    assert b"UID 2" in line and b"Subject: idle" in line, line
    # selected (not -delayed): expunges come at once too.
    ok(w, "SELECT INBOX")
    ok(w, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    ok(w, "EXPUNGE")
    wait_for(c, rb"^\* 1 EXPUNGE$", timeout=2)


def test_rfc5465_5_2_fetch_attributes_during_idle(env):
    _, c, w = user_with(env, "nselidle")
    ok(c, "SELECT INBOX")
    notify(c, "SET (selected (MessageNew (UID ENVELOPE) MessageExpunge))")
    start_idle(c)
    append(w, "INBOX")
    wait_for(c, rb"^\* 1 EXISTS$", timeout=2)
    line, _ = wait_for(c, rb"^\* 1 FETCH ", timeout=2)
    assert b"UID 1" in line and b"ENVELOPE" in line, line
    done(c)


def test_rfc5465_6_2_selected_delayed_holds_expunges_back(env):
    _, c, w = user_with(env, "ndel")
    append(w, "INBOX")
    ok(c, "SELECT INBOX")
    notify(c, f"SET (selected-delayed {NEW_EXP})")
    ok(w, "SELECT INBOX")
    ok(w, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    ok(w, "EXPUNGE")
    append(w, "INBOX")
    wait_for(c, rb"^\* 2 EXISTS$", timeout=2)
    assert not any(b"EXPUNGE" in x for x in quiet(c, 0.5))
    u = ok(c, "NOOP")
    assert b"* 1 EXPUNGE" in u, u


def test_selected_mailbox_deleted_between_commands(env):
    """The selected mailbox deleted by another session: the same BYE a
    command would get, then the connection ends."""
    _, c, w = user_with(env, "ngone", "Gone")
    ok(c, "SELECT Gone")
    notify(c, f"SET (selected {NEW_EXP})")
    ok(w, "DELETE Gone")
    wait_for(c, rb"^\* BYE ", timeout=2)
    assert c.read_until_closed(timeout=2) == []


def test_rfc5465_no_status_for_the_selected_mailbox(env):
    _, c, w = user_with(env, "nself")
    ok(c, "SELECT INBOX")
    u = notify(c, f"SET STATUS (personal {NEW_EXP})")
    assert not status_of(u, "INBOX"), u
    append(w, "INBOX")
    no_status(c)


# --- names and subscriptions -------------------------------------------------

def test_rfc5465_5_4_mailboxname_create_rename_delete(env):
    _, c, w = user_with(env, "nname")
    notify(c, "SET (personal (MailboxName))")
    ok(w, "CREATE Fresh")
    wait_for(c, rb'^\* LIST \(\) "/" Fresh$', timeout=2)
    ok(w, "RENAME Fresh Renamed")
    line, _ = wait_for(c, rb'^\* LIST \(\) "/" Renamed', timeout=2)
    assert b'("OLDNAME" (Fresh))' in line, line
    ok(w, "DELETE Renamed")
    wait_for(c, rb'^\* LIST \(\\NonExistent\) "/" Renamed$', timeout=2)


def test_unsubscribing_under_subscribed_is_not_a_deletion(env):
    """A mailbox that leaves the "subscribed" filter by UNSUBSCRIBE still
    exists: SubscriptionChange says so, MailboxName never says
    \\NonExistent for it."""
    _, c, w = user_with(env, "nunsub", "Box")
    ok(w, "SUBSCRIBE Box")
    notify(c, "SET (subscribed (MailboxName SubscriptionChange))")
    ok(w, "UNSUBSCRIBE Box")
    line, seen = wait_for(c, rb'^\* LIST \(\) "/" Box$', timeout=2)
    assert not any(b"NonExistent" in x for x in seen + quiet(c, 0.3)), seen


def test_rfc5465_5_5_subscriptionchange(env):
    _, c, w = user_with(env, "nsc", "Box")
    notify(c, "SET (personal (SubscriptionChange))")
    ok(w, "SUBSCRIBE Box")
    wait_for(c, rb'^\* LIST \(\\Subscribed\) "/" Box$', timeout=2)
    ok(w, "UNSUBSCRIBE Box")
    wait_for(c, rb'^\* LIST \(\) "/" Box$', timeout=2)


# --- IDLE, NONE ----------------------------------------------------------------

def test_rfc5465_status_arrives_during_idle(env):
    _, c, w = user_with(env, "nidle", "Lists")
    ok(c, "SELECT INBOX")
    notify(c, f"SET (personal {NEW_EXP})")
    start_idle(c)
    append(w, "Lists")
    wait_for(c, rb"^\* STATUS Lists ", timeout=2)
    done(c)


def test_rfc5465_3_2_notify_none_stops_events(env):
    _, c, w = user_with(env, "nnone", "Lists")
    notify(c, f"SET (personal {NEW_EXP})")
    notify(c, "NONE")
    append(w, "Lists")
    no_status(c)


def test_notify_bursts_coalesce(env):
    """Twenty quick APPENDs: the watcher is told the final count, in far
    fewer STATUS responses than changes."""
    _, c, w = user_with(env, "nburst", "Lists")
    notify(c, f"SET (personal {NEW_EXP})")
    for _ in range(20):
        append(w, "Lists")
    lines = quiet(c, 1.0)
    sts = status_of(lines, "Lists")
    assert sts and sts[-1]["MESSAGES"] == 20, lines
    # Never more than one per change, never one that says nothing new.
    assert len(sts) <= 20, lines
    assert all(a != b for a, b in zip(sts, sts[1:])), lines


# --- shared folders and rights -------------------------------------------------

@pytest.fixture
def sales(env):
    """Shared/<team> granted to bob (lrs); carol has no right on it."""
    bob, carol = env.new_user("nbob"), env.new_user("ncarol")
    alice = env.new_user("nalice")
    for u in (alice, bob, carol):
        login(env.imap_port, u).close()
    team = f"nsales{next(_teams)}x{carol}"   # unique, and no person's login
    new_shared_account(env, team, {bob: "lrs", alice: "lrswiptea"})
    return alice, bob, carol, f"Shared/{team}"


def test_shared_status_for_bob_nothing_for_carol(env, sales):
    alice, bob, carol, box = sales
    b, c = login(env.imap_port, bob), login(env.imap_port, carol)
    a = login(env.imap_port, alice)
    ok(b, "SELECT INBOX")
    u = notify(b, f"SET STATUS (mailboxes {box} {NEW_EXP}) (personal {NEW_EXP})")
    assert status_of(u, box), u
    u = notify(c, f"SET STATUS (subtree Shared {NEW_EXP}) (mailboxes {box} {NEW_EXP})")
    assert not status_of(u, box), u
    append(a, box)
    line, _ = wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=2)
    assert status_of([line], box)[0]["MESSAGES"] == 1, line
    no_status(c)


def test_subscribed_with_inbox_selected_the_issue_scenario(env, sales):
    """Issue 11: NOTIFY for subscribed mailboxes with INBOX selected: a
    message appended to the shared folder is an unsolicited STATUS to bob;
    carol, who cannot see it, gets nothing even with the name subscribed."""
    alice, bob, carol, box = sales
    a, b, c = (login(env.imap_port, u) for u in (alice, bob, carol))
    for s in (b, c):
        s.cmd("s", f"SUBSCRIBE {box}")
        ok(s, "SELECT INBOX")
        notify(s, f"SET (selected {NEW_EXP}) (subscribed {NEW_EXP})")
    append(a, box)
    wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=2)
    no_status(c)


def test_per_user_seen_reaches_only_its_reader(env, sales):
    """Shared folders keep \\Seen per reader: bob reading a circular
    changes bob's UNSEEN, not alice's, and alice is not told."""
    alice, bob, _, box = sales
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    append(a, box)
    notify(a, f"SET (subtree Shared {ALL_MSG})")
    notify(b, f"SET (subtree Shared {ALL_MSG})")
    b2 = login(env.imap_port, bob)
    ok(b2, f"SELECT {box}")
    ok(b2, "STORE 1 +FLAGS (\\Seen)")
    line, _ = wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=2)
    assert status_of([line], box)[0]["UNSEEN"] == 0, line
    no_status(a)


def test_withdrawn_l_right_stops_events(env, sales):
    alice, bob, _, box = sales
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    notify(b, f"SET (subtree Shared {NEW_EXP})")
    append(a, box)
    wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=2)
    ok(a, f"DELETEACL {box} {bob}")
    quiet(b, 0.5)
    append(a, box)
    append(a, box)
    no_status(b, 1.0)
    # A grant brings it back.
    ok(a, f"SETACL {box} {bob} lr")
    quiet(b, 0.5)
    append(a, box)
    line, _ = wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=2)
    assert status_of([line], box)[0]["MESSAGES"] == 4, line


def test_two_processes(env, sales):
    """bob watches through a second kairand; alice writes through the first."""
    alice, bob, _, box = sales
    k2 = env.start_kairand()
    wait_bus_ready(env.kairand.log_path)
    wait_bus_ready(k2.log_path)
    a, b = login(env.imap_port, alice), login(k2.imap_port, bob)
    ok(b, "SELECT INBOX")
    notify(b, f"SET (subtree Shared {NEW_EXP}) (personal (MailboxName))")
    append(a, box)
    wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=1)
    # A name change made through the other process.
    wb = login(env.imap_port, bob)
    ok(wb, "CREATE FromOtherProcess")
    wait_for(b, rb'^\* LIST \(\) "/" FromOtherProcess$', timeout=1)
    start_idle(b)
    append(a, box)
    wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=1)
    done(b)
    # A right withdrawn through the other process stops the events.
    ok(a, f"DELETEACL {box} {bob}")
    quiet(b, 0.5)
    append(a, box)
    no_status(b, 1.0)


# --- hostile arguments -----------------------------------------------------------

HOSTILE = [
    ("", "BAD"),
    ("FOO", "BAD"),
    ("NONE extra", "BAD"),
    ("SET", "BAD"),
    ("SET STATUS", "BAD"),
    ("SET (bogus (MessageNew MessageExpunge))", "BAD"),
    ("SET (personal)", "BAD"),
    ("SET ()", "BAD"),
    ("SET personal", "BAD"),
    ("SET ((personal) (MessageNew MessageExpunge))", "BAD"),
    ("SET (personal ())", "BAD"),
    ("SET (personal (MessageNew))", "BAD"),
    ("SET (personal (MessageExpunge))", "BAD"),
    ("SET (personal (FlagChange))", "BAD"),
    ("SET (personal (MessageNew MessageExpunge MessageNew))", "BAD"),
    ("SET (personal (MessageNew MessageExpunge)) (personal (MailboxName))", "BAD"),
    ("SET (selected (MessageNew MessageExpunge)) (selected-delayed NONE)", "BAD"),
    ("SET (selected (MailboxName))", "BAD"),
    ('SET (personal ("MessageNew" MessageExpunge))', "BAD"),
    ("SET (personal (MessageNew (UID) MessageExpunge))", "BAD"),
    ("SET (selected (MessageNew (NOSUCHATT) MessageExpunge))", "BAD"),
    ("SET (selected (MessageNew (BODY[]) MessageExpunge))", "BAD"),
    ("SET (subtree (MessageNew MessageExpunge))", "BAD"),
    ("SET (subtree () (MessageNew MessageExpunge))", "BAD"),
    ("SET (mailboxes ((a)) (MessageNew MessageExpunge))", "BAD"),
    ("SET (mailboxes &Jjo (MessageNew MessageExpunge))", "BAD"),
    ("SET (mailboxes a//b (MessageNew MessageExpunge))", "BAD"),
    ("SET (personal (MessageNew MessageExpunge)) STATUS", "BAD"),
    ("SET (personal (MessageNew MessageExpunge AnnotationChange))",
     "NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)]"),
    ("SET (personal (MailboxMetadataChange))", "NO [BADEVENT"),
    ("SET (personal (ServerMetadataChange))", "NO [BADEVENT"),
    ("SET (personal (NoSuchEvent))", "NO [BADEVENT"),
    ("SET " + " ".join(f"(mailboxes m{i} NONE)" for i in range(17)), "NO [LIMIT]"),
    ("SET (personal " + "(" * 200 + ")" * 200 + ")", "BAD"),
]


@pytest.mark.parametrize("args,expected", HOSTILE)
def test_hostile_notify_set(env, args, expected):
    c = login(env.imap_port, env.new_user("nhost"))
    tagged, _ = c.cmd("h", ("NOTIFY " + args).rstrip())
    assert tagged.startswith(b"h " + expected.encode()), (args, tagged)
    # The session goes on, with NOTIFY as it was (off).
    ok(c, "NOOP")
    c.close()


def test_notify_needs_a_login(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("h", f"NOTIFY SET (personal {NEW_EXP})")
        assert tagged.startswith(b"h BAD") or tagged.startswith(b"h NO"), tagged
        _, u = c.cmd("c", "CAPABILITY")
        assert b"NOTIFY" not in u[0].split(), u


def test_hostile_ten_thousand_mailboxes(env):
    c = login(env.imap_port, env.new_user("nmany"))
    names = " ".join(f"m{i}" for i in range(10000))
    tagged, _ = c.cmd("h", f"NOTIFY SET (mailboxes ({names}) {NEW_EXP})")
    assert tagged.startswith(b"h NO [NOTIFICATIONOVERFLOW]"), tagged[:200]
    ok(c, "NOOP")


def test_failed_set_keeps_the_previous_one(env):
    _, c, w = user_with(env, "nkeep", "Lists")
    notify(c, f"SET (personal {NEW_EXP})")
    tagged, _ = c.cmd("h", "NOTIFY SET (personal (AnnotationChange MessageNew MessageExpunge))")
    assert tagged.startswith(b"h NO [BADEVENT"), tagged
    append(w, "Lists")
    wait_for(c, rb"^\* STATUS Lists ", timeout=2)


def create_many(c, n, prefix):
    """n CREATEs, pipelined, each of which must succeed."""
    c.send("".join(f"c{i} CREATE {prefix}{i}\r\n" for i in range(n)).encode())
    for i in range(n):
        tagged, _ = c.read_tagged(f"c{i}")
        assert tagged.startswith(f"c{i} OK".encode()), tagged


def test_rfc5465_5_8_overflow_past_1000_watched_mailboxes(env):
    """A set that grows past the cap later: * OK [NOTIFICATIONOVERFLOW] and
    NOTIFY is off (RFC 5465 §5.8); a NOTIFY SET that matches more than the
    cap from the start: tagged NO, the previous one stays."""
    _, c, w = user_with(env, "nover")
    notify(c, "SET (personal (MailboxName))")
    create_many(w, 1000, "M")
    line, _ = wait_for(c, rb"^\* OK \[NOTIFICATIONOVERFLOW\]", timeout=10)
    quiet(c, 0.5)
    ok(w, "CREATE After")
    no_status(c)
    tagged, _ = c.cmd("h", "NOTIFY SET (personal (MailboxName))")
    assert tagged.startswith(b"h NO [NOTIFICATIONOVERFLOW]"), tagged
    # A narrower one still works.
    notify(c, f"SET (inboxes {NEW_EXP})")
    append(w, "INBOX")
    wait_for(c, rb"^\* STATUS INBOX ", timeout=2)


def test_lost_listen_connection_loses_no_notify_event(env, sales):
    """Issue 11 item 7: pg_terminate_backend on every LISTEN connection
    while a NOTIFY session waits in the other process: the next change
    still reaches it within 5 s, and so does one after the reconnect."""
    alice, bob, _, box = sales
    k2 = env.start_kairand()
    wait_bus_ready(k2.log_path)
    a, b = login(env.imap_port, alice), login(k2.imap_port, bob)
    notify(b, f"SET (mailboxes {box} {NEW_EXP})")
    pids = listener_pids(env)
    assert len(pids) >= 2, pids
    for pid in pids:
        env.pg.psql(f"SELECT pg_terminate_backend({pid})")
    append(a, box)
    line, _ = wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=5)
    assert status_of([line], box)[0]["MESSAGES"] == 1, line
    t0 = time.monotonic()
    while len(listener_pids(env)) < len(pids):
        assert time.monotonic() - t0 < 15, "the listeners did not reconnect"
        time.sleep(0.1)
    quiet(b, 0.3)
    append(a, box)
    line, _ = wait_for(b, rb"^\* STATUS .*" + box.encode(), timeout=5)
    assert status_of([line], box)[0]["MESSAGES"] == 2, line


def test_postgresql_restart_loses_no_notify_event(env):
    """Issue 11 item 7, for NOTIFY: a kairand on a PostgreSQL of its own;
    the NOTIFY session is told nothing while PostgreSQL is down (no BYE, no
    error), and a change after the restart still reaches it."""
    import kairan_env as ke
    pg = ke.Postgres(env._workdir("pg-restart-notify")).start()
    try:
        k = env.start_kairand(db_dsn=pg.dsn, migrate=True, lmtp_listen="")
        wait_bus_ready(k.log_path)
        user = env.new_user("nrestart")
        c, w = login(k.imap_port, user), login(k.imap_port, user)
        ok(w, "CREATE Lists")
        notify(c, f"SET (personal {NEW_EXP})")
        pg.stop()
        assert not [x for x in quiet(c, 1.0) if x.startswith((b"* BYE", b"* NO", b"* BAD"))]
        pg.start()
        t0 = time.monotonic()
        while not w.cmd("w", "NOOP")[0].startswith(b"w OK"):
            assert time.monotonic() - t0 < 20, "PostgreSQL did not come back"
            time.sleep(0.2)
        append(w, "Lists")
        line, _ = wait_for(c, rb"^\* STATUS Lists ", timeout=5)
        assert status_of([line], "Lists")[0]["MESSAGES"] == 1, line
        c.close()
        w.close()
        k.stop()
    finally:
        pg.stop()
