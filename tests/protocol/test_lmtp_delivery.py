"""LMTP delivery into many mailboxes (issue 12, items 3 and 4;
docs/delivery.md, "One stored copy", "Duplicate suppression", "Workers"):
one content row and one transaction per delivery however many recipients,
no deadlock between concurrent deliveries with overlapping recipients,
LMTP's own share of the workers, and MTA retries acknowledged without a
second copy. What a client sees is checked over IMAP; the rows beside it
with psql."""

import hashlib
import random
import socket
import subprocess
import threading
import time

import kairan_env as ke
from imapclient import login, ok
from test_lmtp import Raw, body, codes, messages, rp, send_raw

SENDER = "s@example.net"


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Session:
    """An LMTP session whose reads may time out and be tried again (a
    socket file object cannot be read after a timeout)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        assert self.reply().startswith(b"220")
        self.send(b"LHLO test\r\n")
        self.reply()

    def send(self, data):
        self.s.sendall(data)

    def reply(self, timeout=60):
        """The last line of the next reply; socket.timeout when none came
        within timeout s (what arrived stays buffered)."""
        self.s.settimeout(timeout)
        while True:
            lines = self.buf.split(b"\r\n")
            for n, line in enumerate(lines[:-1]):
                if line[3:4] == b" ":
                    self.buf = b"\r\n".join(lines[n + 1:])
                    return line
            chunk = self.s.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk

    def transaction(self, rcpts, data):
        """MAIL, RCPTs, DATA; the replies after the dot."""
        self.send(f"MAIL FROM:<{SENDER}>\r\n".encode())
        assert self.reply().startswith(b"250")
        for a in rcpts:
            self.send(f"RCPT TO:<{a}>\r\n".encode())
            assert self.reply().startswith(b"250"), a
        self.send(b"DATA\r\n")
        assert self.reply().startswith(b"354")
        self.send(data + b".\r\n")
        return [self.reply() for _ in rcpts]

    def close(self):
        self.s.close()


# --- item 3: one stored copy ------------------------------------------------

def test_many_recipients_one_content_row_one_transaction(env):
    """Ten recipients: one messages row, ten mailbox entries, all written
    by one transaction (the same xmin). (The content row's own xmin moves
    when the search indexer marks it, so it is not compared.)"""
    users = [env.new_user("one") for _ in range(10)]
    msg = body(f"single-{time.time()}")
    rc, out = send_raw(env, SENDER, [f"{u}@example.org" for u in users], msg + b".\r\n")
    assert codes(out) == ["250 2.1.5"] * 10
    for u in users:
        assert messages(env, u) == [rp(SENDER) + msg]
    h = sha(rp(SENDER) + msg)
    rows = env.pg.psql(
        f"SELECT (SELECT count(*) FROM messages WHERE sha256 = '\\x{h}'), count(*) OVER (), mm.xmin::text FROM messages m "
        f"JOIN mailbox_messages mm ON mm.message_id = m.id "
        f"WHERE m.sha256 = '\\x{h}'").split()
    assert len(rows) == 10
    assert {r.split("|")[0] for r in rows} == {"1"}
    assert {r.split("|")[1] for r in rows} == {"10"}
    assert len({r.split("|")[2] for r in rows}) == 1, rows


def test_concurrent_overlapping_recipients_no_deadlock(env):
    """8 connections deliver at once to overlapping recipient sets, each in
    its own order: never a 4xx (a deadlock would be one), and every message
    is in each of its recipients' INBOX exactly once."""
    users = [env.new_user("ovl") for _ in range(6)]
    per_conn = 12
    sent = {u: [] for u in users}
    errors = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(n):
        rnd = random.Random(n)
        try:
            s = Session(env.lmtp_port)
            start.wait()
            for i in range(per_conn):
                rcpts = rnd.sample(users, 4)
                msg = body(f"ovl-{n}-{i}-{time.time()}")
                replies = s.transaction([f"{u}@example.org" for u in rcpts], msg)
                if codes(replies) != ["250 2.1.5"] * 4:
                    errors.append(replies)
                with lock:
                    for u in rcpts:
                        sent[u].append(rp(SENDER) + msg)
            s.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    for u in users:
        got = messages(env, u)
        assert sorted(got) == sorted(sent[u]), u


