"""kill -9 of kairand during LMTP deliveries (RFC 2033 §4.2: 250 only after
the commit; docs/delivery.md, "Delivery"): several connections deliver in a
loop, kairand is killed in the middle, and after a restart every message
that got 250 is in its mailbox exactly once, found by IMAP SEARCH HEADER
Message-ID (RFC 3501 §6.4.4). A message in flight when kairand died (no
reply seen) may be there or not, but never twice. The restart follows
test_durability.py."""

import os
import signal
import threading
import time

from imapclient import login, ok
from lmtpclient import Raw, kairand_lmtp_port

CONNECTIONS = 4


def deliver_loop(port, n, users, acked, stop):
    """Delivers numbered messages over one connection until kairand dies:
    each to two recipients, half with DATA and half with BDAT. acked gets
    (message id, user) for every 250."""
    try:
        r = Raw(None, port=port, timeout=30)
        r.send(b"LHLO x\r\n")
        r.reply()
        i = 0
        while not stop.is_set():
            i += 1
            mid = f"crash-{n}-{i}@example.net"
            msg = (f"From: a@example.net\r\nSubject: crash {n} {i}\r\nMessage-ID: <{mid}>\r\n"
                   f"\r\nbody {n} {i}\r\n").encode() + b"x" * (i % 7 * 1000) + b"\r\n"
            r.send(b"MAIL FROM:<s@example.net>\r\n"
                   + b"".join(f"RCPT TO:<{u}@example.org>\r\n".encode() for u in users))
            got = r.replies(1 + len(users))
            assert all(g.startswith(b"250") for g in got), got
            if i % 2:
                r.send(b"DATA\r\n")
                assert r.reply()[-1].startswith(b"354")
                r.send(msg + b".\r\n")
            else:
                r.send(b"BDAT %d LAST\r\n" % len(msg) + msg)
            for u in users:
                reply = r.reply()[-1]
                if reply.startswith(b"250 2.1.5"):
                    acked.append((mid, u))
    except (OSError, EOFError):
        pass   # kairand was killed


def search_count(c, mid):
    for line in ok(c, f'SEARCH HEADER Message-ID "<{mid}>"'):
        if line.startswith(b"* SEARCH"):
            return len(line.split()) - 2
    return 0


def test_acknowledged_deliveries_survive_kill_9(env):
    users = [env.new_user("kill") for _ in range(CONNECTIONS + 1)]
    k = env.start_kairand()
    port = kairand_lmtp_port(k)
    acked, stop = [], threading.Event()
    threads = [threading.Thread(target=deliver_loop,
                                args=(port, n, [users[n], users[n + 1]], acked, stop), daemon=True)
               for n in range(CONNECTIONS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(k.pid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(30)
    k.stop()
    assert len(acked) >= 100, len(acked)
    # Restarted on the same database: every acknowledged message once, and
    # no message twice.
    k.start(migrate=False)
    for u in users:
        c = login(k.imap_port, u)
        ok(c, "SELECT INBOX")
        for mid in {m for m, who in acked if who == u}:
            assert search_count(c, mid) == 1, (u, mid)
        ids = []
        for line in ok(c, "FETCH 1:* BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"):
            if b"Message-ID:" in line or b"Message-Id:" in line:
                ids.append(line[line.index(b"<"):line.index(b">") + 1])
        assert len(ids) == len(set(ids)), u
        assert len(ids) >= len({m for m, who in acked if who == u}), u
        c.close()
    k.stop()
