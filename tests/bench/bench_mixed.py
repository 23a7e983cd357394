#!/usr/bin/python3
"""Mixed-workload benchmark: kairand on PostgreSQL, side by side with Dovecot 2.3.

    make bench-mixed                                        # 10 and 50 clients, both layouts
    make bench-mixed BENCH_MIXED_ARGS="--calibrate --seconds 10"
    /usr/bin/python3 tests/bench/bench_mixed.py --help

Starts, in a fresh temporary directory, a private PostgreSQL 15 (with
pg_stat_statements preloaded), slapd and kairand (tests/bench/benchlib.py,
as bench_store.py does) and a private Dovecot (tests/bench/dovecot_env.py:
maildir, default settings; apt-get installs dovecot-imapd if missing), side
by side. All traffic is on 127.0.0.1; every service is stopped at the end
(also on error, Ctrl-C or the --max-seconds watchdog), and the directory is
removed unless --keep.

People: LDAP entries bench01..benchNN (N = the largest client count) in a
group `benchteam`. Every mailbox is pre-filled with the same --messages
(600) realistic messages (tests/bench/mailgen.py; about 90 % \\Seen, some
\\Flagged, \\Answered and $Forwarded), and every user has an `Archive` of 20
for STATUS. kairand is filled over IMAP (APPEND once, then COPY), Dovecot
with maildir files written directly (indexed by a first SELECT before any
measurement).

Layouts:
  shared  every client in ONE team mailbox: kairand `Shared/team`, a shared
          account granted `group:benchteam=lrswipte` (\\Seen per user, the
          default; --team-seen shared for one common \\Seen), each client
          logged in as its own benchNN; Dovecot: every client logged in as
          the same user `team`, its INBOX.
  own     one mailbox per client: benchNN's INBOX, in both servers.

Each run: --clients connections (10 and 50), each ONE long session (or one
per cycle with --login-per-cycle), running the cycle of
tests/bench/imap_load.py (SELECT, UID FETCH 1:* (FLAGS), FETCH of a
window, STORE +FLAGS/-FLAGS with \\Flagged and $Label1..5, APPEND, STORE
\\Deleted + UID EXPUNGE of the appended message, LIST, STATUS) for
--warmup + --seconds, with every response checked for state consistency.
Runs alternate which server goes first; before each, the benchmark waits up
to --quiet-wait seconds for other processes on the machine to go quiet.

Reported per server and command: ops/s, p50 and p99 latency, kairand/Dovecot
ratios; CPU seconds of kairand, all PostgreSQL processes of the private
cluster, slapd, Dovecot (master and children), the load generator and
everything else during the measured window; protocol/state errors by kind
(target 0); for kairand, pg_stat_statements (reset before each run): the
top statements and statements per IMAP command, and a per-command profile
(each command alone, --profile-reps times, on one quiet session).

--calibrate also runs every scenario against tests/bench/imap_stub.py, a
server that answers at once: the rate the load generator reaches there is
its ceiling on this machine, which must be well above the real servers'.
"""

import argparse
import datetime
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib as bl  # noqa: E402
from benchlib import ke, de  # noqa: E402
import imap_fast  # noqa: E402
import imap_load  # noqa: E402
import mailgen  # noqa: E402

PASSWORD = ke.DEMO_PASSWORD
ARCHIVE_COUNT = 20
TEAM = "team"
KEYWORDS = ("$Forwarded",)
# The demo's hashed "secret" (tests/fixtures/demo.ldif), for the bench users.
SSHA_SECRET = "{SSHA}Tatt/LNdfl1TfHtxt/o/zJgyyiyQQNN7"
SERVER_NAMES = {"kairand": "kairand", "dovecot": "Dovecot 2.3", "stub": "stub (calibration)"}


def user(i):
    return f"bench{i + 1:02d}"


