#!/usr/bin/python3
"""Store benchmark: kairand on PostgreSQL, side by side with Dovecot 2.3.

    make bench-store                                  # kairand only
    make bench-store BENCH_STORE_ARGS=--with-dovecot  # and Dovecot (apt-get installs it if missing)
    /usr/bin/python3 tests/bench/bench_store.py --help

Starts everything it measures in a fresh temporary directory (like
tests/protocol/conftest.py): a private PostgreSQL 15 (fsync on,
synchronous_commit on: the defaults), slapd, kairand (`--workers`, default
8: on the 2-core development machine 4 and 8 workers gave the same APPEND
rates within noise, 4 about 10 % better into one mailbox and 8 about 10 %
better into eight; 8 lets each of the 8 clients have a worker, so one long
FETCH never queues the others), and with --with-dovecot a private Dovecot (tests/bench/dovecot_env.py:
maildir, default settings). All traffic is on 127.0.0.1; every service is
stopped at the end (also on error, Ctrl-C, or the --max-seconds watchdog),
and the directory is removed unless --keep.

Both servers run side by side for the whole benchmark, and every operation
is measured on each in turn (the read commands run by run, alternating
which server goes first), so that both see the same background load: the
development machine is shared, and other people's builds and test runs come
and go. Before each measurement the benchmark waits up to --quiet-wait
seconds for that load to drop, and the report says how much CPU everything
else took meanwhile.

What is measured, on each server:

 1. APPEND of --messages (10,000) distinct ~4 KB messages (tests/bench/mailgen.py:
    varied headers, 40 % multipart) from --clients (8) concurrent connections,
    one thread each, LITERAL+, at most --window (1) APPENDs in flight per
    connection, every APPEND answered OK before it counts. Twice: (a) all
    clients into one mailbox (INBOX), (b) each client into its own mailbox.
    kairand indexes the search text after delivery (migrations/0008): after
    each run, the time from the last APPEND's OK until its indexer has
    emptied the backlog (psql every 50 ms); the next measurement starts
    after that.
 2. SELECT of a --big (100,000) message mailbox: a warm-up, then median and
    p95 (nearest rank) of --runs (10).
 3. UID FETCH 1:* (UID FLAGS) on it: wall time until the tagged OK; kairand's
    peak RSS meanwhile (VmHWM, reset through /proc/PID/clear_refs first).
 4. FETCH 1:1000 (ENVELOPE BODYSTRUCTURE).
 5. FETCH 1:1000 (BODY.PEEK[]).
    (3-5: a warm-up, then the median of --fetch-runs.)

The 100,000-message mailbox is filled without 100,000 APPENDs: in kairand by
duplicating the mailbox_messages rows of the 10,000 messages appended in 1a
ten times with SQL (new UIDs, uidnext and highestmodseq updated, then VACUUM
ANALYZE as autovacuum would), so the rows are exactly what APPEND writes; in
Dovecot by writing the same 10,000 messages as maildir files, each hard-linked
ten times under unique names, indexed by Dovecot's first SELECT.

Afterwards kairand is restarted with auto_explain (log_analyze) to record the
plans of the statements behind 2-5; they go into the report.

The report (a table and the details) is printed and written to --out
(tests/bench/results-store.md).
"""

import argparse
import datetime
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

import kairan_env as ke  # noqa: E402
import dovecot_env as de  # noqa: E402
import imap_fast  # noqa: E402
import mailgen  # noqa: E402
from benchlib import (  # noqa: E402
    REPO, CpuMeter, KairanStack, RssSampler, Watchdog, fmt_cpu, fsync_probe, git_describe,
    log, machine_info, ms, pct, reset_hwm, vm_status, wait_quiet)

USER = "alice"
PASSWORD = ke.DEMO_PASSWORD
BIG = "big"
TARGETS = {
    "append": ("≥ 1,000 msg/s", lambda v: v >= 1000),
    "select": ("< 100 ms", lambda v: v < 0.100),
    "uidfetch": ("< 1 s", lambda v: v < 1.0),
    "envelope": ("< 100 ms", lambda v: v < 0.100),
}


# --------------------------------------------------------------------------
# The operations, against any server


def connect(port):
    c = imap_fast.Conn("127.0.0.1", port)
    c.login(USER, PASSWORD)
    return c


