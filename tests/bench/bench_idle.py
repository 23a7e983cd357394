#!/usr/bin/env python3
"""IDLE at scale: what an idling session costs kairand, and how fast one
change reaches a thousand watchers (issue 11, item 6).

    make bench-idle                       # the figures in results-idle.md
    make bench-idle BENCH_IDLE_ARGS="--sessions 2000 --shared-messages 20000"

Phases, each on a fresh kairand (so that one phase's freed memory does not
flatter the next), whose limits are raised by `-o` on its command line:

1. small: `--sessions` sessions (default 10,000) over plain IMAP, spread
   over `--users` people (100), each LOGIN, SELECT INBOX (5 messages),
   IDLE. kairand's VmRSS before (after one warm-up login per user) and
   with every session idling; per session = the growth / sessions.
2. tls: the same over implicit TLS (the imaps port).
3. shared: `--shared-sessions` (1,000) sessions SELECT one shared mailbox
   of `--shared-messages` messages (100,000; filled by 20 APPENDs and a
   server-side INSERT ... SELECT that repeats them, a few seconds instead
   of minutes of APPEND) and IDLE; then `--appends` (20) APPENDs to it,
   one every half second, from another session: for each, the time from
   the APPEND's last byte sent to each watcher's `* n EXISTS` line.
4. dovecot: Dovecot 2.3 (tests/bench/dovecot_env.py, Debian's package,
   one imap process per session as by default) with `--dovecot-sessions`
   (1,000) IDLE clients on the same small mailboxes, run while kairand is
   still up; the RSS and PSS of all its processes summed.

The load generator is one asyncio process (raw streams; setup `--parallel`
sessions at a time); its RLIMIT_NOFILE is raised to the hard limit, which
kairand inherits. Standard library only.
"""

import argparse
import asyncio
import os
import resource
import shutil
import signal
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib as bl  # noqa: E402
from benchlib import ke, de  # noqa: E402
import imap_fast  # noqa: E402
from idle_load import Idler, open_many  # noqa: E402  (tests/harness/)

PASSWORD = ke.DEMO_PASSWORD
SSHA_SECRET = "{SSHA}Tatt/LNdfl1TfHtxt/o/zJgyyiyQQNN7"   # the demo password, as bench_mixed
TEAM = "sales"
SMALL_MESSAGES = 5
SEED_MESSAGES = 20


def user(i):
    return f"idle{i + 1:03d}"


def ldap_users(n):
    people = "".join(
        f"dn: uid={user(i)},ou=people,{ke.BASE_DN}\nobjectClass: inetOrgPerson\nuid: {user(i)}\n"
        f"cn: Idle User {i + 1}\nsn: User\nmail: {user(i)}@example.org\n"
        f"userPassword: {SSHA_SECRET}\n\n" for i in range(n))
    members = "".join(f"member: uid={user(i)},ou=people,{ke.BASE_DN}\n" for i in range(n))
    return people + (f"dn: cn=idleteam,ou=groups,{ke.BASE_DN}\nobjectClass: groupOfNames\n"
                     f"cn: idleteam\n{members}")


def message(i):
    return (f"From: Sender {i} <sender{i}@example.org>\r\nTo: team@example.org\r\n"
            f"Subject: circular {i}\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
            f"Message-ID: <idle-{i}@example.org>\r\n\r\nA short note, number {i}.\r\n").encode()


def rss(pid):
    return bl.vm_status(pid, "VmRSS") or 0


def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def top_mappings(pid, n=6):
    """The n mappings of pid with the most resident memory: where it goes
    (the main heap is the loop thread's, anonymous ones threads' arenas)."""
    out, cur = [], None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                parts = line.split()
                if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    cur = [parts[5] if len(parts) > 5 else "[anon]", hi - lo, 0]
                    out.append(cur)
                elif parts[0] == "Rss:" and cur:
                    cur[2] = int(parts[1]) * 1024
    except OSError:
        return []
    out.sort(key=lambda m: -m[2])
    return [(name, size, r) for name, size, r in out[:n]]


def mib(b):
    return f"{b / 1048576:.1f} MiB"


# --------------------------------------------------------------------------
# Setting up