def flag_letters(uid, total):
    """Maildir letters of pre-filled message `uid`, the same flags as the
    STOREs of kairan_fill(): the newest 10 % unseen, every 23rd \\Flagged,
    every 7th \\Answered, every 50th $Forwarded (keyword a)."""
    f = ("F" if uid % 23 == 0 else "") + ("R" if uid % 7 == 0 else "") \
        + ("S" if uid <= total - total // 10 else "")
    return "".join(sorted(f)) + ("a" if uid % 50 == 0 else "")


def seqset(uids):
    return ",".join(str(u) for u in uids) or "1"


# --------------------------------------------------------------------------
# Filling the servers


def ldap_users(n):
    people = "".join(
        f"dn: uid={user(i)},ou=people,{ke.BASE_DN}\nobjectClass: inetOrgPerson\nuid: {user(i)}\n"
        f"cn: Bench User {i + 1}\nsn: User\nmail: {user(i)}@example.org\n"
        f"userPassword: {SSHA_SECRET}\n\n" for i in range(n))
    members = "".join(f"member: uid={user(i)},ou=people,{ke.BASE_DN}\n" for i in range(n))
    return people + (f"dn: cn=benchteam,ou=groups,{ke.BASE_DN}\nobjectClass: groupOfNames\n"
                     f"cn: benchteam\n{members}")


def kairan_fill(st, corpus, n, team_seen):
    """LDAP users and group, the team mailbox, and every mailbox filled:
    bench01 APPENDs the corpus once into `Seed`, sets the flags, shares it
    with the group; each user COPYs it into INBOX and Archive; bench01
    COPYs it into Shared/team; Seed is deleted (its messages stay, stored
    once). Returns seconds taken."""
    t0 = time.perf_counter()
    st.slapd.ldapmodify(ldap_users(n), add=True)
    st.kairand.ctl("shared", "create", TEAM, "--grant", "group:benchteam=lrswipte",
                   "--seen", team_seen)
    total = len(corpus)
    c = imap_fast.Conn("127.0.0.1", st.port)
    c.login(user(0), PASSWORD)
    c.ok("CREATE Seed")
    c.append_many("Seed", corpus, window=8)
    c.ok("SELECT Seed")
    c.ok(f"STORE 1:{total - total // 10} +FLAGS.SILENT (\\Seen)")
    for flag, step in (("\\Flagged", 23), ("\\Answered", 7), ("$Forwarded", 50)):
        c.ok(f"STORE {seqset(range(step, total + 1, step))} +FLAGS.SILENT ({flag})")
    c.ok("SETACL Seed group:benchteam lr")
    c.ok(f'COPY 1:* "Shared/{TEAM}"')
    c.logout()
    for i in range(n):
        c = imap_fast.Conn("127.0.0.1", st.port)
        c.login(user(i), PASSWORD)
        c.command("CREATE Archive")     # kairand may have made it at first login
        c.ok("SELECT Seed" if i == 0 else f'SELECT "Other Users/{user(0)}/Seed"')
        c.ok("COPY 1:* INBOX")
        c.ok(f"COPY 1:{ARCHIVE_COUNT} Archive")
        c.logout()
    c = imap_fast.Conn("127.0.0.1", st.port)
    c.login(user(0), PASSWORD)
    c.ok("DELETE Seed")
    c.logout()
    st.pg.psql("VACUUM (ANALYZE)")
    return time.perf_counter() - t0


def dovecot_fill(dv, corpus, n):
    """The same messages and flags as maildir files, for bench01..benchNN
    and `team`; returns seconds taken."""
    t0 = time.perf_counter()
    links = {}
    total = len(corpus)
    for u in [user(i) for i in range(n)] + [TEAM]:
        dv.prepare_user(u)
        dv.fill(u, "INBOX", corpus, flags=lambda uid: flag_letters(uid, total),
                keywords=KEYWORDS, links=links)
        dv.fill(u, "Archive", corpus[:ARCHIVE_COUNT], flags=lambda uid: "S", links=links)
    return time.perf_counter() - t0


def touch(port, users_boxes):
    """One SELECT of every mailbox and STATUS of every Archive, so that no
    measurement pays for a first-time index build (Dovecot) or a cold
    cache."""
    for u, box in users_boxes:
        c = imap_fast.Conn("127.0.0.1", port)
        c.login(u, PASSWORD)
        c.ok(f'SELECT "{box}"')
        c.ok("STATUS Archive (MESSAGES)")
        c.logout()


# --------------------------------------------------------------------------
# The stub


class Stub(de.ChildServer):
    """imap_stub.py with `procs` processes on one port, stopped with the
    other services (kairan_env.stop_all)."""

    name = "imap_stub"
    stop_steps = [(signal.SIGTERM, 5), (signal.SIGKILL, 5)]

    def __init__(self, procs, messages, names):
        self.port = ke.free_port()
        self.argv = [sys.executable, os.path.join(HERE, "imap_stub.py"), str(procs),
                     str(self.port), str(messages), str(ARCHIVE_COUNT)] + list(names)
        self.proc = None

    def __repr__(self):
        return f"Stub({self.port})"

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=ke._child_preexec(signal.SIGTERM))
        ke._register(self)
        ke.wait_for_tcp("127.0.0.1", self.port, 10, proc=self.proc, what="imap_stub")
        return self


