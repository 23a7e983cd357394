#!/usr/bin/python3
"""`make run`: a self-contained Kairan instance under ./var.

    run_demo.py --build BUILD_DIR --var VAR_DIR      start, run until Ctrl-C
    run_demo.py --var VAR_DIR --stop-only            stop what a crashed run left

var/pg (PostgreSQL, Unix socket only), var/ldap (slapd on 127.0.0.1:1389,
seeded with tests/fixtures/demo.ldif), var/tls (self-signed certificate),
var/kairan.conf, and kairand in the foreground on 127.0.0.1:1143 (STARTTLS)
and 127.0.0.1:1993 (implicit TLS), its log on the terminal and in
var/kairand.log. Data survives between runs.

Ctrl-C or SIGTERM stops kairand, then PostgreSQL, then slapd, and exits 0. If
kairand exits by itself, the rest is stopped and its status is ours.
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kairan_env as ke  # noqa: E402

IMAP_PORT = 1143
IMAPS_PORT = 1993
LDAP_PORT = 1389
METRICS_PORT = 9143   # Prometheus text: curl http://127.0.0.1:9143/metrics
# The PostgreSQL "port" only names the socket file in var/pg/run: no TCP, so
# the usual number cannot clash with a system server, and stays the same
# between runs for anyone who saved the psql command below.
PG_PORT = 5432


def paths(var):
    return {
        "self": os.path.join(var, "run_demo.pid"),
        "kairand": os.path.join(var, "kairand.pid"),
        "pg": os.path.join(var, "pg"),
        "ldap": os.path.join(var, "ldap"),
        "tls": os.path.join(var, "tls"),
    }


def demo_running(var):
    """The pid of another live run_demo.py on this var/, or None."""
    pid = ke.read_pidfile(paths(var)["self"])
    if pid and pid != os.getpid() and ke.proc_alive(pid) and \
            any(arg.endswith(b"run_demo.py") for arg in ke.proc_cmdline(pid)):
        return pid
    return None


def stop_leftovers(var, quiet=False):
    """Stops, through their pidfiles, everything an earlier run on `var`
    left running: the run_demo.py itself (which then stops its children),
    else kairand, PostgreSQL and slapd one by one, in that order."""
    p = paths(var)
    stopped = []
    pid = demo_running(var)
    if pid:
        ke.terminate(f"run_demo.py (pid {pid})", [(signal.SIGTERM, 90), (signal.SIGKILL, 5)],
                      pid=pid)
        stopped.append("run_demo.py")
    if ke.stop_pidfile(p["kairand"], {"kairand"}, [(signal.SIGTERM, 10), (signal.SIGKILL, 5)],
                       "kairand"):
        stopped.append("kairand")
    if os.path.isdir(p["pg"]):
        pg = ke.Postgres(p["pg"], port=PG_PORT)
        if ke.stop_pidfile(pg.pidfile, {"postgres"},
                           [(signal.SIGINT, 60), (signal.SIGQUIT, 10), (signal.SIGKILL, 5)],
                           "postgres"):
            stopped.append("postgres")
    if ke.stop_pidfile(os.path.join(p["ldap"], "slapd.pid"), {"slapd"},
                       [(signal.SIGTERM, 15), (signal.SIGKILL, 5)], "slapd"):
        stopped.append("slapd")
    if stopped and not quiet:
        print(f"run_demo: stopped what was still running on {var}: {', '.join(stopped)}")
    return stopped


def banner(var, pg, slapd, cert):
    return f"""
Kairan demo is running (data in {var}).
  IMAP   127.0.0.1:{IMAP_PORT}  plain text, STARTTLS available
  IMAPS  127.0.0.1:{IMAPS_PORT}  implicit TLS; self-signed certificate {cert}
  Users  alice, bob, carol     password: secret
  Groups sales (alice, bob), support (carol)
  Shared Shared/sales, granted to group:sales (lrswipte): see docs/acl.md
  LDAP   {slapd.uri}  admin: {ke.ADMIN_DN} / {ke.ADMIN_PASSWORD}
  SQL    psql "{pg.dsn}"
  Stats  curl http://127.0.0.1:{METRICS_PORT}/metrics   (docs/metrics.md)
  Try    openssl s_client -quiet -connect 127.0.0.1:{IMAPS_PORT}   then: a LOGIN alice secret
