#!/usr/bin/python3
"""Load generator of the mixed benchmark (tests/bench/bench_mixed.py).

Each worker process (`imap_load.py worker`, configured by one JSON line on
stdin) drives many clients over non-blocking sockets with one selector:
every client holds ONE IMAP session (or, with login_per_cycle, one per
cycle) and runs the cycle below, one command at a time, as a mail client
does. The parent (run_load) starts --procs workers, waits until every
client is connected and logged in, then gives them all the same clock:
cycles start at t_start, commands that complete between t0 and t1 are
counted, and at the first cycle boundary after t1 every client logs out.
A worker that is not done by `hard` gives up (hard bound on duration).

The cycle, on the client's mailbox (pre-filled with ~600 messages):

  SELECT; UID FETCH 1:* (FLAGS); FETCH of a window of --window messages
  (UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT
  DATE)]); UID STORE +FLAGS then -FLAGS (\\Flagged $LabelK) on one of them;
  APPEND of a new message; UID STORE +FLAGS (\\Deleted) on it; UID EXPUNGE
  of it (so the mailbox stays the same size); LIST "" "*"; STATUS of
  another mailbox.

Every response is checked against the client's own view of the mailbox
(RFC 3501 §7): EXISTS never decreases, EXPUNGE removes the message at that
number from the client's MSN -> UID map, FETCH responses name announced
numbers whose UID matches the map, the map's UIDs ascend, FETCH FLAGS hold
only flags and keywords announced by the last untagged FLAGS (§7.2.6),
every command gets a tagged OK, plus per-command checks (below). Each
violation is counted by kind, with a few samples.

The parser splits responses (literals included) with bytes.find and a few
compiled regular expressions, so that the client's cost stays small next
to a server's; `--calibrate` in bench_mixed.py measures its ceiling
against tests/bench/imap_stub.py.

Standard library only.
"""

import json
import operator
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mailgen  # noqa: E402

# Report order of the commands.
OPS = ("connect", "login", "select", "fetch_flags", "fetch_window", "store_add",
       "store_remove", "append", "store_deleted", "expunge", "list", "status", "logout")
LABELS = {
    "connect": "connect + greeting", "login": "LOGIN", "select": "SELECT",
    "fetch_flags": "UID FETCH 1:* (FLAGS)", "fetch_window": "FETCH window (ENVELOPE …)",
    "store_add": "UID STORE +FLAGS", "store_remove": "UID STORE -FLAGS",
    "append": "APPEND", "store_deleted": "UID STORE +FLAGS (\\Deleted)",
    "expunge": "UID EXPUNGE", "list": "LIST \"\" \"*\"", "status": "STATUS",
    "logout": "LOGOUT"}
SYSTEM_FLAGS = frozenset((b"\\answered", b"\\flagged", b"\\deleted", b"\\seen", b"\\draft",
                          b"\\recent"))
FETCH_WINDOW_ITEMS = b"(UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])"

RE_NUMBERED = re.compile(rb"\* (\d+) (EXISTS|EXPUNGE|FETCH|RECENT)")
# The common case, UID FETCH 1:* (FLAGS): a run of complete lines of one shape,
# taken in one match and checked in bulk (the client's largest cost).
RE_FLAGS_RUN = re.compile(rb"(?:\* \d+ FETCH \(UID \d+ FLAGS \([^)\r\n]*\)\)\r\n)+")
RE_FLAGS_LINE = re.compile(rb"\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)\r\n]*)\)\)\r\n")
RE_UID = re.compile(rb"[( ]UID (\d+)")
RE_FLAGS = re.compile(rb"[( ]FLAGS \(([^)]*)\)")
RE_LITERAL = re.compile(rb"\{(\d+)\+?\}$")
RE_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")
RE_MESSAGES = re.compile(rb"[( ]MESSAGES (\d+)")
RE_LIST_NAME = re.compile(rb'^\* LIST \([^)]*\) (?:"[^"]*"|NIL) "?(.*?)"?$')


def next_response(buf, pos):
    """(end, next) of the complete response that starts at `pos` in `buf`
    (literals included: `end` is the offset of its final CRLF), or None if
    more input is needed."""
    p = pos
    while True:
        e = buf.find(b"\r\n", p)
        if e < 0:
            return None
        if e > p and buf[e - 1] == 0x7D:                 # '}': a literal follows
            m = RE_LITERAL.search(buf, max(p, e - 24), e)
            if m:
                p = e + 2 + int(m.group(1))
                if p > len(buf):
                    return None
                continue
        return e, e + 2