# --------------------------------------------------------------------------
# pg_stat_statements


def stat_reset(st):
    st.pg.psql("SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')")


def wal_collect(st):
    """(WAL records, full-page images, bytes) since the last stat_reset."""
    row = st.pg.psql("SELECT wal_records || ' ' || wal_fpi || ' ' || wal_bytes FROM pg_stat_wal")
    return tuple(int(x) for x in row.split())


def stat_collect(st, top=10):
    """(total calls, [(calls, total ms, mean ms, planning ms, plans, query)])
    since the last reset, leaving out the benchmark's own psql statements.
    Planning is 0 unless pg_stat_statements.track_planning is on (--pg-set)."""
    where = "WHERE query NOT LIKE '%pg_stat_statements%'"
    total = st.pg.psql(f"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements {where}")
    rows = st.pg.psql(
        "SELECT calls || chr(9) || round(total_exec_time::numeric, 1) || chr(9) || "
        "round(mean_exec_time::numeric, 3) || chr(9) || "
        "round(total_plan_time::numeric, 1) || chr(9) || plans || chr(9) || "
        "regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
        f"{where} ORDER BY total_exec_time DESC LIMIT {top}")
    out = []
    for line in rows.splitlines():
        calls, tot, mean, plan, plans, query = line.split("\t", 5)
        out.append((int(calls), float(tot), float(mean), float(plan), int(plans), query))
    return int(total.strip()), out


def statement_profile(st, reps, window):
    """Statements per command, each command alone `reps` times on one
    session (bench01's INBOX; nothing else runs): {op: statements per
    command}. Counts include what the command causes in the background
    (the search indexer after APPEND, the change bus)."""
    c = imap_fast.Conn("127.0.0.1", st.port)
    c.login(user(0), PASSWORD)
    c.ok("SELECT INBOX")
    msg = mailgen.message(900000)
    own = []
    steps = [
        ("select", lambda i: "SELECT INBOX"),
        ("fetch_flags", lambda i: "UID FETCH 1:* (FLAGS)"),
        ("fetch_window", lambda i: f"FETCH {1 + i * window}:{(i + 1) * window} "
                                   + imap_load.FETCH_WINDOW_ITEMS.decode()),
        ("store_add", lambda i: f"UID STORE {i + 1} +FLAGS (\\Flagged $Label{i % 5 + 1})"),
        ("store_remove", lambda i: f"UID STORE {i + 1} -FLAGS (\\Flagged $Label{i % 5 + 1})"),
        ("append", None),
        ("store_deleted", lambda i: f"UID STORE {own[i]} +FLAGS (\\Deleted)"),
        ("expunge", lambda i: f"UID EXPUNGE {own[i]}"),
        ("list", lambda i: 'LIST "" "*"'),
        ("status", lambda i: "STATUS Archive (MESSAGES UIDNEXT UNSEEN)"),
    ]
    out = {}
    try:
        for op, cmd in steps:
            time.sleep(0.5)         # let the indexer and the bus settle
            stat_reset(st)
            for i in range(reps):
                if op == "append":
                    m = b"X-Bench-Id: profile.%d.%d\r\n" % (os.getpid(), i) + msg
                    tagged, _, _ = c.ok(b"APPEND INBOX (\\Seen) {%d+}\r\n" % len(m) + m)
                    own.append(int(imap_load.RE_APPENDUID.search(tagged).group(1)))
                else:
                    c.ok(cmd(i))
            time.sleep(0.5)
            out[op] = stat_collect(st, 0)[0] / reps
        stat_reset(st)
        for i in range(reps):
            x = imap_fast.Conn("127.0.0.1", st.port)
            x.login(user(1), PASSWORD)
            x.logout()
        out["login"] = stat_collect(st, 0)[0] / reps
    finally:
        c.logout()
    return out


