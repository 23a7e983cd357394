"""The change bus (docs/architecture.md, "Design decisions", 3), as clients
of two kairand processes over one database see it:

- a command on a selected mailbox that did not change reads nothing from
  PostgreSQL (issue 10: FETCH of flags answered from the state cache, no
  change poll);
- a change made through the other process reaches a session at its next
  command within the bus's latency, not the reconcile's second;
- a lost LISTEN connection (pg_terminate_backend) loses nothing: sessions
  read the changes until the bus is back;
- an ACL change made by kairanctl takes effect in an open session at its
  next command (RFC 4314 §4).
"""

import os
import socket
import statistics
import subprocess
import time

from imapclient import login, ok

MSG = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: bus %d\r\n"
       b"Message-ID: <bus%d@example.org>\r\n\r\nBody.\r\n")


def fill(c, mailbox, n):
    for i in range(n):
        raw = MSG % (i, i)
        tagged, _ = c.cmd("ap", f"APPEND {mailbox} {{{len(raw)}+}}\r\n" + raw.decode())
        assert tagged.startswith(b"ap OK"), tagged


def sync_and_fetch_calls(env):
    """Calls so far of the change read (mailbox_sync) and of the store's
    FETCH, from pg_stat_statements."""
    env.pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    out = env.pg.psql("SELECT coalesce(sum(calls) FILTER (WHERE query LIKE "
                      "'WITH l AS (SELECT id, highestmodseq, uidnext, owner_id%'), 0),"
                      " coalesce(sum(calls) FILTER (WHERE query LIKE 'SELECT mm.uid,%'), 0)"
                      " FROM pg_stat_statements").strip()
    return tuple(int(x) for x in out.split("|"))