def quote(name):
    return b'"' + name.encode() + b'"'


class Stats:
    """What one worker measured: latencies (seconds) of the commands that
    completed inside the window, every command sent, violations by kind."""

    def __init__(self):
        self.lat = {op: [] for op in OPS}
        self.commands = 0
        self.cycles = 0
        self.errors = {}
        self.samples = {}

    def error(self, kind, detail):
        self.errors[kind] = self.errors.get(kind, 0) + 1
        s = self.samples.setdefault(kind, [])
        if len(s) < 3:
            s.append(detail[:300])


class Client:
    """One IMAP session driven by the generator `program()`: it yields
    (op, command bytes) and receives (ok, tagged line) once the tagged
    response has come; the untagged responses have by then been applied to
    the client's view (uids, allowed flags) and collected in `fetched`
    (msn, uid from the response or else the map, FLAGS bytes, line) and `untagged` (other lines)."""

    def __init__(self, cid, cfg, run, sel, stats, pool):
        self.cid, self.cfg, self.run, self.sel, self.stats = cid, cfg, run, sel, stats
        self.pool = pool
        self.sock = None
        self.buf = bytearray()
        self.pos = 0
        self.tagn = 0
        self.tag = None
        self.op = None
        self.t0 = 0.0
        self.uids = []               # MSN - 1 -> UID (None until a FETCH names it)
        self.allowed = SYSTEM_FLAGS
        self.expunged = []           # UIDs removed during the current command
        self.fetched = []
        self.untagged = []
        self.parked = False          # waiting for the common start
        self.done = False
        self.gen = self.program()

    def err(self, kind, detail=""):
        self.stats.error(kind, f"client {self.cid} {self.op}: {detail}")

    # -- the engine ------------------------------------------------------

    def advance(self, result=None):
        try:
            op, cmd = self.gen.send(result)
        except StopIteration:
            self.close()
            self.done = True
            return
        self.op, self.fetched, self.untagged, self.expunged = op, [], [], []
        if op == "wait":
            self.parked = True
            return
        if op == "select":
            self.uids, self.allowed = [], SYSTEM_FLAGS
        self.t0 = time.perf_counter()
        if op == "connect":
            self.tag = None
            self.sock = socket.create_connection((self.run["host"], self.run["port"]), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf, self.pos = bytearray(), 0
            self.sel.register(self.sock, selectors.EVENT_READ, self)
            return
        self.tagn += 1
        self.tag = b"c%d" % self.tagn
        self.sock.sendall(self.tag + b" " + cmd + b"\r\n")

    def close(self):
        if self.sock is not None:
            self.sel.unregister(self.sock)
            self.sock.close()
            self.sock = None

    def on_readable(self):
        try:
            data = self.sock.recv(1 << 18)
        except OSError as e:
            data, why = b"", str(e)
        else:
            why = "server closed the connection"
        if not data:
            self.err("connection lost", f"{why}; last bytes {bytes(self.buf[-200:])!r}")
            self.close()
            self.done = True
            return
        self.buf += data
        while self.sock is not None:
            m = RE_FLAGS_RUN.match(self.buf, self.pos) if self.tag else None
            if m:
                self.on_fetch_run(RE_FLAGS_LINE.findall(self.buf, self.pos, m.end()))
                self.pos = m.end()
                continue
            r = next_response(self.buf, self.pos)
            if r is None:
                break
            end, nxt = r
            line = bytes(self.buf[self.pos:end])
            self.pos = nxt
            if self.tag is None:
                self.on_greeting(line)
            elif line.startswith(self.tag) and line[len(self.tag):len(self.tag) + 1] == b" ":
                self.on_tagged(line)
            else:
                self.on_untagged(line)
        if self.sock is not None and self.pos:
            del self.buf[:self.pos]
            self.pos = 0

    def finish(self, ok, line):
        t = time.perf_counter()
        self.stats.commands += 1
        if self.run["t0"] <= t <= self.run["t1"]:
            self.stats.lat[self.op].append(t - self.t0)
        if self.op == "logout":
            self.close()
        self.advance((ok, line))

    def on_greeting(self, line):
        if not line.startswith(b"* OK"):
            self.err("bad greeting", repr(line[:200]))
        self.tag = b""
        self.finish(line.startswith(b"* OK"), line)

    def on_tagged(self, line):
        ok = line.startswith(b"OK", len(self.tag) + 1)
        if not ok:
            self.err("tagged NO/BAD", repr(line[:200]))
        self.finish(ok, line)

    def on_untagged(self, line):
        m = RE_NUMBERED.match(line)
        if m:
            n, kind = int(m.group(1)), m.group(2)
            if kind == b"FETCH":
                self.on_fetch(n, line)
            elif kind == b"EXISTS":
                if n < len(self.uids):
                    self.err("EXISTS decreased", f"{n} < {len(self.uids)}")
                else:
                    self.uids.extend([None] * (n - len(self.uids)))
            elif kind == b"EXPUNGE":
                if not 1 <= n <= len(self.uids):
                    self.err("EXPUNGE of an unknown number", f"{n} of {len(self.uids)}")
                else:
                    self.expunged.append(self.uids.pop(n - 1))
            return
        if line.startswith(b"* FLAGS ("):
            self.allowed = SYSTEM_FLAGS | frozenset(
                f.lower() for f in line[9:line.rindex(b")")].split())
        elif line.startswith(b"* BYE") and self.op != "logout":
            self.err("unexpected BYE", repr(line[:200]))
        elif line.startswith(b"+"):
            self.err("unexpected continuation", repr(line[:200]))
        elif not line.startswith(b"* "):
            self.err("unparsable line", repr(line[:200]))
        self.untagged.append(line)

    def on_fetch(self, n, line):
        if n > len(self.uids) or n < 1:
            self.err("FETCH of an unannounced number", f"{n} of {len(self.uids)}")
            return
        uid = self.uids[n - 1]
        m = RE_UID.search(line)
        if m:
            have, uid = uid, int(m.group(1))
            if have is None:
                self.uids[n - 1] = uid
            elif have != uid:
                self.err("FETCH UID differs from the MSN map", f"msn {n}: uid {uid}, map {have}")
        flags = None
        m = RE_FLAGS.search(line)
        if m:
            flags = m.group(1)
            for f in flags.split():
                if f.lower() not in self.allowed:
                    self.err("FETCH FLAGS not announced by FLAGS", f"{f!r} in {line[:200]!r}")
        self.fetched.append((n, uid, flags, line))

    def on_fetch_run(self, rows):
        """on_fetch() for many `* N FETCH (UID u FLAGS (...))` lines at once:
        rows [(N, u, flags)] as bytes."""
        uids, n, fetched = self.uids, len(self.uids), self.fetched
        for msn, uid, flags in rows:
            msn, uid = int(msn), int(uid)
            if not 1 <= msn <= n:
                self.err("FETCH of an unannounced number", f"{msn} of {n}")
                continue
            have = uids[msn - 1]
            if have is None:
                uids[msn - 1] = uid
            elif have != uid:
                self.err("FETCH UID differs from the MSN map", f"msn {msn}: uid {uid}, map {have}")
            fetched.append((msn, uid, flags, b""))
        if frozenset(b" ".join(r[2] for r in rows).lower().split()) <= self.allowed:
            return
        for msn, uid, flags in rows:
            for f in flags.split():
                if f.lower() not in self.allowed:
                    self.err("FETCH FLAGS not announced by FLAGS", f"{f!r} in uid {uid.decode()}")

    # -- the workload ----------------------------------------------------

    def program(self):
        cfg, run = self.cfg, self.run
        mbox = quote(cfg["mailbox"])
        per_cycle = run["login_per_cycle"]
        window = run["window"]
        login = b"LOGIN %s %s" % (quote(cfg["user"]), quote(cfg["password"]))
        cycle = 0
        if not per_cycle:
            yield "connect", None
            ok, _ = yield "login", login
            if not ok:
                return
        yield "wait", None
        while time.perf_counter() < run["t1"] and time.perf_counter() < run["hard"]:
            if per_cycle:
                yield "connect", None
                ok, _ = yield "login", login
                if not ok:
                    return
            ok, _ = yield "select", b"SELECT " + mbox
            if not ok:
                return
            self.check_exists()
            before = len(self.uids)
            yield "fetch_flags", b"UID FETCH 1:* (FLAGS)"
            self.check_map(before)
            # The window moves over the pre-filled messages only: they keep
            # their numbers, while the tail holds other clients' APPENDs,
            # which they expunge at any moment.
            n = min(len(self.uids), cfg["base_count"])
            lo = 1 + (cycle * window) % max(1, n - window)
            hi = min(n, lo + window - 1)
            yield "fetch_window", b"FETCH %d:%d " % (lo, hi) + FETCH_WINDOW_ITEMS
            got = {f[0] for f in self.fetched if b"BODYSTRUCTURE" in f[3]}
            if got != set(range(lo, hi + 1)):
                self.err("FETCH window: wrong messages", f"{lo}:{hi} got {sorted(got)[:10]}")
            target = self.uids[lo - 1 + cycle % (hi - lo + 1)]
            kw = b"$Label%d" % (cycle % 5 + 1)
            if target is not None:
                yield "store_add", b"UID STORE %d +FLAGS (\\Flagged %s)" % (target, kw)
                self.check_store(target, (b"\\Flagged", kw), True)
                yield "store_remove", b"UID STORE %d -FLAGS (\\Flagged %s)" % (target, kw)
                self.check_store(target, (b"\\Flagged", kw), False)
            else:
                self.err("window message without UID", f"msn {lo}")
            msg = b"X-Bench-Id: %s.%d.%d\r\n" % (run["run_id"].encode(), self.cid, cycle) \
                + self.pool[(self.cid + cycle) % len(self.pool)]
            ok, line = yield "append", b"APPEND %s (\\Seen) {%d+}\r\n%s" % (mbox, len(msg), msg)
            m = RE_APPENDUID.search(line)
            if ok and m:
                own = int(m.group(1))
                yield "store_deleted", b"UID STORE %d +FLAGS (\\Deleted)" % own
                if not any(f[1] == own for f in self.fetched):
                    self.err("STORE: no FETCH for the appended message", f"uid {own}")
                yield "expunge", b"UID EXPUNGE %d" % own
                if own in self.uids or own not in self.expunged:
                    self.err("UID EXPUNGE: own message not expunged",
                             f"uid {own}, expunged {self.expunged[:5]}")
            elif ok:
                self.err("APPEND without APPENDUID", repr(line[:200]))
            yield "list", b'LIST "" "*"'
            names = {m.group(1) for m in map(RE_LIST_NAME.match, self.untagged) if m}
            missing = [x for x in cfg["list_expect"] if x.encode() not in names]
            if missing:
                self.err("LIST: mailbox missing", f"{missing} not in {sorted(names)[:10]}")
            yield "status", b"STATUS %s (MESSAGES UIDNEXT UNSEEN)" % quote(cfg["status_mailbox"])
            st = [RE_MESSAGES.search(x) for x in self.untagged if x.startswith(b"* STATUS ")]
            if len(st) != 1 or not st[0] or int(st[0].group(1)) != cfg["status_count"]:
                self.err("STATUS: wrong answer", repr(self.untagged[:2]))
            if per_cycle:
                yield "logout", b"LOGOUT"
            cycle += 1
            self.stats.cycles += 1
        if not per_cycle:
            yield "logout", b"LOGOUT"

    def check_exists(self):
        n, base = len(self.uids), self.cfg["base_count"]
        # Alone in the mailbox, the client finds it as it left it; in a shared
        # one, other clients' APPENDs may be there, not yet expunged.
        top = base if self.cfg["exclusive"] else base + self.run["clients"]
        if not base <= n <= top:
            self.err("SELECT: unexpected EXISTS", f"{n}, expected {base}..{top}")

    def check_map(self, before):
        """After UID FETCH 1:*: UIDs ascend with the message numbers, and,
        alone in the mailbox, every message announced before it has its UID.
        (In a shared mailbox a message another client expunged meanwhile may
        be left out of a UID FETCH before its EXPUNGE is announced: RFC 2180
        §4.1.)"""
        gone = len(self.expunged)
        if self.cfg["exclusive"] and (len(self.fetched) < before - gone
                                      or None in self.uids[:before - gone]):
            self.err("UID FETCH 1:*: messages missing", f"{len(self.fetched)} of {before}")
        known = [u for u in self.uids if u is not None]
        if not all(map(operator.lt, known, known[1:])):
            self.err("MSN map: UIDs not ascending", "")

    def check_store(self, uid, flags, added):
        """Alone in the mailbox, a STORE always changes the flags and must
        answer with them. In a shared one another client may have made the
        same change just before, and RFC 3501 §6.4.6 only says a STORE
        "normally" answers with FETCH (Dovecot does not when nothing
        changed), or may change the message again in between: no check."""
        if not self.cfg["exclusive"]:
            return
        mine = [f for f in self.fetched if f[1] == uid]
        if not mine or mine[-1][2] is None:
            self.err("STORE: no FETCH FLAGS for the message",
                     f"uid {uid}; got {[f[:3] for f in self.fetched][:3]}")
            return
        have = {f.lower() for f in mine[-1][2].split()}
        if any((f.lower() in have) != added for f in flags):
            self.err("STORE: flags not applied", f"uid {uid}: {mine[-1][2][:200]!r}")


def worker_main():
    """One worker: config on stdin (one JSON line), "ready" on stdout once
    every client is logged in, the clock on stdin ("go" JSON line), the
    result (one JSON line) on stdout at the end."""
    conf = json.loads(sys.stdin.readline())
    run = conf["run"]
    run.update(t0=float("inf"), t1=float("inf"), hard=time.perf_counter() + conf["setup_timeout"])
    sel = selectors.DefaultSelector()
    stats = Stats()
    pool = mailgen.corpus(conf["pool_start"], 32)
    clients = [Client(c["cid"], c, run, sel, stats, pool) for c in conf["clients"]]

    def loop(until):
        while not all(c.done or c.parked for c in clients):
            if time.perf_counter() > run["hard"]:
                stats.error("hard time limit", f"{sum(not c.done for c in clients)} clients busy")
                return False
            for key, _ in sel.select(timeout=min(1.0, max(0.0, until - time.perf_counter()))):
                key.data.on_readable()
        return True

    for c in clients:
        c.advance()
    loop(run["hard"])
    print("ready", flush=True)
    go = json.loads(sys.stdin.readline())
    # Wall-clock times from the parent, in this process's perf_counter.
    off = time.perf_counter() - time.time()
    run.update(t0=go["t0"] + off, t1=go["t1"] + off, hard=go["hard"] + off)
    start = go["t_start"] + off
    time.sleep(max(0.0, start - time.perf_counter()))
    for c in clients:
        if c.parked:
            c.parked = False
            c.advance()
    loop(run["hard"])
    for c in clients:
        c.close()
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"lat": stats.lat, "commands": stats.commands, "cycles": stats.cycles,
                      "errors": stats.errors, "samples": stats.samples,
                      "cpu": r.ru_utime + r.ru_stime}), flush=True)