# --------------------------------------------------------------------------
# Runs


def clients_for(server, layout, n, messages):
    """The client list of imap_load.run_load for one run."""
    out = []
    for i in range(n):
        if layout == "shared":
            u, box = (user(i), f"Shared/{TEAM}") if server == "kairand" else (TEAM, "INBOX")
        else:
            u, box = user(i), "INBOX"
        expect = ["INBOX", "Archive"] + ([f"Shared/{TEAM}"] if server == "kairand" else [])
        out.append({"cid": i, "user": u, "password": PASSWORD, "mailbox": box,
                    "exclusive": layout == "own", "base_count": messages,
                    "status_mailbox": "Archive", "status_count": ARCHIVE_COUNT,
                    "list_expect": expect})
    return out


def summarize(res):
    ops = {}
    for op, lat in res["lat"].items():
        if lat:
            ops[op] = {"n": len(lat), "rate": len(lat) / res["seconds"],
                       "p50": bl.pct(lat, 50), "p99": bl.pct(lat, 99)}
    return ops


def one_run(args, target, layout, n, trees, st):
    """One measured run on one server; returns its result dict."""
    if args.quiet_wait > 0:
        others = bl.wait_quiet(args.quiet_wait, [p() for p in trees.values()])
    else:
        others = None
    if target["key"] == "kairand":
        stat_reset(st)
    meter = {}

    def on_window(phase, pids):
        if phase == "start":
            t = dict(trees)
            for i, p in enumerate(pids):
                t[f"loadgen{i}"] = (lambda p=p: p)
            meter["m"] = bl.CpuMeter(t).start()
        else:
            meter["cpu"] = meter["m"].stop()

    bl.log(f"{target['name']}: {layout}, {n} clients{', login per cycle' if args.login_per_cycle else ''}")
    res = imap_load.run_load("127.0.0.1", target["port"],
                             clients_for(target["key"], layout, n, args.messages), args.procs,
                             args.login_per_cycle, args.window, args.warmup, args.seconds,
                             f"{target['key']}{layout}{n}{time.time():.0f}", on_window)
    res["ops"] = summarize(res)
    res["quiet_before"] = others
    cpu = meter["cpu"]
    cpu["loadgen"] = sum(cpu.pop(k) for k in list(cpu) if k.startswith("loadgen"))
    res["cpu_window"] = cpu
    del res["lat"]
    if target["key"] == "kairand":
        res["statements"] = stat_collect(st)
        res["wal"] = wal_collect(st)
    cyc = res["ops"].get("select", {}).get("rate", 0)
    bl.log(f"  {cyc:.1f} cycles/s, {res['commands']} commands, errors {sum(res['errors'].values())}")
    return res


