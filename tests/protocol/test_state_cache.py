"""The mailbox state cache (docs/architecture.md, "Design decisions", 1),
as clients see it: FETCH of flags is answered from the process's shared
state of the mailbox, which the changes read before each command keep
current, with each reader's own \\Seen in a per-user team mailbox (RFC 3501
§2.3.2, RFC 4314 §4 "s"). Whatever the cache holds, every answer must be
what PostgreSQL holds: these tests look at the same messages from several
readers and sessions, across re-SELECTs that find the state warm."""

import re

import imapclient
from imapclient import login, ok
from test_shared_folders import new_shared_account

MSG = (b"From: Boss <boss@example.org>\r\nTo: team@example.org\r\n"
       b"Subject: circular %d\r\nMessage-ID: <circ%d@example.org>\r\n\r\nRead me.\r\n")


def flags(c, tag="ff", command="UID FETCH 1:* (FLAGS)"):
    """{uid: set of flags} (without \\Recent) from a FETCH of flags."""
    _, u = ok_tagged(c, tag, command)
    out = {}
    for line in u:
        m = re.match(rb"\* \d+ FETCH \((?:UID (\d+) )?FLAGS \(([^)]*)\)(?: UID (\d+))?\)", line)
        if m and (m.group(1) or m.group(3)):
            out[int(m.group(1) or m.group(3))] = set(m.group(2).split()) - {b"\\Recent"}
    return out


def ok_tagged(c, tag, command):
    tagged, u = c.cmd(tag, command)
    assert tagged.startswith(tag.encode() + b" OK"), (command, tagged)
    return tagged, u


_teams = iter(range(1, 1_000_000))


def team_of(env, n_readers=2, messages=3):
    """A team mailbox Shared/<name> (per-user \\Seen, as kairanctl makes
    it) granted to n_readers fresh people, with messages circulars."""
    name = f"circ{next(_teams)}x{env.new_user('x')}"
    readers = [env.new_user("member") for _ in range(n_readers)]
    for r in readers:
        login(env.imap_port, r).close()
    new_shared_account(env, name, {r: "lrswipte" for r in readers})
    c = login(env.imap_port, readers[0])
    for i in range(messages):
        raw = MSG % (i, i)
        tagged, _ = c.cmd("ap", f"APPEND Shared/{name} {{{len(raw)}+}}\r\n".encode().decode()
                          + raw.decode())
        assert tagged.startswith(b"ap OK"), tagged
    c.close()
    return f"Shared/{name}", readers


def test_each_reader_sees_own_seen_from_the_shared_state(env):
    box, (alice, bob) = team_of(env)
    a1, a2, b = (login(env.imap_port, u) for u in (alice, alice, bob))
    try:
        for c in (a1, a2, b):
            ok(c, f"SELECT {box}")
        ok(a1, "UID STORE 1 +FLAGS (\\Seen \\Flagged)")
        # alice's other session learns her \Seen; bob sees the shared
        # \Flagged but not alice's reading.
        assert flags(a2)[1] == {b"\\Seen", b"\\Flagged"}
        assert flags(b)[1] == {b"\\Flagged"}
        # An implicit \Seen (FETCH BODY[]) is alice's too.
        ok(a2, "UID FETCH 2 (BODY[])")
        assert flags(a1)[2] == {b"\\Seen"}
        assert flags(b)[2] == set()
        # bob reads message 3; alice's view does not change.
        ok(b, "UID STORE 3 +FLAGS.SILENT (\\Seen)")
        assert flags(b) == {1: {b"\\Flagged"}, 2: set(), 3: {b"\\Seen"}}
        assert flags(a1) == {1: {b"\\Seen", b"\\Flagged"}, 2: {b"\\Seen"}, 3: set()}
    finally:
        for c in (a1, a2, b):
            c.close()


def test_reselect_finds_the_state_warm_and_right(env):
    box, (alice, bob) = team_of(env)
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    try:
        ok(a, f"SELECT {box}")
        ok(a, "UID STORE 1:2 +FLAGS (\\Seen)")
        ok(a, "UID STORE 2 +FLAGS ($Circulated)")
        ok(a, "UNSELECT")
        # bob selects while the state is warm (alice's session kept it):
        # his own \Seen, the shared keyword, and UNSEEN is his first.
        _, u = ok_tagged(b, "s", f"SELECT {box}")
        assert b"* OK [UNSEEN 1] First unseen message" in u, u
        assert flags(b) == {1: set(), 2: {b"$Circulated"}, 3: set()}
        _, u = ok_tagged(a, "s", f"SELECT {box}")
        assert b"* OK [UNSEEN 3] First unseen message" in u, u
        assert flags(a) == {1: {b"\\Seen"}, 2: {b"\\Seen", b"$Circulated"}, 3: set()}
        # Both answers agree with the store's FETCH of a full row, which
        # never comes from the state.
        _, u = ok_tagged(a, "fb", "UID FETCH 1:* (FLAGS RFC822.SIZE)")
        from_store = {int(re.search(rb"UID (\d+)", x).group(1)):
                      set(re.search(rb"FLAGS \(([^)]*)\)", x).group(1).split()) - {b"\\Recent"}
                      for x in u if b"FETCH" in x}
        assert from_store == flags(a)
    finally:
        a.close()
        b.close()


def test_expunge_held_back_during_fetch_is_not_shown(env):
    """RFC 3501 §7.4.1: while a's FETCH may not report b's expunge, the
    expunged message has nothing left to show; numbering holds until a
    NOOP reports it."""
    box, (alice, bob) = team_of(env, messages=4)
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    try:
        ok(a, f"SELECT {box}")
        ok(b, f"SELECT {box}")
        ok(b, "UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        ok(b, "UID EXPUNGE 2")
        _, u = ok_tagged(a, "f", "FETCH 1:* (FLAGS)")
        assert not any(x.endswith(b"EXPUNGE") for x in u), u
        shown = [int(x.split()[1]) for x in u if b"FETCH (FLAGS" in x]
        assert shown == [1, 3, 4], u
        _, u = ok_tagged(a, "n", "NOOP")
        assert b"* 2 EXPUNGE" in u, u
        assert [int(x.split()[1]) for x in ok_tagged(a, "g", "FETCH 1:* (FLAGS)")[1]
                if b"FETCH" in x] == [1, 2, 3]
    finally:
        a.close()
        b.close()


def test_many_sessions_many_changes_agree_with_the_store(env):
    """Four readers, two sessions each, change flags in turn; after every
    round each session's FETCH of flags (from the state) equals a FETCH
    that reads the store."""
    box, readers = team_of(env, n_readers=4, messages=12)
    sessions = [login(env.imap_port, r) for r in readers for _ in range(2)]
    try:
        for c in sessions:
            ok(c, f"SELECT {box}")
        for rnd in range(6):
            c = sessions[(rnd * 3) % len(sessions)]
            uid = 1 + (rnd * 5) % 12
            flag = ("\\Seen", "\\Flagged", "$Label1", "\\Answered")[rnd % 4]
            ok(c, f"UID STORE {uid} {'+' if rnd % 3 else '-'}FLAGS ({flag})")
            for s in sessions:
                cached = flags(s, "fc")
                _, u = ok_tagged(s, "fs", "UID FETCH 1:* (FLAGS INTERNALDATE)")
                stored = {int(re.search(rb"UID (\d+)", x).group(1)):
                          set(re.search(rb"FLAGS \(([^)]*)\)", x).group(1).split()) - {b"\\Recent"}
                          for x in u if b"INTERNALDATE" in x}
                assert cached == stored, (rnd, cached, stored)
    finally:
        for c in sessions:
            c.close()