def wait_bus_ready(k_log, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(k_log, errors="replace") as f:
            if "bus: listening for changes" in f.read():
                return
        time.sleep(0.05)
    raise AssertionError("the bus never started listening")


def two_processes(env, n_messages):
    """A fresh user's INBOX with n_messages, selected by session a on the
    shared kairand and session b on a second one; a has read the flags."""
    user = env.new_user("bus")
    k2 = env.start_kairand()
    wait_bus_ready(env.kairand.log_path)
    wait_bus_ready(k2.log_path)
    a, b = login(env.imap_port, user), login(k2.imap_port, user)
    fill(a, "INBOX", n_messages)
    ok(a, "SELECT INBOX")
    ok(b, "SELECT INBOX")
    ok(a, "UID FETCH 1:* (FLAGS)")
    return a, b


def flags_of(c, uid, tag="f"):
    _, u = c.cmd(tag, f"UID FETCH {uid} (FLAGS)")
    return b" ".join(x for x in u if f"UID {uid} ".encode() in x or f"(UID {uid}".encode() in x)


def test_unchanged_mailbox_costs_no_statement(env):
    user = env.new_user("bus")
    wait_bus_ready(env.kairand.log_path)
    c = login(env.imap_port, user)
    try:
        fill(c, "INBOX", 5)
        ok(c, "SELECT INBOX")
        ok(c, "UID FETCH 1:* (FLAGS)")
        before = sync_and_fetch_calls(env)
        for i in range(20):
            ok(c, "UID FETCH 1:* (FLAGS)", tag=f"f{i}")
            ok(c, "NOOP", tag=f"n{i}")
        after = sync_and_fetch_calls(env)
        assert after == before, (before, after)
        # The session's own STORE is settled into its view and the shared
        # state: the next FETCH reads nothing and shows the new flag.
        ok(c, "UID STORE 1 +FLAGS (\\Flagged)")
        u = ok(c, "UID FETCH 1 (FLAGS)")
        assert b"\\Flagged" in u[0], u
        assert sync_and_fetch_calls(env) == after
        # Its own EXPUNGE too: the message is gone from the state.
        ok(c, "UID STORE 3 +FLAGS.SILENT (\\Deleted)")
        u = ok(c, "UID EXPUNGE 3")
        assert u == [b"* 3 EXPUNGE"], u
        u = ok(c, "UID FETCH 1:* (FLAGS)")
        assert [x.split(b" ")[4] for x in u] == [b"1", b"2", b"4", b"5"], u
        assert sync_and_fetch_calls(env) == after
        # Another session's change costs the next command one read.
        other = login(env.imap_port, user)
        ok(other, "SELECT INBOX")
        ok(other, "UID STORE 2 +FLAGS (\\Answered)")
        other.close()
        base = sync_and_fetch_calls(env)[0]
        u = ok(c, "UID FETCH 2 (FLAGS)")
        assert any(b"\\Answered" in x for x in u), u
        assert sync_and_fetch_calls(env)[0] == base + 1
    finally:
        c.close()


def test_change_through_another_process_arrives_within_the_bus_latency(env):
    a, b = two_processes(env, 3)
    try:
        delays = []
        for i in range(10):
            flag = "+FLAGS" if i % 2 == 0 else "-FLAGS"
            ok(b, f"UID STORE 2 {flag} (\\Flagged)", tag=f"s{i}")
            t0 = time.monotonic()
            while (b"\\Flagged" in flags_of(a, 2)) != (i % 2 == 0):
                assert time.monotonic() - t0 < 5, "the change never arrived"
                time.sleep(0.005)
            delays.append(time.monotonic() - t0)
        # The reconcile alone (every second) would give a median near
        # 0.5 s; the notification comes within milliseconds.
        assert statistics.median(delays) < 0.2, delays
    finally:
        a.close()
        b.close()


def listener_pids(env):
    out = env.pg.psql("SELECT pid FROM pg_stat_activity"
                      " WHERE application_name = 'kairan bus listener'")
    return [int(x) for x in out.split()]


def test_lost_listen_connection_loses_nothing(env):
    a, b = two_processes(env, 2)
    try:
        pids = listener_pids(env)
        assert len(pids) >= 2, pids
        for pid in pids:
            env.pg.psql(f"SELECT pg_terminate_backend({pid})")
        ok(b, "UID STORE 1 +FLAGS (\\Answered)")
        t0 = time.monotonic()
        while b"\\Answered" not in flags_of(a, 1):
            assert time.monotonic() - t0 < 5, "a change was missed"
            time.sleep(0.02)
        # The listeners come back by themselves.
        t0 = time.monotonic()
        while len(listener_pids(env)) < len(pids):
            assert time.monotonic() - t0 < 15, "the listeners did not reconnect"
            time.sleep(0.1)
        ok(b, "UID STORE 1 -FLAGS (\\Answered)")
        t0 = time.monotonic()
        while b"\\Answered" in flags_of(a, 1):
            assert time.monotonic() - t0 < 5, "a change was missed after reconnecting"
            time.sleep(0.02)
    finally:
        a.close()
        b.close()


def test_rfc2177_lost_listen_connection_during_idle_next_change_within_5s(env):
    """Issue 11, item 7 and "what I will check": a idles on one process;
    every bus listener is killed with pg_terminate_backend while it idles.
    A change made through the other process before the listeners are back
    (a notification nobody hears) and one made after both reach the idler
    within 5 s each: the IDLE never ends, nothing is missed."""
    from test_idle import start_idle, wait_for, done
    a, b = two_processes(env, 2)
    try:
        start_idle(a)
        pids = listener_pids(env)
        assert len(pids) >= 2, pids
        for pid in pids:
            env.pg.psql(f"SELECT pg_terminate_backend({pid})")
        ok(b, "UID STORE 1 +FLAGS.SILENT (\\Flagged)")
        line, before = wait_for(a, rb"^\* 1 FETCH", timeout=5.0)
        assert b"\\Flagged" in line, line
        assert not [x for x in before if x.startswith((b"* BYE", b"i "))], before
        t0 = time.monotonic()
        while len(listener_pids(env)) < len(pids):
            assert time.monotonic() - t0 < 15, "the listeners did not reconnect"
            time.sleep(0.1)
        fill(b, "INBOX", 1)
        wait_for(a, rb"^\* 3 EXISTS", timeout=5.0)
        ok(b, "UID STORE 2 +FLAGS.SILENT (\\Answered)")
        line, _ = wait_for(a, rb"^\* 2 FETCH", timeout=5.0)
        assert b"\\Answered" in line, line
        done(a)
    finally:
        a.close()
        b.close()


def test_rfc4314_acl_change_by_kairanctl_reaches_an_open_session(env):
    owner, reader = env.new_user("busown"), env.new_user("busread")
    o, r = login(env.imap_port, owner), login(env.imap_port, reader)
    try:
        ok(o, "CREATE Notes")
        fill(o, "Notes", 1)
        ok(o, f"SETACL Notes {reader} lr")
        ok(r, f'SELECT "Other Users/{owner}/Notes"')
        ok(r, "FETCH 1 (FLAGS)")
        args = [env.kairand.kairanctl, "-c", env.kairand.conf_path, "acl", "remove",
                f"{owner}:Notes", reader]
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, (p.stdout, p.stderr)
        t0 = time.monotonic()
        while True:
            tagged, u = r.cmd("f", "FETCH 1 (FLAGS)")
            if tagged.startswith(b"f NO [NOPERM]"):
                assert b"* OK [CLOSED]" in b"\n".join(u), u
                break
            assert time.monotonic() - t0 < 0.5, "the revoked right still works"
            time.sleep(0.01)
    finally:
        o.close()
        r.close()


def test_rfc2177_idle_across_processes_p99_within_100ms(env):
    """Bob idles on one kairand; changes made through the other reach his
    socket through the bus: p99 within 100 ms over 50 changes (issue 11).
    The publisher gathers 5 ms of changes per NOTIFY; the idle poll is off
    while the bus is trusted, so only the bus can be this fast."""
    from test_idle import start_idle, wait_for, done
    a, b = two_processes(env, 2)
    try:
        samples = []
        start_idle(a)
        for i in range(50):
            op = "+" if i % 2 == 0 else "-"
            t0 = time.monotonic()
            b.send(f"s{i} UID STORE 1 {op}FLAGS.SILENT (\\Flagged)\r\n")
            wait_for(a, rb"^\* 1 FETCH", timeout=2.0)
            samples.append(time.monotonic() - t0)
            tagged, _ = b.read_tagged(f"s{i}")
            assert tagged.startswith(f"s{i} OK".encode()), tagged
        done(a)
        samples.sort()
        p50, p99 = samples[len(samples) // 2], samples[49 * 99 // 100]
        print(f"\ncross-process IDLE latency: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
        assert p99 <= 0.100, (p50, p99, samples[-5:])
    finally:
        a.close()
        b.close()


def login_when_listening(port, user, proc, log=None):
    """Logs in to a kairand we started as `proc` once it listens (15 s at
    most; its log, if any, says why it exited early)."""
    deadline = time.monotonic() + 15
    while True:
        assert proc.poll() is None, open(log).read() if log else "kairand exited"
        try:
            return login(port, user)
        except OSError:
            assert time.monotonic() < deadline, "the second kairand never listened"
            time.sleep(0.1)


def test_second_kairand_with_o_overrides(env):
    """kairand -o KEY=VALUE over the shared instance's file: a second
    process with other listen addresses serves the same mailboxes; an
    unknown key stops it with the key's name."""
    import kairan_env as ke
    port = ke.free_port()
    argv = [os.path.join(env.build, "kairand"), "-c", env.kairand.conf_path,
            "-o", f"imap_listen=127.0.0.1:{port}", "-o", "imaps_listen=", "-o", "lmtp_listen="]
    bad = subprocess.run(argv[:3] + ["-o", "no_such_key=1"], capture_output=True, text=True,
                         timeout=30)
    assert bad.returncode != 0 and "unknown key 'no_such_key'" in bad.stderr, bad.stderr
    user = env.new_user("bus")
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = login_when_listening(port, user, p)
        ok(c, "SELECT INBOX")
        c.close()
    finally:
        p.terminate()
        p.wait(timeout=30)


def test_second_kairand_beside_make_run_with_only_its_imap_ports_overridden(env):
    """Issue 11, item 5, word for word: `kairand -c var/kairan.conf -o
    imap_listen=... -o imaps_listen=...` beside `make run`, whose file also
    names an LMTP and a metrics address. The LMTP port is shared
    (SO_REUSEPORT: either process delivers); the metrics endpoint stays the
    first process's, and the second runs without one, saying so."""
    import kairan_env as ke
    first = env.start_kairand(metrics_listen=f"127.0.0.1:{ke.free_port()}")
    port, tls_port = ke.free_port(), ke.free_port()
    log = os.path.join(os.path.dirname(first.log_path), "second.log")
    argv = [first.kairand, "-c", first.conf_path, "-o", f"imap_listen=127.0.0.1:{port}",
            "-o", f"imaps_listen=127.0.0.1:{tls_port}"]
    user = env.new_user("bus")
    with open(log, "wb") as f:
        p = subprocess.Popen(argv, stdout=f, stderr=f)
    try:
        c = login_when_listening(port, user, p, log)
        ok(c, "SELECT INBOX")
        c.close()
        with open(log) as f:
            assert "no metrics endpoint in this process" in f.read()
        lmtp_port = int(first.config["lmtp_listen"].rsplit(":", 1)[1])
        for _ in range(4):      # whichever process the kernel picks answers
            with socket.create_connection(("127.0.0.1", lmtp_port), timeout=10) as s:
                assert s.recv(512).startswith(b"220 "), "no LMTP greeting"
    finally:
        p.terminate()
        p.wait(timeout=30)
        first.stop()


def test_rfc2177_postgresql_restart_during_idle_loses_nothing(env):
    """A kairand on a PostgreSQL of its own; bob idles; PostgreSQL restarts
    (fast shutdown, then start): the IDLE goes on without a word, the bus
    reconnects, and a message appended during the outage's aftermath, as
    well as one appended later, reach the idler (issue 11: "a PostgreSQL
    restart during IDLE: sessions converge, nothing is missed")."""
    import kairan_env as ke
    from test_idle import start_idle, wait_for, done, quiet
    pg = ke.Postgres(env._workdir("pg-restart")).start()
    try:
        k = env.start_kairand(db_dsn=pg.dsn, migrate=True, lmtp_listen="")
        wait_bus_ready(k.log_path)
        user = env.new_user("bus")
        idler, writer = login(k.imap_port, user), login(k.imap_port, user)
        fill(writer, "INBOX", 1)
        ok(idler, "SELECT INBOX")
        start_idle(idler)
        pg.stop()
        # While PostgreSQL is down the idler is told nothing (no NO, no BYE).
        assert not [x for x in quiet(idler, 1.0) if x.startswith((b"i ", b"* BYE"))]
        pg.start()
        t0 = time.monotonic()
        while True:
            tagged, _ = writer.cmd("w", "NOOP")
            if tagged.startswith(b"w OK"):
                break
            assert time.monotonic() - t0 < 20, tagged
            time.sleep(0.2)
        fill(writer, "INBOX", 1)
        wait_for(idler, rb"^\* 2 EXISTS", timeout=5.0)
        fill(writer, "INBOX", 1)
        wait_for(idler, rb"^\* 3 EXISTS", timeout=5.0)
        done(idler)
        idler.close()
        writer.close()
        k.stop()
    finally:
        pg.stop()


def team_across_processes(env):
    """alice shares "Team" (3 messages, per-user \\Seen) with bob. alice's
    session a1 and bob's session b on the shared kairand, alice's a2 on a
    second one; all three have Team selected."""
    from teamlib import make_team
    alice, bob, a1 = make_team(env, "bus", 3)
    k2 = env.start_kairand()
    wait_bus_ready(env.kairand.log_path)
    wait_bus_ready(k2.log_path)
    ok(a1, "SELECT Team")
    a2, b = login(k2.imap_port, alice), login(env.imap_port, bob)
    ok(a2, "SELECT Team")
    ok(b, f'SELECT "Other Users/{alice}/Team"')
    return a1, a2, b


def test_private_seen_wakes_only_the_readers_sessions(env):
    """Issue 11: a reader's \\Seen is published with the reader, so bob's
    session is not woken and reads nothing when alice reads a circular
    (no change read at his next command), while alice's session on the
    other process is told at once, through the bus, during IDLE."""
    from test_idle import start_idle, wait_for, done, quiet
    a1, a2, b = team_across_processes(env)
    try:
        ok(b, "NOOP")
        ok(a2, "NOOP")
        start_idle(a2)
        start_idle(b, tag="j")
        t0 = time.monotonic()
        ok(a1, "STORE 2 +FLAGS.SILENT (\\Seen)")
        line, _ = wait_for(a2, rb"^\* 2 FETCH", timeout=2.0)
        assert b"\\Seen" in line, line
        latency = time.monotonic() - t0
        assert latency < 0.5, latency
        assert quiet(b, 0.3) == []
        done(a2)
        done(b, tag="j")
        syncs = sync_and_fetch_calls(env)[0]
        for i in range(5):
            ok(a1, f"STORE 1 {'+' if i % 2 == 0 else '-'}FLAGS.SILENT (\\Seen)")
            assert [x for x in ok(b, "NOOP") if b"FETCH" in x] == []
        assert sync_and_fetch_calls(env)[0] - syncs <= 1, "bob read the changes for alice's reading"
        # A shared change still reaches everyone.
        ok(a1, "STORE 3 +FLAGS.SILENT (\\Flagged)")
        assert any(b"\\Flagged" in x for x in ok(b, "NOOP"))
    finally:
        for c in (a1, a2, b):
            c.close()