def measure(args, root, report):
    corpus = mailgen.corpus(0, args.messages)
    nmax = max(args.clients)
    targets, trees = [], {}
    st = dv = stub = None
    if "kairand" in args.servers:
        settings = {"shared_preload_libraries": "pg_stat_statements"}
        settings.update(args.pg_set)
        bl.log(f"starting PostgreSQL ({settings}), slapd, kairand (workers = {args.workers})")
        st = bl.KairanStack(os.path.join(root, "kairan"), args.build, args.workers,
                            settings).start()
        st.pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        report["kairan_settings"] = st.settings()
        report["k_fill"] = kairan_fill(st, corpus, nmax, args.team_seen)
        bl.log(f"kairand filled in {report['k_fill']:.1f} s")
        trees.update(kairand=lambda: st.kairand.pid, postgres=lambda: st.pg.proc.pid,
                     slapd=lambda: st.slapd.proc.pid)
        targets.append({"key": "kairand", "name": "kairand", "port": st.port})
    if "dovecot" in args.servers:
        if not de.available():
            bl.log("dovecot-imapd is not installed: apt-get install -y dovecot-imapd")
            de.install()
        dv = de.Dovecot(os.path.join(root, "dovecot"), PASSWORD).start()
        report["dovecot_version"] = de.version()
        report["d_fill"] = dovecot_fill(dv, corpus, nmax)
        bl.log(f"Dovecot filled in {report['d_fill']:.1f} s")
        trees["dovecot"] = lambda: dv.pid
        targets.append({"key": "dovecot", "name": "Dovecot", "port": dv.port})
    if args.calibrate:
        stub = Stub(args.procs, args.messages, ["INBOX", "Archive", f"Shared/{TEAM}"]).start()
        trees["stub"] = lambda: stub.pid
        targets.append({"key": "stub", "name": "stub", "port": stub.port})
    bl.log("first SELECT of every mailbox")
    for t in targets:
        if t["key"] == "kairand":
            touch(t["port"], [(user(i), "INBOX") for i in range(nmax)]
                  + [(user(i), f"Shared/{TEAM}") for i in range(nmax)])
        elif t["key"] == "dovecot":
            touch(t["port"], [(user(i), "INBOX") for i in range(nmax)] + [(TEAM, "INBOX")])
    report["runs"] = []
    k = 0
    for layout in args.layouts:
        for n in args.clients:
            order = targets if k % 2 == 0 else targets[::-1]
            k += 1
            runs = {t["key"]: one_run(args, t, layout, n, trees, st) for t in order}
            report["runs"].append({"layout": layout, "clients": n, "order": [t["key"] for t in order],
                                   "results": runs})
    if st is not None and args.profile_reps > 0:
        bl.log("kairand: statements per command, each command alone")
        report["profile"] = statement_profile(st, args.profile_reps, args.window)


# --------------------------------------------------------------------------
# Report


def fms(v):
    return f"{v * 1000:.1f}" if v < 0.1 else f"{v * 1000:.0f}"


