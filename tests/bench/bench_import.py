"""kairanctl import: the rate (messages/s, MB/s) of a Maildir import, and
what it does to everyone else's SEARCH meanwhile and after.

    /usr/bin/python3 tests/bench/bench_import.py [--messages 10000] [--batch 200]

A private PostgreSQL, slapd and kairand (tests/harness/kairan_env.py); a
Maildir of --messages realistic ~4 KB messages (tests/bench/mailgen.py:
text, multipart, attachments; a quarter \\Seen, some \\Flagged), with a
dovecot-uidlist, imported into alice's INBOX by kairanctl import. While it
runs, bob (200 messages of his own) runs SEARCH BODY in a loop; his
latencies before, during and after the import are reported, with the
search backlog (messages not yet in the trigram indexes) after it. The
machine's load average is reported before and after: the machine is
shared, so numbers are only comparable within one run.

Standard library only.
"""

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))
sys.path.insert(0, os.path.join(REPO, "tests", "protocol"))

import kairan_env as ke  # noqa: E402
import mailgen  # noqa: E402
from benchlib import tree_cpu  # noqa: E402
from imapclient import connect, ok  # noqa: E402


def write_maildir(root, n):
    cur = os.path.join(root, "cur")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    lines, total = ["3 V4242 N%d" % (n + 1)], 0
    for i in range(1, n + 1):
        raw = mailgen.message(i).replace(b"\r\n", b"\n")
        flags = ("S" if i % 4 == 0 else "") + ("F" if i % 17 == 0 else "")
        flags = "".join(sorted(flags))
        name = f"{1700000000 + i}.M{i}P1.bench,S={len(raw)}"
        with open(os.path.join(cur, f"{name}:2,{flags}"), "wb") as f:
            f.write(raw)
        os.utime(os.path.join(cur, f"{name}:2,{flags}"), (1700000000 + i,) * 2)
        lines.append(f"{i} :{name}")
        total += len(raw)
    with open(os.path.join(root, "dovecot-uidlist"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return total


class Searcher(threading.Thread):
    """bob's SEARCH BODY, again and again, timed."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.c = connect(port, timeout=120)
        ok(self.c, "LOGIN bob secret", tag="l")
        self.phase, self.times, self.stop = "before", {}, False

    def fill(self, n):
        raw = mailgen.message(999999)
        for i in range(n):
            body = raw.replace(b"Subject:", f"X-N: {i}\r\nSubject:".encode(), 1)
            self.c.send(f"a APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n")
            assert self.c.read_tagged("a")[0].startswith(b"a OK")
        ok(self.c, "SELECT INBOX")

    def run(self):
        while not self.stop:
            t = time.perf_counter()
            ok(self.c, "UID SEARCH BODY quarterly", tag="q")
            self.times.setdefault(self.phase, []).append(time.perf_counter() - t)
            time.sleep(0.05)


def pg_pid(pg):
    with open(pg.pidfile) as f:
        return int(f.readline())


def backlog(pg):
    return int(pg.psql("SELECT count(*) FROM messages WHERE NOT search_ready"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--batch", type=int, default=200)
    args = p.parse_args()
    ke.install_signal_handlers()
    root = tempfile.mkdtemp(prefix="kairan-bench-import-", dir="/tmp")
    os.chmod(root, 0o755)
    try:
        print(f"load before: {os.getloadavg()}", flush=True)
        cert, key = ke.make_cert(os.path.join(root, "tls"))
        slapd = ke.Slapd(os.path.join(root, "ldap")).start()
        pg = ke.Postgres(os.path.join(root, "pg")).start()
        config = ke.default_config(ke.free_port(), ke.free_port(), cert, key, pg.dsn, slapd.uri)
        config["literal_plus"] = "yes"
        k = ke.Kairand(args.build, os.path.join(root, "kairand"), config).start()
        t = time.perf_counter()
        nbytes = write_maildir(os.path.join(root, "Maildir"), args.messages)
        print(f"Maildir: {args.messages} messages, {nbytes / 1e6:.1f} MB, written in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        s = Searcher(k.imap_port)
        s.fill(200)
        while backlog(pg) > 0:
            time.sleep(0.2)
        s.start()
        time.sleep(3)
        s.phase = "during"
        pg_cpu, ctl_cpu = tree_cpu(pg_pid(pg)), resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([k.kairanctl, "-c", k.conf_path, "import", "alice",
                            os.path.join(root, "Maildir"), "--batch", str(args.batch)],
                           capture_output=True, text=True, env=ke._clean_env())
        s.phase = "after"
        pg_cpu = tree_cpu(pg_pid(pg)) - pg_cpu
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        ctl_cpu = ru.ru_utime + ru.ru_stime - ctl_cpu.ru_utime - ctl_cpu.ru_stime
        after_backlog = backlog(pg)
        time.sleep(3)
        s.stop = True
        s.join()
        print(r.stdout.strip(), r.stderr.strip(), flush=True)
        m = re.search(r"in ([\d.]+) s: (\d+) msg/s, ([\d.]+) MB/s", r.stdout)
        print(f"import: {m.group(2)} msg/s, {m.group(3)} MB/s ({m.group(1)} s)")
        print(f"CPU during the import: kairanctl {ctl_cpu:.1f} s, PostgreSQL {pg_cpu:.1f} s")
        print(f"search backlog right after the import: {after_backlog} messages")
        for phase in ("before", "during", "after"):
            v = sorted(s.times.get(phase, [0]))
            print(f"bob's SEARCH BODY {phase:6}: {len(v):4} runs, median "
                  f"{statistics.median(v) * 1000:.1f} ms, p95 {v[int(len(v) * 0.95)] * 1000:.1f} ms")
        print(f"load after: {os.getloadavg()}")
    finally:
        ke.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
