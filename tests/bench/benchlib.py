"""Helpers shared by the benchmarks in tests/bench/ (bench_store.py,
bench_mixed.py): CPU accounting from /proc, waiting for a quiet machine,
percentiles, a description of the machine and of the checkout, and the
private kairand stack (PostgreSQL, slapd, kairand) started in a directory.

Standard library only.
"""

import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

import kairan_env as ke  # noqa: E402
import dovecot_env as de  # noqa: E402


class Watchdog(BaseException):
    """The run took longer than --max-seconds."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Measuring helpers


def proc_cpu(pid):
    """CPU seconds of a process (all its threads: utime + stime) and of its
    children that have exited and been reaped (cutime + cstime): PostgreSQL's
    autovacuum workers and Dovecot's imap processes come and go."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    return sum(proc_cpu(p) for p in de.descendants(root)) if root else 0.0


def machine_cpu():
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat
    (busy = user nice system irq softirq steal; guest time is already in user)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy, busy + v[3] + v[4]


def all_procs():
    """pid -> (comm, CPU seconds of its own) for every process."""
    out = {}
    tck = os.sysconf("SC_CLK_TCK")
    for pid, stat in de.proc_stats():
        fields = stat[stat.rindex(")") + 2:].split()
        out[pid] = (stat[stat.index("(") + 1:stat.rindex(")")],
                          (int(fields[11]) + int(fields[12])) / tck)
    return out


def client_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class CpuMeter:
    """CPU seconds used by named process trees, by this client, and the
    machine's busy share, between start() and stop()."""

    def __init__(self, trees):
        self.trees = trees          # name -> callable returning a root pid

    def _snap(self):
        return ({n: tree_cpu(f()) for n, f in self.trees.items()}, client_cpu(), machine_cpu(),
                time.perf_counter(), all_procs())

    def start(self):
        self.a = self._snap()
        return self

    def stop(self):
        b = self._snap()
        wall = b[3] - self.a[3]
        out = {n: b[0][n] - self.a[0][n] for n in b[0]}
        out["client"] = b[1] - self.a[1]
        busy, total = b[2][0] - self.a[2][0], b[2][1] - self.a[2][1]
        ours = sum(out.values())
        out["machine_busy"] = busy / total if total else 0.0
        # CPU time of everything else on the machine (other users' builds
        # and test runs): the benchmark cannot stop them, but says so.
        out["others"] = max(0.0, busy / os.sysconf("SC_CLK_TCK") - ours)
        out["wall"] = wall
        mine = {os.getpid()}
        for f in self.trees.values():
            mine.update(de.descendants(f()) if f() else ())
        top = {}
        for pid, (comm, t) in b[4].items():
            if pid not in mine:
                d = t - self.a[4].get(pid, (comm, 0.0))[1]
                if d > 0:
                    top[comm] = top.get(comm, 0.0) + d
        out["others_top"] = sorted(top.items(), key=lambda x: -x[1])[:4]
        return out


def fmt_cpu(c):
    parts = [f"{n} {v:.2f} s" for n, v in c.items()
             if n not in ("machine_busy", "wall", "others", "others_top")]
    top = ", ".join(f"{n} {v:.2f} s" for n, v in c.get("others_top", []) if v >= 0.01)
    return (", ".join(parts) + f"; everything else on the machine {c['others']:.2f} s"
            + (f" (running throughout: {top})" if top else "")
            + f"; machine {100 * c['machine_busy']:.0f} % busy over {c['wall']:.2f} s "
            f"({os.cpu_count()} cores)")


def vm_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_hwm(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Fallback when VmHWM cannot be reset: samples VmRSS every 5 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, vm_status(self.pid, "VmRSS") or 0)
            time.sleep(0.005)


def wait_quiet(max_wait, mine=(), limit=0.25):
    """Waits (at most max_wait seconds) for one second in which processes
    other than ours use less than `limit` of a core: other people's builds
    and test runs on a shared machine skew every figure. Returns the CPU
    share (cores) the others used in the last second looked at."""
    deadline = time.monotonic() + max_wait
    tck = os.sysconf("SC_CLK_TCK")
    while True:
        ours = lambda: client_cpu() + sum(tree_cpu(p) for p in mine if p)   # noqa: E731
        m0, o0, t0 = machine_cpu()[0], ours(), time.perf_counter()
        time.sleep(1.0)
        m1, o1, t1 = machine_cpu()[0], ours(), time.perf_counter()
        others = max(0.0, (m1 - m0) / tck - (o1 - o0)) / (t1 - t0)
        if others < limit or time.monotonic() >= deadline:
            return others