def render(args, r):
    L = []
    add = L.append
    add("# Mixed-workload benchmark: kairand vs Dovecot 2.3")
    add("")
    add(f"Generated by `tests/bench/bench_mixed.py` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; command: "
        f"`{' '.join(r['argv'])}`.")
    add("")
    add(f"- Machine: {r['machine']}. **Shared**: other engineers' builds and tests ran on it "
        f"at the same time, so every figure is noisy; the CPU line of each run says how much "
        f"CPU everything else took during it. Load generator, servers and PostgreSQL all share "
        f"these cores; all traffic is on 127.0.0.1.")
    if "kairan_settings" in r:
        add(f"- kairand {r['git']}, `workers = {args.workers}`; PostgreSQL "
            f"(pg_stat_statements loaded): {', '.join(r['kairan_settings'])}"
            + (f"; set for this run: {', '.join(f'{k}={v}' for k, v in args.pg_set.items())}"
               if args.pg_set else "") + ".")
    if "dovecot_version" in r:
        add(f"- Dovecot {r['dovecot_version']}: maildir, default settings "
            f"(tests/bench/dovecot_env.py).")
    add(f"- Load: tests/bench/imap_load.py, {args.procs} processes, one session per client"
        f"{' per cycle (--login-per-cycle)' if args.login_per_cycle else ' for the whole run'}, "
        f"one command at a time; {args.warmup} s warm-up, then {args.seconds} s measured. "
        f"Mailboxes: {args.messages} messages (mailgen.py), FETCH window {args.window}. "
        f"Shared layout: kairand `Shared/{TEAM}` (\\Seen {args.team_seen}), clients logged in "
        f"as bench01..NN; Dovecot: all clients logged in as `{TEAM}`. Own layout: benchNN's "
        f"INBOX on both.")
    fills = [f"kairand {r['k_fill']:.1f} s (IMAP APPEND + COPY)" if "k_fill" in r else "",
             f"Dovecot {r['d_fill']:.1f} s (maildir files)" if "d_fill" in r else ""]
    add(f"- Filling: {', '.join(x for x in fills if x)}.")
    add("- ops/s counts commands completed inside the measured window; latency from sending "
        "the command to its tagged response; p50/p99 nearest rank. Ratios: kairand ÷ Dovecot "
        "(ops/s: > 1 = kairand faster; latency: < 1 = kairand faster).")
    for run in r["runs"]:
        render_run(args, run, add)
    if r.get("profile"):
        add("")
        add(f"## kairand: statements per command, each command alone ({args.profile_reps}× on "
            "one session, nothing else running)")
        add("")
        add("| command | statements per command |")
        add("|---|---|")
        for op in imap_load.OPS:
            if op in r["profile"]:
                add(f"| {imap_load.LABELS[op]} | {r['profile'][op]:.2f} |")
        add("")
        add("`LOGIN` is a whole connection: greeting, LOGIN, LOGOUT. APPEND includes the "
            "search indexer's statements for the new message (it runs after the APPEND).")
    return "\n".join(L) + "\n"


def render_run(args, run, add):
    res = run["results"]
    keys = [k for k in ("kairand", "dovecot", "stub") if k in res]
    add("")
    add(f"## {run['layout']} layout, {run['clients']} clients"
        + (", login per cycle" if args.login_per_cycle else ""))
    add("")
    head = "| command |"
    for k in keys:
        head += f" {SERVER_NAMES[k]} ops/s | p50 ms | p99 ms |"
    both = "kairand" in res and "dovecot" in res
    if both:
        head += " ops/s ratio | p50 ratio |"
    add(head)
    add("|---" * (1 + 3 * len(keys) + (2 if both else 0)) + "|")
    for op in imap_load.OPS:
        if not any(op in res[k]["ops"] for k in keys):
            continue
        row = f"| {imap_load.LABELS[op]} |"
        for k in keys:
            o = res[k]["ops"].get(op)
            row += (f" {o['rate']:,.0f} | {fms(o['p50'])} | {fms(o['p99'])} |" if o
                    else " — | — | — |")
        if both:
            a, b = res["kairand"]["ops"].get(op), res["dovecot"]["ops"].get(op)
            row += (f" {a['rate'] / b['rate']:.2f} | {a['p50'] / b['p50']:.2f} |" if a and b
                    else " — | — |")
        add(row)
    add("")
    for k in keys:
        x = res[k]
        c = x["cpu_window"]
        cyc = x["ops"].get("select", {}).get("n", 0)
        server_cpu = {"kairand": c.get("kairand", 0) + c.get("postgres", 0) + c.get("slapd", 0),
                      "dovecot": c.get("dovecot", 0), "stub": c.get("stub", 0)}[k]
        per = (f"; CPU per cycle: server {1000 * server_cpu / cyc:.1f} ms, load generator "
               f"{1000 * c['loadgen'] / cyc:.1f} ms" if cyc else "")
        errs = sum(x["errors"].values())
        add(f"- {SERVER_NAMES[k]}: {cyc / args.seconds:,.1f} cycles/s, "
            f"{x['commands']:,} commands in all; CPU in the window: {bl.fmt_cpu(c)}{per}. "
            f"Errors: **{errs}**"
            + (" (" + "; ".join(f"{kind}: {v} e.g. {x['samples'][kind][:2]}"
                                for kind, v in x["errors"].items()) + ")" if errs else "")
            + (f". Load from others in the second before: {x['quiet_before']:.2f} cores"
               if x.get("quiet_before") is not None else "") + ".")
    if "kairand" in res and "statements" in res["kairand"]:
        total, top = res["kairand"]["statements"]
        cmds = res["kairand"]["commands"]
        add(f"- kairand pg_stat_statements over the run (warm-up and tail included): {total:,} "
            f"statements for {cmds:,} IMAP commands = **{total / max(cmds, 1):.2f} statements "
            f"per command**; WAL: {res['kairand']['wal'][2] / 1e6:,.1f} MB "
            f"({res['kairand']['wal'][2] / max(cmds, 1):,.0f} bytes per command, "
            f"{res['kairand']['wal'][1]:,} full-page images). Top {len(top)} statements by "
            f"total time:")
        add("")
        add("| calls | total ms | mean ms | plans | planning ms | statement |")
        add("|---|---|---|---|---|---|")
        for calls, tot, mean, plan, plans, q in top:
            q = q.replace("|", "\\|")
            add(f"| {calls:,} | {tot:,.1f} | {mean:.3f} | {plans:,} | {plan:,.1f} | `{q[:150]}{'…' if len(q) > 150 else ''}` |")