def start_kairand(root, name, st_pg, slapd, cert, key, sessions, migrate=False):
    config = ke.default_config(ke.free_port(), ke.free_port(), cert, key, st_pg.dsn, slapd.uri)
    k = ke.Kairand(ARGS.build, os.path.join(root, name), config)
    limit = str(sessions + 1000)
    # The limits raised on the command line, as issue 11 asks (kairand -o).
    k.extra_args = ["-o", f"max_connections_per_ip={limit}",
                    "-o", f"max_connections_per_user={limit}",
                    "-o", "max_connection_rate_per_ip=1000000"]
    return k.start(migrate=migrate)


def append_all(port, login, mailbox, messages):
    """APPENDs each message with a LITERAL+ literal, one at a time."""
    c = imap_fast.Conn("127.0.0.1", port)
    c.login(login, PASSWORD)
    for raw in messages:
        tag = c.tag()
        c.sock.sendall(tag + f' APPEND "{mailbox}" {{{len(raw)}+}}\r\n'.encode() + raw + b"\r\n")
        while True:
            line = c.readline()
            if line.startswith(tag + b" "):
                break
        if not line.startswith(tag + b" OK"):
            raise RuntimeError(f"APPEND: {line!r}")
    c.logout()


def fill_small(port, users):
    for i in range(users):
        append_all(port, user(i), "INBOX", [message(j) for j in range(SMALL_MESSAGES)])


def fill_shared(port, pg, total):
    """SEED_MESSAGES APPENDs, then the rest repeated by SQL, as if delivered."""
    append_all(port, user(0), f"Shared/{TEAM}", [message(1000 + j) for j in range(SEED_MESSAGES)])
    mbox = pg.psql(f"SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.owner_id "
                   f"WHERE a.login = '{TEAM}' AND m.name = 'INBOX'").strip()
    if total > SEED_MESSAGES:
        pg.psql(f"""
            INSERT INTO mailbox_messages (mailbox_id, uid, message_id, flags, keywords, modseq,
                                          internaldate, saved_at)
            SELECT mm.mailbox_id, g, mm.message_id, mm.flags, mm.keywords, mm.modseq,
                   mm.internaldate, mm.saved_at
              FROM generate_series({SEED_MESSAGES + 1}, {total}) g
              JOIN mailbox_messages mm ON mm.mailbox_id = {mbox}
                                      AND mm.uid = (g - 1) % {SEED_MESSAGES} + 1""")
        pg.psql(f"UPDATE mailboxes SET uidnext = {total + 1} WHERE id = {mbox}")
    pg.psql("VACUUM (ANALYZE)")
    return int(mbox)


def warm(port, users):
    """One login per user (provisioning, the directory cache) and the
    threads' first allocations, before the baseline is read."""
    for i in range(users):
        c = imap_fast.Conn("127.0.0.1", port)
        c.login(user(i), PASSWORD)
        c.ok("SELECT INBOX")
        c.logout()


# --------------------------------------------------------------------------
# The phases


def phase_small(args, root, env, tls):
    name = "tls" if tls else "plain"
    k = start_kairand(root, f"kairand-{name}", env["pg"], env["slapd"], env["cert"], env["key"],
                      args.sessions)
    try:
        warm(k.imap_port, args.users)
        time.sleep(1)
        base = rss(k.pid)
        port = k.imaps_port if tls else k.imap_port
        ctx = None
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        marks = {}
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        cpu = bl.CpuMeter({"kairand": lambda: k.pid}).start()

        async def run():
            idlers = await open_many(
                args.sessions, port, ctx, lambda i: (user(i % args.users), PASSWORD, "INBOX"),
                args.parallel, checkpoints=(1000, 2000, args.sessions),
                on_checkpoint=lambda n: marks.__setitem__(n, rss(k.pid)))
            setup = time.perf_counter() - t0
            await asyncio.sleep(8)       # released by the once-a-second pass, heap trimmed (5 s)
            held = rss(k.pid)
            if ARGS.smaps:
                for name, size, r in top_mappings(k.pid):
                    bl.log(f"  {name}: {mib(r)} resident of {mib(size)}")
            for s in idlers:
                s.close()
            await asyncio.sleep(0)
            return setup, held

        setup, held = asyncio.run(run())
        c = cpu.stop()
        time.sleep(3)
        after = rss(k.pid)
        res = {"name": name, "sessions": args.sessions, "base": base, "held": held,
               "per_session": (held - base) / args.sessions, "marks": marks, "after": after,
               "setup": setup, "load": (load0, os.getloadavg()[0]), "cpu": bl.fmt_cpu(c)}
        bl.log(f"{name}: {args.sessions} idling: RSS {mib(base)} -> {mib(held)} "
               f"({res['per_session'] / 1024:.1f} KiB a session), setup {setup:.1f} s")
        return res
    finally:
        k.stop()