def run_append(port, mailboxes, messages, clients, window, cpu):
    """`clients` threads, thread i APPENDs messages[i::clients] into
    mailboxes[i % len(mailboxes)]. Returns a result dict."""
    conns = [connect(port) for _ in range(clients)]
    lat = [[] for _ in range(clients)]
    errors = []
    barrier = threading.Barrier(clients + 1)

    def worker(i):
        try:
            barrier.wait()
            conns[i].append_many(mailboxes[i % len(mailboxes)], messages[i::clients], window, lat[i])
        except BaseException as e:        # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    meter = cpu.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        while t.is_alive():
            t.join(0.2)     # short joins: the watchdog's signal gets through
    t_end = time.perf_counter()
    wall = t_end - t0
    usage = meter.stop()
    for c in conns:
        c.logout()
    if errors:
        raise errors[0]
    all_lat = [x for l in lat for x in l]
    return {"n": len(all_lat), "wall": wall, "rate": len(all_lat) / wall, "t_end": t_end,
            "p50": pct(all_lat, 50), "p99": pct(all_lat, 99), "max": max(all_lat), "cpu": usage}


def expect_count(data, n, what):
    got = data.count(b" FETCH (")
    if got != n:
        raise RuntimeError(f"{what}: expected {n} FETCH responses, got {got}; "
                           f"start {data[:300]!r}")


class CpuSum:
    """Adds up CpuMeter results of many short intervals."""

    def __init__(self):
        self.t = None

    def add(self, c):
        if self.t is None:
            self.t = {k: v for k, v in c.items() if k != "others_top"}
            self.t["machine_busy"] = c["machine_busy"] * c["wall"]
            self.t["others_top"] = dict(c["others_top"])
            return
        for k, v in c.items():
            if k == "others_top":
                for n, x in v:
                    self.t["others_top"][n] = self.t["others_top"].get(n, 0.0) + x
            elif k == "machine_busy":
                self.t[k] += v * c["wall"]
            else:
                self.t[k] += v

    def result(self):
        t = dict(self.t)
        t["machine_busy"] = t["machine_busy"] / t["wall"] if t["wall"] else 0.0
        t["others_top"] = sorted(t["others_top"].items(), key=lambda x: -x[1])[:4]
        return t


def run_reads(targets, big, runs, fetch_runs):
    """Operations 2-5 on mailbox BIG (holding `big` messages) of every
    target (dicts: name, port, cpu, rss_pid or None), interleaved run by
    run, alternating which server goes first, so that all see the same
    background load. Returns {name: results}."""
    res = {t["name"]: {} for t in targets}
    conns = {}
    try:
        for t in targets:
            conns[t["name"]] = connect(t["port"])

        def timed(key, cmd, n, nruns, check=None):
            for t in targets:            # the first (cold) run of each
                _, data, first = conns[t["name"]].ok(cmd)
                (check or (lambda d: expect_count(d, n, cmd)))(data)
                res[t["name"]][key] = {"cold": first, "bytes": len(data), "runs": []}
                if t.get("rss_pid"):
                    out = res[t["name"]][key]
                    out["rss_before"] = vm_status(t["rss_pid"], "VmRSS")
                    if reset_hwm(t["rss_pid"]):
                        out["rss_how"], t["sampler"] = "VmHWM after reset", None
                    else:
                        out["rss_how"] = "VmRSS sampled every 5 ms"
                        t["sampler"] = RssSampler(t["rss_pid"])
                        t["sampler"].start()
                del data
            sums = {t["name"]: CpuSum() for t in targets}
            for i in range(nruns):
                for t in (targets if i % 2 == 0 else targets[::-1]):
                    meter = t["cpu"].start()
                    _, data, el = conns[t["name"]].ok(cmd)
                    sums[t["name"]].add(meter.stop())
                    (check or (lambda d: expect_count(d, n, cmd)))(data)
                    del data
                    res[t["name"]][key]["runs"].append(el)
            for t in targets:
                out = res[t["name"]][key]
                times = out["runs"]
                out.update(cpu=sums[t["name"]].result(), median=statistics.median(times),
                           p95=pct(times, 95), min=min(times), max=max(times))
                if t.get("rss_pid"):
                    if t.get("sampler") is not None:
                        t["sampler"].done.set()
                        t["sampler"].join()
                        out["rss_peak"] = t["sampler"].peak
                    else:
                        out["rss_peak"] = vm_status(t["rss_pid"], "VmHWM")
                log(f"  {t['name']} {cmd}: median {ms(out['median'])} (min {ms(out['min'])}, "
                    f"max {ms(out['max'])}), first {ms(out['cold'])}, {out['bytes'] / 1e6:.1f} MB")

        def exists(data):
            if b"* %d EXISTS" % big not in data:
                raise RuntimeError(f"SELECT {BIG}: expected {big} EXISTS, got {data[:400]!r}")

        timed("select", f"SELECT {BIG}", 0, runs, check=exists)
        timed("uidfetch", "UID FETCH 1:* (UID FLAGS)", big, fetch_runs)
        timed("envelope", "FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)", min(1000, big), max(fetch_runs, 10))
        timed("bodypeek", "FETCH 1:1000 (BODY.PEEK[])", min(1000, big), max(fetch_runs, 10))
    finally:
        for c in conns.values():
            c.logout()
    return res