# --------------------------------------------------------------------------


# Numeric options: name, type, default, help.
NUMBERS = (
    ("--seconds", float, 20, "measured seconds per run"),
    ("--warmup", float, 3, "warm-up seconds per run"),
    ("--procs", int, 2, "load generator processes"),
    ("--window", int, 20, "messages per FETCH window"),
    ("--messages", int, 600, "messages per mailbox"),
    ("--workers", int, 8, "kairand worker threads"),
    ("--profile-reps", int, 20, "repetitions per command of the statement profile; 0 = skip"),
    ("--quiet-wait", int, 10, "before each run, wait up to this long for other processes to "
                              "use < 0.25 cores; 0 = do not wait"),
    ("--max-seconds", int, 1200, "abort, stopping everything, after this long"),
)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(bl.REPO, "build"),
                   help="directory with kairand and kairanctl (default: build/)")
    p.add_argument("--servers", default="kairand,dovecot",
                   help="comma-separated: kairand, dovecot (default both)")
    p.add_argument("--calibrate", action="store_true",
                   help="also run every scenario against imap_stub.py (the load generator's ceiling)")
    p.add_argument("--clients", default="10,50", help="client counts (default 10,50)")
    p.add_argument("--layouts", default="shared,own", help="shared and/or own (default both)")
    p.add_argument("--login-per-cycle", action="store_true", help="LOGIN and LOGOUT every cycle")
    for name, kind, default, text in NUMBERS:
        p.add_argument(name, type=kind, default=default, help=f"{text} ({default})")
    p.add_argument("--team-seen", choices=("per-user", "shared"), default="per-user",
                   help="\\Seen of kairand's team mailbox (per-user, the default for shared mailboxes)")
    p.add_argument("--pg-set", action="append", default=[], metavar="NAME=VALUE",
                   help="a PostgreSQL setting for the private cluster (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--out", default="-", help="also write the report to this file")
    args = p.parse_args()
    args.servers = [s for s in args.servers.split(",") if s]
    args.clients = [int(x) for x in args.clients.split(",")]
    args.layouts = [x for x in args.layouts.split(",") if x]
    args.pg_set = dict(x.split("=", 1) for x in args.pg_set)
    if not set(args.servers) <= {"kairand", "dovecot"} or not set(args.layouts) <= {"shared", "own"}:
        p.error("--servers takes kairand,dovecot; --layouts takes shared,own")

    return bl.run_benchmark("bench_mixed", args, measure, render)

if __name__ == "__main__":
    sys.exit(main())