# --------------------------------------------------------------------------
# The parent side


def run_load(host, port, clients, procs, login_per_cycle, window, warmup, seconds,
             run_id, on_window=None, setup_timeout=120, grace=60):
    """Runs the workload: `clients` is a list of dicts (user, password,
    mailbox, exclusive, base_count, status_mailbox, status_count,
    list_expect), spread over `procs` worker processes. Measures for
    `seconds` after `warmup`; `on_window(phase, worker pids)` is called with
    "start" and "stop" at the edges of the measured window (CPU meters). Returns the
    merged result: lat {op: [s]}, commands, cycles, errors, samples, cpu
    (the workers' CPU seconds), seconds."""
    run = {"host": host, "port": port, "login_per_cycle": login_per_cycle, "window": window,
           "clients": len(clients), "run_id": run_id}
    groups = [clients[i::procs] for i in range(procs)]
    workers = []
    try:
        for i, g in enumerate(groups):
            if not g:
                continue
            w = subprocess.Popen([sys.executable, os.path.abspath(__file__), "worker"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            w.stdin.write(json.dumps({"run": run, "clients": g, "setup_timeout": setup_timeout,
                                      "pool_start": 100000 + 1000 * i}) + "\n")
            w.stdin.flush()
            workers.append(w)
        for w in workers:
            if w.stdout.readline().strip() != "ready":
                raise RuntimeError("a load worker failed during setup")
        now = time.time()
        go = {"t_start": now + 0.2, "t0": now + 0.2 + warmup, "t1": now + 0.2 + warmup + seconds,
              "hard": now + 0.2 + warmup + seconds + grace}
        for w in workers:
            w.stdin.write(json.dumps(go) + "\n")
            w.stdin.flush()
        if on_window:
            time.sleep(max(0.0, go["t0"] - time.time()))
            on_window("start", [w.pid for w in workers])
            time.sleep(max(0.0, go["t1"] - time.time()))
            on_window("stop", [w.pid for w in workers])
        results = [json.loads(w.stdout.readline() or "null") for w in workers]
        for w in workers:
            w.wait(timeout=30)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    if None in results:
        raise RuntimeError("a load worker died without a result")
    out = {"lat": {op: [] for op in OPS}, "commands": 0, "cycles": 0, "errors": {},
           "samples": {}, "cpu": 0.0, "seconds": seconds}
    for r in results:
        for op, v in r["lat"].items():
            out["lat"][op].extend(v)
        for k in ("commands", "cycles", "cpu"):
            out[k] += r[k]
        for k, v in r["errors"].items():
            out["errors"][k] = out["errors"].get(k, 0) + v
            out["samples"].setdefault(k, []).extend(r["samples"][k])
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        worker_main()
    else:
        sys.exit(__doc__)
