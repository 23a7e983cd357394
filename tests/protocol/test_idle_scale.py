"""What idling sessions cost (issue 11, "what I will check": 2,000 IDLE
sessions grow kairand's RSS by at most 60 MB; docs/architecture.md,
"Memory per session"). The full-size figures (10,000 sessions, TLS, a
100,000-message shared mailbox) come from `make bench-idle`."""

import asyncio
import time

import pytest

from imapclient import login, ok
from test_big_append import sanitized

from idle_load import open_many, raise_nofile, vm_rss   # tests/harness/

SESSIONS = 2000
USERS = 10


def test_rfc2177_2000_idle_sessions_grow_rss_by_at_most_60mb(env):
    """2,000 sessions (10 users, INBOX with 3 messages each) LOGIN, SELECT
    and IDLE on a fresh kairand; its VmRSS, read after one warm-up session
    per user and again once they all idle, grows by at most 60 MB (30 KB a
    session). An APPEND then reaches every idler of its mailbox."""
    if not raise_nofile(SESSIONS + 1000):
        pytest.skip("RLIMIT_NOFILE's hard limit is too low")
    k = env.start_kairand(max_connections_per_ip=str(SESSIONS + 100),
                          max_connections_per_user=str(SESSIONS + 100))
    users = [env.new_user("scale") for _ in range(USERS)]
    for u in users:
        c = login(k.imap_port, u)
        for i in range(3):
            raw = f"Subject: note {i}\r\n\r\nhello\r\n"
            tagged, _ = c.cmd("ap", f"APPEND INBOX {{{len(raw)}+}}\r\n{raw}")
            assert tagged.startswith(b"ap OK"), tagged
        ok(c, "SELECT INBOX")
        c.close()
    time.sleep(1)
    before = vm_rss(k.pid)
    t0 = time.monotonic()

    async def run():
        idlers = await open_many(SESSIONS, k.imap_port, None,
                                 lambda i: (users[i % USERS], "secret", "INBOX"), 200)
        setup = time.monotonic() - t0
        # The loop's once-a-second pass releases quiet sessions' buffers
        # and trims the heap at most every 5 s (server/client.c).
        await asyncio.sleep(7)
        held = vm_rss(k.pid)
        for s in idlers[:USERS * 20]:
            s.task = asyncio.ensure_future(s.watch())
        writer = login(k.imap_port, users[0])
        raw = "Subject: new\r\n\r\nnew\r\n"
        tagged, _ = writer.cmd("ap", f"APPEND INBOX {{{len(raw)}+}}\r\n{raw}")
        assert tagged.startswith(b"ap OK"), tagged
        writer.close()
        await asyncio.sleep(2)
        woken = [s for i, s in enumerate(idlers[:USERS * 20]) if i % USERS == 0]
        missing = [i for i, s in enumerate(woken) if 4 not in s.exists]
        for s in idlers:
            s.close()
        return setup, held, missing

    setup, held, missing = asyncio.run(run())
    growth = held - before
    print(f"\n{SESSIONS} idling sessions: kairand VmRSS {before >> 20} -> {held >> 20} MiB "
          f"({growth / SESSIONS / 1024:.1f} KiB a session), set up in {setup:.1f} s")
    assert missing == [], f"{len(missing)} idlers never saw the APPEND"
    assert sanitized(env) or growth <= 60 * 1000 * 1000, growth
    k.stop()