def phase_shared(args, root, env):
    k = start_kairand(root, "kairand-shared", env["pg"], env["slapd"], env["cert"], env["key"],
                      args.shared_sessions)
    try:
        warm(k.imap_port, args.users)
        time.sleep(1)
        base = rss(k.pid)
        mailbox = f"Shared/{TEAM}"
        total = args.shared_messages

        async def run():
            t0 = time.perf_counter()
            idlers = await open_many(args.shared_sessions, k.imap_port, None,
                                     lambda i: (user(i % args.users), PASSWORD, mailbox), args.parallel,
                                     enable=args.enable)
            setup = time.perf_counter() - t0
            await asyncio.sleep(2)
            held = rss(k.pid)
            for s in idlers:
                s.task = asyncio.ensure_future(s.watch())
            r, w = await asyncio.open_connection("127.0.0.1", k.imap_port)
            writer = Idler(r, w)
            await r.readline()
            await writer.command("a", f"LOGIN {user(0)} {PASSWORD}")
            sent, acked = [], []
            cpu = bl.CpuMeter({"kairand": lambda: k.pid, "postgres": lambda: env["pg"].proc.pid}).start()
            for j in range(args.appends):
                raw = message(5000 + j)
                w.write(f'p{j} APPEND "{mailbox}" {{{len(raw)}+}}\r\n'.encode() + raw)
                await w.drain()
                w.write(b"\r\n")
                sent.append(time.perf_counter())
                while True:
                    line = await r.readline()
                    if line.startswith(f"p{j} ".encode()):
                        break
                if not line.startswith(f"p{j} OK".encode()):
                    raise RuntimeError(f"APPEND: {line!r}")
                acked.append(time.perf_counter())
                await asyncio.sleep(0.5)
            await asyncio.sleep(1)
            spent = cpu.stop()
            lat, missing = [], 0
            for j in range(args.appends):
                n = total + j + 1
                for s in idlers:
                    if n in s.exists:
                        lat.append(s.exists[n] - sent[j])
                    else:
                        missing += 1
            peak = rss(k.pid)
            writer.close()
            for s in idlers:
                s.close()
            await asyncio.sleep(0)
            return setup, held, peak, lat, missing, [a - s for a, s in zip(acked, sent)], spent

        load0 = os.getloadavg()[0]
        setup, held, peak, lat, missing, ack, spent = asyncio.run(run())
        res = {"sessions": args.shared_sessions, "messages": total, "base": base, "held": held,
               "peak": peak, "setup": setup, "missing": missing, "appends": args.appends,
               "p50": bl.pct(lat, 50) if lat else None, "p99": bl.pct(lat, 99) if lat else None,
               "max": max(lat) if lat else None, "ack_p50": bl.pct(ack, 50),
               "load": (load0, os.getloadavg()[0]), "cpu": bl.fmt_cpu(spent)}
        bl.log(f"shared: {args.shared_sessions} on {total:,} messages: RSS {mib(base)} -> "
               f"{mib(held)}; APPEND to every watcher p50 {bl.ms(res['p50'] or 0)} "
               f"p99 {bl.ms(res['p99'] or 0)}, {missing} missing")
        return res
    finally:
        k.stop()


DOVECOT_LIMITS = """
default_process_limit = {procs}
default_client_limit = {clients}
service imap-login {{
  service_count = 0
  process_min_avail = 2
  client_limit = {clients}
}}
"""