# --------------------------------------------------------------------------
# kairand


class StoreStack(KairanStack):
    """The kairand stack with what the store benchmark does to it: wait for
    the search indexer, fill the big mailbox with SQL, record plans."""

    def backlog(self):
        """Messages whose search text waits for kairand's indexer
        (migrations/0008); None with a kairand from before it."""
        if not hasattr(self, "_has_backlog"):
            self._has_backlog = self.pg.psql(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = 'messages'::regclass "
                "AND attname = 'search_ready'").strip() == "1"
        if not self._has_backlog:
            return None
        return int(self.pg.psql("SELECT count(*) FROM messages WHERE NOT search_ready").strip())

    def wait_indexed(self, t_end, cpu):
        """After an APPEND run that ended at t_end (perf_counter of its
        last OK): how many messages still waited for the indexer, and how
        long after t_end the backlog was empty (polled every 50 ms, one
        psql each). None with a kairand from before the indexer."""
        waiting = self.backlog()
        if waiting is None:
            return None
        meter = cpu.start()
        n = waiting
        while n > 0:
            time.sleep(0.05)
            n = self.backlog()
        return {"waiting": waiting, "seconds": time.perf_counter() - t_end, "cpu": meter.stop()}

    def fill_big(self, source, total):
        """mailbox BIG := the rows of `source` repeated until `total`, with
        UIDs 1..total, the last 1,000 unseen, some \\Flagged/\\Answered and
        keywords, internaldates a minute apart."""
        sql = f"""
WITH acc AS (SELECT id FROM accounts WHERE login = '{USER}'),
big AS (SELECT m.id, m.highestmodseq + 1 AS modseq FROM mailboxes m, acc
        WHERE m.owner_id = acc.id AND m.name = '{BIG}'),
src AS (SELECT mm.message_id, row_number() OVER (ORDER BY mm.uid) AS rn,
               count(*) OVER () AS n
        FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id, acc
        WHERE m.owner_id = acc.id AND m.name = '{source}'),
rows AS (SELECT big.id AS mailbox_id, k * src.n + src.rn AS uid, src.message_id, big.modseq
         FROM big, src, generate_series(0, ({total} - 1) / (SELECT max(n) FROM src)) k
         WHERE k * src.n + src.rn <= {total})
INSERT INTO mailbox_messages (mailbox_id, uid, message_id, flags, keywords, modseq, internaldate)
SELECT mailbox_id, uid, message_id,
       (CASE WHEN uid <= {total} - 1000 THEN 1 ELSE 0 END
        | CASE WHEN uid % 23 = 0 THEN 4 ELSE 0 END
        | CASE WHEN uid % 7 = 0 THEN 2 ELSE 0 END)::smallint,
       CASE WHEN uid % 50 = 0 THEN '{{$Forwarded}}'::text[]
            WHEN uid % 101 = 0 THEN '{{$NotJunk}}'::text[] ELSE '{{}}'::text[] END,
       modseq, now() - ({total} - uid) * interval '1 minute'
FROM rows;
UPDATE mailboxes SET uidnext = {total} + 1, highestmodseq = highestmodseq + 1
WHERE owner_id = (SELECT id FROM accounts WHERE login = '{USER}') AND name = '{BIG}';
UPDATE mailbox_recent SET recent_uid = {total} + 1
WHERE mailbox_id = (SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.owner_id
                    WHERE a.login = '{USER}' AND m.name = '{BIG}');
"""
        self.pg.psql(sql)
        self.pg.psql("VACUUM (ANALYZE) mailbox_messages")
        self.pg.psql("VACUUM (ANALYZE) messages")
        self.pg.psql("CHECKPOINT")
        n = self.pg.psql(f"SELECT count(*) FROM mailbox_messages mm JOIN mailboxes m ON "
                         f"m.id = mm.mailbox_id WHERE m.name = '{BIG}'").strip()
        if int(n) != total:
            raise RuntimeError(f"bulk fill produced {n} rows, not {total}")
        return self.fill_description(source, total)

    @staticmethod
    def fill_description(source, total):
        return (f"kairand: `CREATE {BIG}` over IMAP, then one SQL transaction inserted {total:,} "
                f"`mailbox_messages` rows into it that point at the `messages` rows of the "
                f"APPENDed mailbox `{source}` (each distinct message 10×, UIDs 1..{total:,} in "
                f"order, modseq = the old highestmodseq + 1, the last 1,000 unseen, every 23rd "
                f"\\Flagged, every 7th \\Answered, every 50th `$Forwarded`, every 101st "
                f"`$NotJunk`, internaldates a minute apart) and set `uidnext` = {total + 1:,}, "
                f"`highestmodseq` + 1 and `mailbox_recent.recent_uid` = uidnext (no \\Recent, as for old mail); "
                f"then `VACUUM (ANALYZE)` of both tables and a `CHECKPOINT`, i.e. the state "
                f"autovacuum reaches by itself a minute later. The `messages` rows (raw, size, "
                f"sha256, envelope, bodystructure, body, parts, header_fields, body_text) are "
                f"the ones kairand wrote at APPEND.")

    def explain(self, big):
        """Restarts kairand with auto_explain (analyze, buffers) and runs ops
        2-5 once; returns [(duration ms, plan text)] of statements > 1 ms."""
        # One psql session, one -c per statement: ALTER SYSTEM cannot run in
        # a transaction block, and auto_explain's settings exist only once
        # the module is loaded.
        self.psql_session("LOAD 'auto_explain'",
                          "ALTER SYSTEM SET session_preload_libraries = 'auto_explain'",
                          "ALTER SYSTEM SET auto_explain.log_min_duration = '1ms'",
                          "ALTER SYSTEM SET auto_explain.log_analyze = on",
                          "ALTER SYSTEM SET auto_explain.log_buffers = on",
                          "ALTER SYSTEM SET auto_explain.log_nested_statements = on",
                          "SELECT pg_reload_conf()")
        self.kairand.stop()
        self.kairand.start(migrate=False)
        with open(self.pg.logfile, "rb") as f:
            f.seek(0, 2)
            offset = f.tell()
        c = connect(self.kairand.imap_port)
        try:
            for cmd in (f"SELECT {BIG}", "UID FETCH 1:* (UID FLAGS)",
                        "FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)", "FETCH 1:1000 (BODY.PEEK[])"):
                c.ok(cmd)
        finally:
            c.logout()
        time.sleep(0.3)
        self.psql_session("ALTER SYSTEM RESET ALL", "SELECT pg_reload_conf()")
        with open(self.pg.logfile, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        plans = []
        for m in re.finditer(r"LOG:  duration: ([0-9.]+) ms  plan:\n((?:\t.*\n?|  .*\n?)*)", text):
            body = m.group(2)
            if "mailbox_messages" in body:
                plans.append((float(m.group(1)), body.rstrip().replace("\t", "")))
        return plans


def quiet(args, report, label, pids):
    """Before a measurement: wait (up to --quiet-wait s) for the rest of
    the machine to go quiet, and record how busy it still was."""
    if args.quiet_wait <= 0:
        return
    others = wait_quiet(args.quiet_wait, pids)
    report.setdefault("quiet", {})[label] = others
    if others >= 0.25:
        log(f"  note: other processes still use {others:.2f} cores (waited {args.quiet_wait} s)")


# --------------------------------------------------------------------------
# Dovecot


def dovecot_fill_big(dv, messages, total):
    """The same messages as maildir files, each hard-linked until `total`
    names exist, flags as in the kairand mailbox, in BIG's cur/."""
    def flags(uid):
        f = "".join(sorted(("R" if uid % 7 == 0 else "") + ("S" if uid <= total - 1000 else "")
                           + ("F" if uid % 23 == 0 else "")))
        return f + ("a" if uid % 50 == 0 else "b" if uid % 101 == 0 else "")

    dv.fill(USER, BIG, messages, total, flags, ("$Forwarded", "$NotJunk"))
    n = len(messages)
    return (f"Dovecot: the same {n:,} messages (the corpus of 1a) written directly as maildir "
            f"files into `.{BIG}/cur` (LF line ends as Dovecot stores them, `S=`/`W=` sizes in "
            f"the name), each hard-linked under 10 unique names ({total:,} entries), the same "
            f"flags and keywords (via `dovecot-keywords`) as in kairand; Dovecot builds its "
            f"index at the first SELECT (reported as 'first SELECT').")


def measure(args, root, corpus_a, corpus_b, report):
    """Starts kairand's stack (and Dovecot), then runs every measurement on
    each server in turn, one operation at a time: both see the same
    background load, so the ratios stay meaningful on a shared machine."""
    st = dv = None
    targets = []
    try:
        if not args.no_kairan:
            log(f"starting PostgreSQL, slapd, kairand (workers = {args.workers})")
            st = StoreStack(os.path.join(root, "kairan"), args.build, args.workers).start()
            report["kairan_settings"] = st.settings()
            targets.append({"name": "kairand", "key": "k", "port": st.port,
                            "rss_pid": st.kairand.pid,
                            "pids": (st.kairand.pid, st.pg.proc.pid, st.slapd.proc.pid)})
        if args.with_dovecot:
            log("starting Dovecot")
            dv = de.Dovecot(os.path.join(root, "dovecot"), PASSWORD).start()
            dv.prepare_user(USER)
            report["dovecot_version"] = de.version()
            targets.append({"name": "Dovecot", "key": "d", "port": dv.port, "pids": (dv.pid,)})
        # One meter for all: a measurement of one server also shows what the
        # other (idle) stack did meanwhile, e.g. PostgreSQL's autovacuum.
        trees = {}
        if st is not None:
            trees.update(kairand=lambda: st.kairand.pid, postgres=lambda: st.pg.proc.pid)
        if dv is not None:
            trees["dovecot"] = lambda: dv.pid
        for t in targets:
            t["cpu"] = CpuMeter(trees)
        mine = tuple(p for t in targets for p in t["pids"])
        for t in targets:
            c = connect(t["port"])
            for i in range(args.clients):
                c.ok(f"CREATE app{i + 1}")
            if t["key"] == "k":
                c.ok(f"CREATE {BIG}")
            c.logout()
        own = [f"app{i + 1}" for i in range(args.clients)]
        for label, boxes, corpus, what in (("append_one", ["INBOX"], corpus_a, "INBOX"),
                                           ("append_own", own, corpus_b, "own mailboxes")):
            for t in targets:
                quiet(args, report, f"{t['key']}_{label}", mine)
                log(f"{t['name']}: APPEND {len(corpus)} messages, {args.clients} clients -> {what}")
                r = run_append(t["port"], boxes, corpus, args.clients, args.window, t["cpu"])
                report[f"{t['key']}_{label}"] = r
                log(f"  {r['rate']:.0f} msg/s")
                if t["key"] == "k":
                    # The search text is indexed after delivery: the next
                    # measurement starts once the indexer is done.
                    ix = st.wait_indexed(r["t_end"], t["cpu"])
                    if ix is not None:
                        r["indexed"] = ix
                        log(f"  {ix['waiting']} messages waited for the indexer at the last "
                            f"APPEND; backlog empty {ix['seconds']:.1f} s after it")
        if args.skip_big:
            return
        if st is not None:
            log(f"kairand: filling {BIG} with {args.big} messages (SQL)")
            t0 = time.perf_counter()
            report["k_fill"] = st.fill_big("INBOX", args.big)
            report["k_fill_seconds"] = time.perf_counter() - t0
        if dv is not None:
            log(f"Dovecot: writing {args.big} maildir entries")
            t0 = time.perf_counter()
            report["d_fill"] = dovecot_fill_big(dv, corpus_a, args.big)
            report["d_fill_seconds"] = time.perf_counter() - t0
        quiet(args, report, "reads", mine)
        log(f"reads on {args.big} messages")
        res = run_reads(targets, args.big, args.runs, args.fetch_runs)
        for t in targets:
            report[f"{t['key']}_reads"] = res[t["name"]]
        if st is not None and not args.no_explain:
            log("kairand: plans (auto_explain)")
            report["k_plans"] = st.explain(args.big)
    finally:
        if dv is not None:
            log("stopping Dovecot")
            dv.stop()
        if st is not None:
            log("stopping kairand, PostgreSQL, slapd")
            st.stop()


# --------------------------------------------------------------------------
# Report


def render(args, r):
    L = []
    k_one, k_own = r.get("k_append_one"), r.get("k_append_own")
    d_one, d_own = r.get("d_append_one"), r.get("d_append_own")
    kr, dr = r.get("k_reads", {}), r.get("d_reads", {})
    have_d = "d_append_one" in r

    def speed(kv, dv, higher_better):
        if kv is None or dv is None:
            return "—"
        x = kv / dv if higher_better else dv / kv
        return f"{x:.2f}×"

    def target(key, v):
        if key not in TARGETS or v is None:
            return "—", "—"
        text, ok = TARGETS[key]
        return text, "**yes**" if ok(v) else "**NO**"

    L.append("# Store benchmark: kairand vs Dovecot 2.3")
    L.append("")
    L.append(f"Generated by `tests/bench/bench_store.py` on "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
             f"command: `{' '.join(r['argv'])}`.")
    L.append("")
    L.append(f"- Machine: {r['machine']}. Client, kairand, PostgreSQL (and Dovecot) all share "
             f"these cores; every connection is over 127.0.0.1.")
    L.append(f"- Disk: {r['fsync'][0]:.0f} sequential 4 KiB write+fdatasync per second "
             f"({r['fsync'][1] * 1000:.2f} ms each) in the benchmark's directory.")
    L.append(f"- kairand {r['git']}, `workers = {args.workers}`; PostgreSQL: "
             f"{', '.join(r.get('kairan_settings', []))}.")
    if have_d:
        L.append(f"- Dovecot {r.get('dovecot_version', '?')}: maildir, default settings "
                 f"(mail_fsync = optimized: each saved message is fsynced before its OK), "
                 f"private config (tests/bench/dovecot_env.py).")
    L.append(f"- Client: {args.clients} connections (one Python thread each) for APPEND, "
             f"LITERAL+, {args.window} APPEND(s) in flight per connection; reads on one "
             f"connection. Messages: tests/bench/mailgen.py, mean "
             f"{r['corpus_mean']:.0f} bytes, {r['corpus_multipart']:.0f} % multipart.")
    L.append("")
    L.append("| # | operation | kairand | Dovecot 2.3 | kairand speed vs Dovecot (>1 = faster) "
             "| target (kairand) | met |")
    L.append("|---|---|---|---|---|---|---|")

    def row(num, name, key, kv, dv, fmt, higher_better):
        t, ok = target(key, kv)
        L.append(f"| {num} | {name} | {fmt(kv) if kv is not None else '—'} | "
                 f"{fmt(dv) if dv is not None else ('—' if not have_d else 'failed')} | "
                 f"{speed(kv, dv, higher_better)} | {t} | {ok} |")

    rate = lambda v: f"{v:,.0f} msg/s"      # noqa: E731
    n = args.messages
    row("1a", f"APPEND {n:,} × ~4 KB, {args.clients} clients → one mailbox", "append",
        k_one and k_one["rate"], d_one and d_one["rate"], rate, True)
    row("1b", f"APPEND {n:,} × ~4 KB, {args.clients} clients → {args.clients} mailboxes",
        "append", k_own and k_own["rate"], d_own and d_own["rate"], rate, True)
    for num, a in (("1a", k_one), ("1b", k_own)):
        if a and a.get("indexed"):
            ix = a["indexed"]
            L.append(f"| {num} | … then search text indexed: backlog empty after the last APPEND "
                     f"({ix['waiting']:,} waiting) | {ix['seconds']:.1f} s | — | — | — | — |")
    if kr or dr:
        ks, ds = kr.get("select"), dr.get("select")
        row("2", f"SELECT {args.big:,} messages, median of {args.runs}", "select",
            ks and ks["median"], ds and ds["median"], ms, False)
        row("2", f"SELECT {args.big:,} messages, p95 of {args.runs} (nearest rank)", "select",
            ks and ks["p95"], ds and ds["p95"], ms, False)
        for key, label in (("uidfetch", "UID FETCH 1:* (UID FLAGS)"),
                           ("envelope", "FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)"),
                           ("bodypeek", "FETCH 1:1000 (BODY.PEEK[])")):
            kv, dv = kr.get(key), dr.get(key)
            num = {"uidfetch": "3", "envelope": "4", "bodypeek": "5"}[key]
            row(num, f"{label}, median", key, kv and kv["median"], dv and dv["median"], ms, False)
        u = kr.get("uidfetch")
        if u and u.get("rss_peak"):
            L.append("")
            L.append(f"kairand memory during `UID FETCH 1:* (UID FLAGS)` over {args.big:,} "
                     f"messages ({u['bytes'] / 1e6:.1f} MB of response, {len(u['runs'])} runs): "
                     f"peak RSS **{u['rss_peak'] / 2**20:.1f} MiB** ({u['rss_how']}); "
                     f"RSS before: {u['rss_before'] / 2**20:.1f} MiB.")
    L.append("")
    L.append("## Details")
    L.append("")
    for label, key in (("kairand", "k"), ("Dovecot", "d")):
        for sub, what in (("append_one", "1a"), ("append_own", "1b")):
            a = r.get(f"{key}_{sub}")
            if a:
                L.append(f"- {label} {what}: {a['n']:,} APPENDs in {a['wall']:.2f} s = "
                         f"{a['rate']:,.0f} msg/s; latency p50 {ms(a['p50'])}, p99 {ms(a['p99'])}, "
                         f"max {ms(a['max'])}; CPU: {fmt_cpu(a['cpu'])}.")
                ix = a.get("indexed")
                if ix:
                    L.append(f"- {label} {what}, search indexing after delivery: {ix['waiting']:,} "
                             f"of {a['n']:,} messages waited for the indexer at the last APPEND; "
                             f"the backlog was empty {ix['seconds']:.2f} s after it "
                             f"({ix['waiting'] / max(ix['seconds'], 1e-9):,.0f} msg/s); APPEND and "
                             f"indexing together {a['n'] / (a['wall'] + ix['seconds']):,.0f} msg/s; "
                             f"CPU while indexing: {fmt_cpu(ix['cpu'])}.")
    for label, key in (("kairand", "k_reads"), ("Dovecot", "d_reads")):
        rd = r.get(key)
        if not rd:
            continue
        s = rd["select"]
        L.append(f"- {label} SELECT: first (cold) {ms(s['cold'])}; runs "
                 f"{', '.join(f'{x * 1000:.1f}' for x in s['runs'])} ms; CPU over the runs: "
                 f"{fmt_cpu(s['cpu'])}.")
        for k2, lab in (("uidfetch", "UID FETCH 1:* (UID FLAGS)"),
                        ("envelope", "FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)"),
                        ("bodypeek", "FETCH 1:1000 (BODY.PEEK[])")):
            x = rd[k2]
            L.append(f"- {label} {lab}: first {ms(x['cold'])}; runs "
                     f"{', '.join(f'{v * 1000:.1f}' for v in x['runs'])} ms; "
                     f"{x['bytes'] / 1e6:.2f} MB of response; CPU over the runs: {fmt_cpu(x['cpu'])}.")
    if r.get("quiet"):
        L.append("- Load from other processes (other people's builds and tests share this "
                 "machine) in the second before each measurement, after waiting up to "
                 f"{args.quiet_wait} s for it to drop below 0.25 cores: "
                 + ", ".join(f"{k} {v:.2f} cores" for k, v in r["quiet"].items())
                 + ". The CPU lines above show how much they took during each measurement.")
    L.append("")
    L.append("## How the 100,000-message mailboxes were filled")
    L.append("")
    for key in ("k_fill", "d_fill"):
        if key in r:
            L.append(f"- {r[key]} ({r[key + '_seconds']:.1f} s)")
    L.append("")
    L.append("Ratios compare medians (SELECT: also p95). \"first\" is the first command after "
             "the mailbox was filled (Dovecot: includes building its index).")
    if r.get("k_plans"):
        L.append("")
        L.append("## kairand's statements behind operations 2-5 (auto_explain, log_analyze)")
        L.append("")
        L.append("Recorded after the measurements: kairand restarted with auto_explain "
                 "(log_min_duration 1 ms, analyze, buffers; analyze's timing adds overhead), "
                 "then SELECT, UID FETCH 1:* (UID FLAGS), FETCH 1:1000 (ENVELOPE "
                 "BODYSTRUCTURE), FETCH 1:1000 (BODY.PEEK[]) once each.")
        for dur, plan in r["k_plans"]:
            L.append("")
            L.append(f"Statement of {dur:.1f} ms:")
            L.append("")
            L.append("```")
            L.append(plan)
            L.append("```")
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   help="directory with kairand and kairanctl (default: build/)")
    p.add_argument("--with-dovecot", action="store_true",
                   help="also measure a private Dovecot (apt-get install dovecot-imapd if missing)")
    p.add_argument("--workers", type=int, default=8, help="kairand worker threads (default 8)")
    p.add_argument("--clients", type=int, default=8, help="concurrent APPEND connections (8)")
    p.add_argument("--window", type=int, default=1,
                   help="APPENDs in flight per connection (1 = wait for each OK)")
    p.add_argument("--messages", type=int, default=10000, help="APPENDs per scenario (10000)")
    p.add_argument("--big", type=int, default=100000, help="messages in the big mailbox (100000)")
    p.add_argument("--runs", type=int, default=10, help="timed SELECT runs (10)")
    p.add_argument("--fetch-runs", type=int, default=5,
                   help="timed runs of UID FETCH 1:* (5); FETCH 1:1000 runs max(this, 10)")
    p.add_argument("--skip-big", action="store_true", help="APPEND only")
    p.add_argument("--no-kairan", action="store_true", help="Dovecot only (debugging)")
    p.add_argument("--no-explain", action="store_true", help="skip the auto_explain pass")
    p.add_argument("--max-seconds", type=int, default=900,
                   help="abort (and stop everything) after this long (900)")
    p.add_argument("--quiet-wait", type=int, default=20,
                   help="before each measurement wait up to this long for other processes "
                        "to use < 0.25 cores (20; 0 = do not wait)")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory, databases and maildirs included")
    p.add_argument("--out", default=os.path.join(HERE, "results-store.md"),
                   help="report file (default tests/bench/results-store.md; '-' for none)")
    args = p.parse_args()

    if args.with_dovecot and not de.available():
        log("dovecot-imapd is not installed: apt-get install -y dovecot-imapd")
        de.install()
    ke.install_signal_handlers()

    def on_alarm(signum, frame):
        raise Watchdog(f"benchmark exceeded --max-seconds {args.max_seconds}")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.max_seconds)

    root = tempfile.mkdtemp(prefix="kairan-bench-", dir="/tmp")
    os.chmod(root, 0o755)
    report = {"argv": ["bench_store.py"] + sys.argv[1:], "machine": machine_info(),
              "git": git_describe()}
    t_start = time.perf_counter()
    ok = False
    try:
        report["fsync"] = fsync_probe(root)
        log(f"{report['machine']}; fsync probe {report['fsync'][0]:.0f}/s")
        corpus = mailgen.corpus(0, 2 * args.messages)
        corpus_a, corpus_b = corpus[:args.messages], corpus[args.messages:]
        report["corpus_mean"] = sum(map(len, corpus)) / len(corpus)
        report["corpus_multipart"] = 100 * sum(b"multipart/" in m for m in corpus) / len(corpus)
        measure(args, root, corpus_a, corpus_b, report)
        ok = True
    except (Watchdog, KeyboardInterrupt) as e:
        log(f"aborted: {e!r}")
    finally:
        signal.alarm(0)
        ke.stop_all()
        if args.keep:
            log(f"files kept in {root} (PostgreSQL data in kairan/pg, mail in dovecot/home)")
        elif not ok:
            # Logs for a post-mortem; the data is big and of no use.
            shutil.rmtree(os.path.join(root, "kairan", "pg", "data"), ignore_errors=True)
            shutil.rmtree(os.path.join(root, "dovecot", "home"), ignore_errors=True)
            log(f"logs kept in {root}")
        else:
            log(f"removing {root}")
            shutil.rmtree(root, ignore_errors=True)
    text = render(args, report)
    sys.stdout.write(text)
    if ok and args.out != "-":
        with open(args.out, "w") as f:
            f.write(text)
        log(f"report written to {args.out}")
    log(f"total {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