Ctrl-C stops everything.
""".strip("\n")


class Stop(Exception):
    """Raised by the signal handler to unwind from wherever we are."""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--var", required=True, help="state directory (./var)")
    ap.add_argument("--build", help="directory holding kairand and kairanctl")
    ap.add_argument("--stop-only", action="store_true",
                    help="only stop processes left running by an earlier run")
    args = ap.parse_args()
    var = os.path.abspath(args.var)

    if args.stop_only:
        stop_leftovers(var)
        return 0
    if not args.build:
        ap.error("--build is required unless --stop-only")
    build = os.path.abspath(args.build)
    for prog in ("kairand", "kairanctl"):
        if not os.access(os.path.join(build, prog), os.X_OK):
            print(f"run_demo: {build}/{prog} not found: run `make` first", file=sys.stderr)
            return 1

    os.makedirs(var, exist_ok=True)
    other = demo_running(var)
    if other:
        print(f"run_demo: already running on {var} (pid {other}); stop it with Ctrl-C "
              f"there, or `make clean-var`", file=sys.stderr)
        return 1
    stop_leftovers(var)

    try:
        ke.check_traversable_by_postgres(var)
    except ke.HarnessError as e:
        print(f"run_demo: {e}", file=sys.stderr)
        return 1
    busy = [p for p in (IMAP_PORT, IMAPS_PORT, LDAP_PORT, METRICS_PORT) if not ke.port_is_free(p)]
    if busy:
        print(f"run_demo: 127.0.0.1 port(s) {', '.join(map(str, busy))} already in use "
              f"(another kairand or slapd?)", file=sys.stderr)
        return 1

    # From here on, SIGINT/SIGTERM/SIGHUP unwind to the finally below. The
    # children run in their own sessions, so the terminal's Ctrl-C reaches
    # only us and we decide the order in which they stop.
    def on_signal(signum, frame):
        raise Stop(signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    p = paths(var)
    with open(p["self"], "w") as f:
        f.write(f"{os.getpid()}\n")
    kairand = pg = slapd = None
    status = 0
    try:
        cert, key = ke.make_cert(p["tls"])
        slapd = ke.Slapd(p["ldap"], LDAP_PORT).start()
        pg = ke.Postgres(p["pg"], PG_PORT).start()
        config = ke.default_config(IMAP_PORT, IMAPS_PORT, cert, key, pg.dsn, slapd.uri,
                                   lmtp_port=2424)
        config["metrics_listen"] = f"127.0.0.1:{METRICS_PORT}"
        kairand = ke.Kairand(build, var, config, stderr="tee")
        kairand.start()
        # The team mailbox of docs/acl.md's example, so that a client shows
        # Shared/sales to alice and bob at once (idempotent on re-runs).
        kairand.ctl("shared", "create", "sales", "--grant", "group:sales=lrswipte")
        print(banner(var, pg, slapd, cert), flush=True)
        while kairand.running:
            time.sleep(0.2)
        status = kairand.wait()
        how = (f"status {status}" if status >= 0
               else f"signal {signal.Signals(-status).name}")
        print(f"run_demo: kairand exited ({how}); stopping the rest", file=sys.stderr)
        status = status if status >= 0 else 128 - status
    except Stop:
        status = 0
    except ke.HarnessError as e:
        if kairand is not None and kairand.proc is not None and kairand.proc.poll() is not None:
            # Its log is already on the terminal (tee): just the status.
            status = kairand.proc.returncode
            print(f"run_demo: kairand exited with status {status} at startup; "
                  f"stopping the rest", file=sys.stderr)
            status = status if status >= 0 else 128 - status
            status = status or 1
        else:
            print(f"run_demo: {e}", file=sys.stderr)
            status = 1
    finally:
        # A second Ctrl-C during shutdown must not abandon it half-way.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda s, f: print("run_demo: stopping, please wait",
                                                  file=sys.stderr))
        for svc in (kairand, pg, slapd):
            if svc is not None:
                try:
                    svc.stop()
                except Exception as e:
                    print(f"run_demo: stopping {svc!r}: {e}", file=sys.stderr)
                    status = status or 1
        try:
            os.unlink(p["self"])
        except FileNotFoundError:
            pass
    return status


if __name__ == "__main__":
    sys.exit(main())