def phase_dovecot(args, root, k_running):
    if not de.available():
        return {"skipped": "dovecot-imapd is not installed"}
    n = args.dovecot_sessions
    dv = de.Dovecot(os.path.join(root, "dovecot"), PASSWORD,
                    extra_conf=DOVECOT_LIMITS.format(procs=n + 100, clients=n + 1000))
    for i in range(args.users):
        dv.prepare_user(user(i))
        dv.fill(user(i), "INBOX", [message(j) for j in range(SMALL_MESSAGES)])
    dv.start()
    try:
        def total(f):
            return sum(f(p) for p in dv.process_pids())
        warm(dv.port, args.users)
        time.sleep(1)
        base_rss, base_pss = total(rss), total(pss)
        load0 = os.getloadavg()[0]

        async def run():
            t0 = time.perf_counter()
            idlers = await open_many(n, dv.port, None, lambda i: (user(i % args.users), PASSWORD, "INBOX"),
                                     min(args.parallel, 50))
            setup = time.perf_counter() - t0
            await asyncio.sleep(3)
            held = (total(rss), total(pss), len(dv.process_pids()))
            for s in idlers:
                s.close()
            await asyncio.sleep(0)
            return setup, held

        setup, (held_rss, held_pss, procs) = asyncio.run(run())
        res = {"sessions": n, "version": de.version(), "base_rss": base_rss, "base_pss": base_pss,
               "rss": held_rss, "pss": held_pss, "procs": procs, "setup": setup,
               "load": (load0, os.getloadavg()[0])}
        bl.log(f"dovecot: {n} idling: RSS sum {mib(held_rss)}, PSS sum {mib(held_pss)}, "
               f"{procs} processes")
        return res
    finally:
        dv.stop()


# --------------------------------------------------------------------------
# The report