class RowLock:
    """Holds a lock on a user's INBOX row in its own psql session, as a
    long transaction would: deliveries to that INBOX wait on it."""

    def __init__(self, env, user):
        self.p = subprocess.Popen(
            [f"{ke.PG_BIN}/psql", "-X", "-q", "-A", "-t", "-h", env.pg.sockdir, "-p",
             str(env.pg.port), "-U", ke.DB_USER, "-d", ke.DB_NAME],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.p.stdin.write(
            "BEGIN; SELECT 'locked' FROM mailboxes b JOIN accounts a ON a.id = b.owner_id "
            f"WHERE a.login = '{user}' AND b.name = 'INBOX' FOR UPDATE;\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline().strip() == "locked"

    def release(self):
        self.p.stdin.write("ROLLBACK;\n")
        self.p.stdin.close()
        self.p.wait(30)


def imap_round_trip(port, user):
    """Seconds for LOGIN, SELECT INBOX and NOOP on a fresh connection."""
    t = time.monotonic()
    c = login(port, user)
    ok(c, "SELECT INBOX")
    ok(c, "NOOP")
    c.close()
    return time.monotonic() - t


def blocked_deliveries(k, target, n):
    """n LMTP connections, each sending one delivery to target (whose INBOX
    row is locked): those that get a worker of LMTP's share wait in it for
    the lock; the others' RCPT waits for the share. Returns, per
    connection, (session, replies still to read before DATA's bytes, the
    bytes not sent yet)."""
    out = []
    for i in range(n):
        s = Session(k.lmtp_port)
        data = body(f"blocked-{i}-{time.time()}") + b".\r\n"
        s.send(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{target}@example.org>\r\nDATA\r\n".encode())
        left = 3
        try:
            while left > 0:
                s.reply(timeout=0.5)
                left -= 1
            s.send(data)
            data = b""
        except (socket.timeout, TimeoutError):
            pass
        out.append((s, left, data))
    return out


def finish_deliveries(conns):
    """Once the lock is gone: every delivery of blocked_deliveries is 250."""
    for s, left, data in conns:
        for _ in range(left):
            s.reply()
        if data:
            s.send(data)
        assert s.reply().startswith(b"250 2.1.5")
        s.close()


def start_with_lmtp(env, **kw):
    k = env.start_kairand(**kw)
    k.lmtp_port = ke.split_hostport(k.config["lmtp_listen"])[1]
    return k


def test_lmtp_share_leaves_imap_workers(env):
    """Docs/config.md, lmtp_workers: with 4 workers and LMTP's default
    share (3), 8 deliveries stuck on a locked mailbox hold 3 workers at
    most; IMAP is served meanwhile by the fourth, and the deliveries
    complete once the lock goes."""
    k = start_with_lmtp(env, workers="4")
    target, reader = env.new_user("stuck"), env.new_user("reader")
    imap_round_trip(k.imap_port, target)   # provisions the INBOX
    imap_round_trip(k.imap_port, reader)
    lock = RowLock(env, target)
    try:
        conns = blocked_deliveries(k, target, 8)
        time.sleep(0.5)
        for _ in range(3):
            assert imap_round_trip(k.imap_port, reader) < 2.0
    finally:
        lock.release()
    finish_deliveries(conns)
    assert len(messages_at(k, target)) == 8
    k.stop()


def test_lmtp_share_of_all_workers_starves_imap(env):
    """The control of the test above: when LMTP may take every worker
    (lmtp_workers = workers), the same stuck deliveries leave IMAP
    waiting, so the test above does measure the share."""
    k = start_with_lmtp(env, workers="2", lmtp_workers="2")
    target, reader = env.new_user("stuck"), env.new_user("reader")
    imap_round_trip(k.imap_port, target)
    c = login(k.imap_port, reader)
    lock = RowLock(env, target)
    try:
        conns = blocked_deliveries(k, target, 4)
        time.sleep(0.5)
        c.timeout = 1.5
        try:
            ok(c, "SELECT INBOX")
            starved = False
        except (socket.timeout, TimeoutError):
            starved = True
        assert starved
    finally:
        lock.release()
    finish_deliveries(conns)
    k.stop()


def messages_at(k, user):
    class E:
        imap_port = k.imap_port
    return messages(E, user)


def test_lmtp_workers_beyond_workers_refused(env):
    status, err = env.kairand_must_fail(workers="2", lmtp_workers="3")
    assert status not in (None, 0)
    assert "lmtp_workers" in err


# --- item 4: duplicate suppression -----------------------------------------

def test_resend_acknowledged_not_stored_twice(env):
    user = env.new_user("dup")
    msg = body(f"dup-{time.time()}")
    for _ in range(2):
        rc, out = send_raw(env, SENDER, [f"{user}@example.org"], msg + b".\r\n")
        assert codes(out) == ["250 2.1.5"]
    assert messages(env, user) == [rp(SENDER) + msg]


def test_list_copies_differing_bytes_both_kept(env):
    """One Message-ID, different bytes (another Received: line, as two
    list copies have): two messages."""
    user = env.new_user("dup")
    msg = body(f"list-{time.time()}")
    first = b"Received: from a.example.net\r\n" + msg
    second = b"Received: from b.example.net\r\n" + msg
    for m in (first, second):
        rc, out = send_raw(env, SENDER, [f"{user}@example.org"], m + b".\r\n")
        assert codes(out) == ["250 2.1.5"]
    assert messages(env, user) == [rp(SENDER) + first, rp(SENDER) + second]


def test_duplicate_is_per_mailbox(env):
    """A retry that adds a recipient: the new one gets the message, the
    old one keeps one copy; both are acknowledged."""
    u1, u2 = env.new_user("dup"), env.new_user("dup")
    msg = body(f"per-{time.time()}")
    send_raw(env, SENDER, [f"{u1}@example.org"], msg + b".\r\n")
    rc, out = send_raw(env, SENDER, [f"{u1}@example.org", f"{u2}@example.org"], msg + b".\r\n")
    assert codes(out) == ["250 2.1.5", "250 2.1.5"]
    assert messages(env, u1) == [rp(SENDER) + msg]
    assert messages(env, u2) == [rp(SENDER) + msg]


def test_retry_after_connection_dropped_before_reply(env):
    """The MTA's view of a lost reply: the connection drops after the final
    dot, before the reply was read; the delivery committed all the same.
    The MTA sends again: 250, and still one copy."""
    user = env.new_user("drop")
    msg = body(f"drop-{time.time()}")
    r = Raw(env)
    r.send(f"LHLO t\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<{user}@example.org>\r\nDATA\r\n".encode())
    r.replies(4)
    r.send(msg + b".\r\n")
    r.s.shutdown(socket.SHUT_RDWR)
    r.close()
    deadline = time.monotonic() + 10
    while not messages(env, user) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert messages(env, user) == [rp(SENDER) + msg]
    rc, out = send_raw(env, SENDER, [f"{user}@example.org"], msg + b".\r\n")
    assert codes(out) == ["250 2.1.5"]
    assert messages(env, user) == [rp(SENDER) + msg]


def test_expunged_then_resent_within_window_not_stored(env):
    """The record outlives the copy: a retry after the user deleted the
    first copy is still a duplicate (within the window)."""
    user = env.new_user("exp")
    msg = body(f"exp-{time.time()}")
    send_raw(env, SENDER, [f"{user}@example.org"], msg + b".\r\n")
    c = login(env.imap_port, user)
    ok(c, "SELECT INBOX")
    ok(c, "STORE 1 +FLAGS (\\Deleted)")
    ok(c, "EXPUNGE")
    c.close()
    rc, out = send_raw(env, SENDER, [f"{user}@example.org"], msg + b".\r\n")
    assert codes(out) == ["250 2.1.5"]
    assert messages(env, user) == []


def test_window_zero_stores_every_copy(env):
    k = start_with_lmtp(env, lmtp_duplicate_window="0")
    user = env.new_user("off")
    msg = body(f"off-{time.time()}")
    for _ in range(2):
        s = Session(k.lmtp_port)
        assert codes(s.transaction([f"{user}@example.org"], msg)) == ["250 2.1.5"]
        s.close()
    assert messages_at(k, user) == [rp(SENDER) + msg] * 2
    k.stop()


def test_window_elapsed_stores_again_and_gc_prunes(env):
    """After the window the same bytes are a new delivery; kairanctl gc
    removes the records older than the window."""
    k = start_with_lmtp(env, lmtp_duplicate_window="2")
    user = env.new_user("win")
    msg = body(f"win-{time.time()}")

    def deliver():
        s = Session(k.lmtp_port)
        assert codes(s.transaction([f"{user}@example.org"], msg)) == ["250 2.1.5"]
        s.close()

    deliver()
    deliver()
    assert len(messages_at(k, user)) == 1
    time.sleep(2.5)
    deliver()
    assert messages_at(k, user) == [rp(SENDER) + msg] * 2
    count = ("SELECT count(*) FROM delivery_duplicates d JOIN mailboxes b ON b.id = d.mailbox_id "
             f"JOIN accounts a ON a.id = b.owner_id WHERE a.login = '{user}'")
    assert env.pg.psql(count).strip() == "1"
    time.sleep(2.5)
    out = k.ctl("gc").stdout
    assert "delivery duplicate record" in out
    assert env.pg.psql(count).strip() == "0"
    k.stop()
