#!/usr/bin/python3
"""`make run`: a self-contained Kairan instance under ./var.

    run_demo.py --build BUILD_DIR --var VAR_DIR [--imap-port N] ...   start, run until Ctrl-C
    run_demo.py --var VAR_DIR --stop-only            stop what a crashed run left

var/pg (PostgreSQL, Unix socket only), var/ldap (slapd on 127.0.0.1:1389,
seeded with tests/fixtures/demo.ldif), var/tls (self-signed certificate for
localhost and 127.0.0.1), var/kairan.conf, and kairand in the foreground on
127.0.0.1:1143 (STARTTLS) and 127.0.0.1:1993 (implicit TLS), LMTP on 2424 and
metrics on 9143, its log on the terminal and in var/kairand.log. Every port
can be changed (--imap-port, --imaps-port, --ldap-port, --lmtp-port,
--metrics-port; `make run IMAP_PORT=...`) to run beside another server. Data
survives between runs.

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

# The default ports (make run IMAP_PORT=... and the options change them).
IMAP_PORT = 1143
IMAPS_PORT = 1993
LDAP_PORT = 1389
LMTP_PORT = 2424
METRICS_PORT = 9143   # Prometheus text: curl http://127.0.0.1:9143/metrics
# The PostgreSQL "port" only names the socket file in var/pg/run: no TCP, so
# the usual number cannot clash with a system server, and stays the same
# between runs for anyone who saved the psql command below.
PG_PORT = 5432
# The account is found by its login or by any of its addresses; LDAP gives
# back the canonical login (ldap_login_attribute), so alice@example.org
# and alice are the same session, mailboxes and rights.
DEMO_USER_FILTER = "(&(objectClass=inetOrgPerson)(|(uid=%u)(mail=%u)))"


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


def banner(var, pg, slapd, cert, ports):
    return f"""
Kairan demo is running (data in {var}).
  IMAP   127.0.0.1:{ports.imap_port} or localhost:{ports.imap_port}  plain text, STARTTLS available
  IMAPS  127.0.0.1:{ports.imaps_port} or localhost:{ports.imaps_port}  implicit TLS
         self-signed certificate for localhost and 127.0.0.1: {cert}
  LMTP   127.0.0.1:{ports.lmtp_port}
  Users  alice, bob, carol     password: secret
         (or log in as alice@example.org, bob@example.org, carol@example.org)
  Groups sales (alice, bob), support (carol)
  Shared Shared/sales, granted to group:sales (lrswipte), mail to sales@example.org
         Shared/support, made from the LDAP group support (support@example.org)
         see docs/acl.md and docs/delivery.md
  LDAP   {slapd.uri}  admin: {ke.ADMIN_DN} / {ke.ADMIN_PASSWORD}
  SQL    psql "{pg.dsn}"
  Stats  curl http://127.0.0.1:{ports.metrics_port}/metrics   (docs/metrics.md)
  Try    openssl s_client -quiet -connect 127.0.0.1:{ports.imaps_port}   then: a LOGIN alice secret
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
    for name, default in (("imap", IMAP_PORT), ("imaps", IMAPS_PORT), ("ldap", LDAP_PORT),
                          ("lmtp", LMTP_PORT), ("metrics", METRICS_PORT)):
        ap.add_argument(f"--{name}-port", type=int, default=default, metavar="N",
                        help=f"127.0.0.1 port for {name.upper()} (default {default})")
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
    ports = {"IMAP_PORT": args.imap_port, "IMAPS_PORT": args.imaps_port,
             "LDAP_PORT": args.ldap_port, "LMTP_PORT": args.lmtp_port,
             "METRICS_PORT": args.metrics_port}
    bad = [f"{k}={p}" for k, p in ports.items() if not 1 <= p <= 65535]
    if bad or len(set(ports.values())) != len(ports):
        print(f"run_demo: each port must be a different number from 1 to 65535: "
              f"{' '.join(f'{k}={p}' for k, p in ports.items())}", file=sys.stderr)
        return 1
    busy = [f"{p} ({k})" for k, p in ports.items() if not ke.port_is_free(p)]
    if busy:
        print(f"run_demo: 127.0.0.1 port(s) {', '.join(busy)} already in use (another "
              f"server?); choose others, e.g. make run IMAP_PORT=2143 IMAPS_PORT=2993 "
              f"LDAP_PORT=2389 LMTP_PORT=2425 METRICS_PORT=9144", file=sys.stderr)
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
        slapd = ke.Slapd(p["ldap"], args.ldap_port).start()
        pg = ke.Postgres(p["pg"], PG_PORT).start()
        config = ke.default_config(args.imap_port, args.imaps_port, cert, key, pg.dsn, slapd.uri,
                                   lmtp_port=args.lmtp_port)
        config["metrics_listen"] = f"127.0.0.1:{args.metrics_port}"
        # Log in by login name or by mail address (docs/config.md, LDAP).
        config["ldap_user_filter"] = DEMO_USER_FILTER
        # The support group (mail: support@example.org) is a team run from
        # LDAP: Shared/support (docs/acl.md, "A team run from LDAP").
        config["teams_from_directory"] = "support"
        kairand = ke.Kairand(build, var, config, stderr="tee")
        kairand.start()
        # The team mailbox of docs/acl.md's example, so that a client shows
        # Shared/sales to alice and bob at once (idempotent on re-runs).
        kairand.ctl("shared", "create", "sales", "--grant", "group:sales=lrswipte",
                    "--address", "sales@example.org")
        kairand.ctl("shared", "sync")
        print(banner(var, pg, slapd, cert, args), flush=True)
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