def render(args, r):
    out = [f"## bench_idle.py, {r['when']}", "",
           f"- machine: {r['machine']}; checkout {r['git']}",
           f"- command: `{' '.join(r['argv'])}`",
           f"- load average (1 min) at the start: {r['load0']:.2f}", ""]
    out += ["| phase | sessions | kairand RSS before | with all idling | per session | "
            "at 1,000 / 2,000 | after closing | setup | load avg |",
            "|---|---|---|---|---|---|---|---|---|"]
    for p in r["small"]:
        m = p["marks"]
        out.append(f"| {p['name']} | {p['sessions']:,} | {mib(p['base'])} | {mib(p['held'])} | "
                   f"{p['per_session'] / 1024:.1f} KiB | "
                   f"{mib(m.get(1000, 0))} / {mib(m.get(2000, 0))} | {mib(p['after'])} | "
                   f"{p['setup']:.1f} s | {p['load'][0]:.1f} → {p['load'][1]:.1f} |")
    out.append("")
    for p in r["small"]:
        out.append(f"- {p['name']} CPU: {p['cpu']}")
    s = r.get("shared")
    if s:
        out += ["", f"Shared mailbox: {s['sessions']:,} sessions IDLE on `Shared/{TEAM}` "
                f"({s['messages']:,} messages): kairand RSS {mib(s['base'])} before, "
                f"{mib(s['held'])} with all idling, {mib(s['peak'])} after the APPENDs; "
                f"setup {s['setup']:.1f} s; load average {s['load'][0]:.1f} → {s['load'][1]:.1f}.",
                "",
                f"One APPEND reaching all {s['sessions']:,} watchers ({s['appends']} APPENDs, "
                f"{s['sessions'] * s['appends']:,} deliveries; from the APPEND's last byte sent "
                f"to each watcher's `* n EXISTS`): p50 {bl.ms(s['p50'])}, p99 {bl.ms(s['p99'])}, "
                f"max {bl.ms(s['max'])}; missing {s['missing']}; the APPEND's own OK p50 "
                f"{bl.ms(s['ack_p50'])}.", "", f"CPU during the APPENDs: {s['cpu']}"]
    d = r.get("dovecot")
    if d:
        if "skipped" in d:
            out += ["", f"Dovecot: skipped ({d['skipped']})."]
        else:
            out += ["", f"Dovecot {d['version']} (one imap process per session, its default), "
                    f"{d['sessions']:,} IDLE sessions on the same small mailboxes: RSS of its "
                    f"{d['procs']} processes summed {mib(d['rss'])} (before the clients "
                    f"{mib(d['base_rss'])}); PSS summed {mib(d['pss'])} (before "
                    f"{mib(d['base_pss'])}): {(d['pss'] - d['base_pss']) / d['sessions'] / 1024:.0f} "
                    f"KiB a session by PSS; setup {d['setup']:.1f} s; load average "
                    f"{d['load'][0]:.1f} → {d['load'][1]:.1f}."]
    out.append("")
    return "\n".join(out)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(bl.REPO, "build"))
    p.add_argument("--sessions", type=int, default=10000)
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--shared-sessions", type=int, default=1000)
    p.add_argument("--shared-messages", type=int, default=100000)
    p.add_argument("--appends", type=int, default=20)
    p.add_argument("--dovecot-sessions", type=int, default=1000)
    p.add_argument("--phases", default="plain,tls,shared,dovecot")
    p.add_argument("--pg-set", action="append", default=[], metavar="NAME=VALUE",
                   help="a PostgreSQL setting for the private cluster (repeatable)")
    p.add_argument("--enable", default=None, metavar="CAPABILITY",
                   help="the shared phase's sessions ENABLE this first (IMAP4rev2: no \\Recent claims)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    p.add_argument("--smaps", action="store_true", help="log kairand's biggest mappings")
    p.add_argument("--parallel", type=int, default=100, help="sessions being set up at once")
    p.add_argument("--max-seconds", type=int, default=1800)
    p.add_argument("--out", default="-", help="also append the report to this file")
    ARGS = args = p.parse_args()
    args.pg_set = dict(x.split("=", 1) for x in args.pg_set)
    phases = set(args.phases.split(","))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(args.sessions, args.shared_sessions, args.dovecot_sessions) * 2 + 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, need)), hard))
    if hard < args.sessions + 500:
        p.error(f"RLIMIT_NOFILE's hard limit {hard} is too low for {args.sessions} sessions")

    ke.install_signal_handlers()

    def on_alarm(signum, frame):
        raise bl.Watchdog(f"benchmark exceeded --max-seconds {args.max_seconds}")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.max_seconds)
    root = tempfile.mkdtemp(prefix="kairan-bench-idle-", dir="/tmp")
    os.chmod(root, 0o755)
    r = {"argv": ["bench_idle.py"] + sys.argv[1:], "machine": bl.machine_info(),
         "git": bl.git_describe(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
         "load0": os.getloadavg()[0], "small": []}
    ok = False
    try:
        cert, key = ke.make_cert(os.path.join(root, "tls"))
        slapd = ke.Slapd(os.path.join(root, "ldap")).start()
        pg = ke.Postgres(os.path.join(root, "pg"), settings=args.pg_set).start()
        env = {"pg": pg, "slapd": slapd, "cert": cert, "key": key}
        slapd.ldapmodify(ldap_users(args.users), add=True)
        k = start_kairand(root, "kairand-fill", pg, slapd, cert, key, 0, migrate=True)
        k.ctl("shared", "create", TEAM, "--grant", "group:idleteam=lrswipte")
        t0 = time.perf_counter()
        fill_small(k.imap_port, args.users)
        if "shared" in phases:
            fill_shared(k.imap_port, pg, args.shared_messages)
        r["fill"] = time.perf_counter() - t0
        bl.log(f"filled in {r['fill']:.1f} s")
        k.stop()
        for tls in (False, True):
            if ("tls" if tls else "plain") in phases:
                r["small"].append(phase_small(args, root, env, tls))
        if "shared" in phases:
            r["shared"] = phase_shared(args, root, env)
        if "dovecot" in phases:
            r["dovecot"] = phase_dovecot(args, root, None)
        ok = True
    except (bl.Watchdog, KeyboardInterrupt) as e:
        bl.log(f"aborted: {e!r}")
    finally:
        signal.alarm(0)
        ke.stop_all()
        if args.keep:
            bl.log(f"files kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    text = render(args, r)
    sys.stdout.write(text)
    if args.out != "-":
        with open(args.out, "a") as f:
            f.write(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