def fsync_probe(dir, seconds=1.0):
    """4 KiB write + fdatasync in a loop on the benchmark's file system:
    the ceiling of durable commits one after another."""
    path = os.path.join(dir, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    n, t0 = 0, time.perf_counter()
    try:
        while time.perf_counter() - t0 < seconds:
            os.pwrite(fd, b"x" * 4096, (n % 256) * 4096)
            os.fdatasync(fd)
            n += 1
    finally:
        os.close(fd)
        os.unlink(path)
    dt = time.perf_counter() - t0
    return n / dt, dt / n


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(1, -(-len(s) * p // 100))
    return s[int(k) - 1]


def ms(v):
    return f"{v * 1000:.1f} ms" if v < 10 else f"{v:.2f} s"



def git_describe():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return (f"{os.cpu_count()} cores ({model}), {mem / 1024:.0f} GiB RAM, Linux "
            f"{platform.release()}")



# --------------------------------------------------------------------------
# The kairand stack


class KairanStack:
    """slapd, PostgreSQL and kairand in `root` (tls/, ldap/, pg/, kairand/).
    `pg_settings`: extra PostgreSQL settings (name -> value) on top of the
    harness's (tests/harness/kairan_env.py)."""

    def __init__(self, root, build, workers, pg_settings=None, config=None):
        self.root, self.build, self.workers = root, build, workers
        self.pg_settings = dict(pg_settings or {})
        self.config = dict(config or {})      # kairan.conf keys over the defaults

    def start(self):
        cert, key = ke.make_cert(os.path.join(self.root, "tls"))
        self.slapd = ke.Slapd(os.path.join(self.root, "ldap")).start()
        self.pg = ke.Postgres(os.path.join(self.root, "pg"), settings=self.pg_settings).start()
        config = ke.default_config(ke.free_port(), ke.free_port(), cert, key, self.pg.dsn,
                                   self.slapd.uri)
        config["workers"] = str(self.workers)
        # The load pipelines APPENDs of any size with {n+}, as against Dovecot.
        config["literal_plus"] = "yes"
        # Clients that log in every cycle open hundreds of connections a
        # second from 127.0.0.1: no per-address rate limit in a benchmark.
        config["max_connection_rate_per_ip"] = "0"
        config.update(self.config)
        self.kairand = ke.Kairand(self.build, os.path.join(self.root, "kairand"), config).start()
        self.port = self.kairand.imap_port
        return self

    def stop(self):
        for s in (getattr(self, "kairand", None), getattr(self, "pg", None),
                  getattr(self, "slapd", None)):
            if s is not None:
                s.stop()

    def settings(self):
        """The PostgreSQL settings that matter to the figures, as name=value
        in the units one would write in postgresql.conf."""
        names = ("server_version", "fsync", "synchronous_commit", "wal_sync_method",
                 "full_page_writes", "shared_buffers", "wal_level", "max_wal_size",
                 "checkpoint_timeout", "commit_delay", "wal_compression", "jit",
                 "random_page_cost")
        rows = self.pg.psql("SELECT name || '=' || current_setting(name) FROM pg_settings "
                            f"WHERE name IN ({', '.join(repr(n) for n in names)}) ORDER BY name")
        return rows.splitlines()

    def psql_session(self, *statements):
        argv = [f"{ke.PG_BIN}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", self.pg.sockdir, "-p", str(self.pg.port), "-U", ke.DB_USER, "-d", "postgres"]
        for sql in statements:
            argv += ["-c", sql]
        return ke._run(argv, "psql")


# --------------------------------------------------------------------------
# The driver


def run_benchmark(name, args, measure, render):
    """The frame of a benchmark's main(): a watchdog of args.max_seconds, a
    temporary directory (kept with args.keep), measure(args, root, report),
    every service stopped whatever happens, then render(args, report) to
    stdout and to args.out unless it is "-". Returns the exit status."""
    ke.install_signal_handlers()

    def on_alarm(signum, frame):
        raise Watchdog(f"benchmark exceeded --max-seconds {args.max_seconds}")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.max_seconds)
    root = tempfile.mkdtemp(prefix=f"kairan-{name}-", dir="/tmp")
    os.chmod(root, 0o755)
    report = {"argv": [f"{name}.py"] + sys.argv[1:], "machine": machine_info(),
              "git": git_describe()}
    t_start = time.perf_counter()
    ok = False
    try:
        measure(args, root, report)
        ok = True
    except (Watchdog, KeyboardInterrupt) as e:
        log(f"aborted: {e!r}")
    finally:
        signal.alarm(0)
        ke.stop_all()
        if args.keep:
            log(f"files kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if report.get("runs"):
        text = render(args, report)
        sys.stdout.write(text)
        if args.out != "-":
            with open(args.out, "w") as f:
                f.write(text)
            log(f"report written to {args.out}")
    log(f"total {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1
