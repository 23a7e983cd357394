"""Slow and greedy clients (issue 14, item 9; docs/config.md, "Slow and
greedy clients"): deadlines that count progress, not activity, so a client
trickling a byte a second is ended before login (timeout_login), in a
command's line (timeout_command) and in a literal's data (timeout_literal),
while a literal that keeps moving may take longer than a command; new
connections per address per second are limited (max_connection_rate_per_ip),
by the client's address also behind a PROXY balancer; and 1,000 trickling
connections are dropped on time holding at most 64 KiB each. The timeouts
are shortened to seconds through the test server's config."""

import asyncio
import socket
import time

import pytest

from imapclient import connect, login
from test_big_append import sanitized
from test_metrics import scrape, value
from test_proxy import connect as proxy_connect, v2_header
import kairan_env as ke
from idle_load import raise_nofile, vm_rss

SLOW = dict(timeout_login="2", timeout_command="2", timeout_literal="2", timeout_preauth="60",
            max_connection_rate_per_ip="0")
# A deadline is checked once a second; scheduling on a busy machine adds more.
SLACK = 2.5


@pytest.fixture(scope="module")
def slow(env):
    port = ke.free_port()
    k = env.start_kairand(metrics_listen=f"127.0.0.1:{port}", **SLOW)
    k.metrics_port = port
    yield k
    k.stop()


def trickle_until_bye(c, data, interval=0.3, limit=10.0):
    """Sends data one byte every `interval` s until the server says BYE;
    returns (seconds from the call, the BYE line)."""
    t0 = time.monotonic()
    c.sock.settimeout(interval)
    for i in range(int(limit / interval)):
        try:
            c.sock.sendall(data[i % len(data):i % len(data) + 1])
        except OSError:
            pass
        try:
            line = c.readline(interval)
        except (TimeoutError, socket.timeout):
            continue
        if line.startswith(b"* BYE"):
            return time.monotonic() - t0, line
        assert line == b"", line
    raise AssertionError(f"no BYE within {limit} s")


def test_timeout_login_counts_from_the_connection_however_busy(slow):
    c = connect(slow.imap_port)
    try:
        took, bye = trickle_until_bye(c, b"a CAPABILITY")
        assert bye.startswith(b"* BYE Autologout; no login in time"), bye
        assert 2 - 0.3 <= took <= 2 + SLACK, took
        assert c.readline(5) == b""          # closed
    finally:
        c.close()


def test_timeout_command_ends_a_trickled_line(env, slow):
    c = login(slow.imap_port, env.new_user("slow"))
    try:
        took, bye = trickle_until_bye(c, b"b NOOP xxxxxxxxxxxxxxxxxx")
        assert bye.startswith(b"* BYE Autologout; the command took too long"), bye
        assert 2 - 0.3 <= took <= 2 + SLACK, took
    finally:
        c.close()


def test_timeout_literal_ends_a_trickled_literal(env, slow):
    c = login(slow.imap_port, env.new_user("slow"))
    try:
        c.send("c APPEND INBOX {60000}\r\n")
        assert c.read_response().startswith(b"+")
        c.sock.sendall(b"Subject: slow\r\n\r\n")
        took, bye = trickle_until_bye(c, b"x")
        assert bye.startswith(b"* BYE Autologout; the literal's data stalled"), bye
        assert 2 - 0.3 <= took <= 2 + SLACK, took
    finally:
        c.close()


def test_a_literal_that_keeps_moving_may_outlast_timeout_command(env, slow):
    """80 KiB in 8 KiB pieces every 0.5 s: 5 s, more than timeout_command
    (2 s), yet each 8 KiB arrives within timeout_literal: stored."""
    c = login(slow.imap_port, env.new_user("slow"))
    try:
        body = b"Subject: steady\r\n\r\n" + b"y" * (80 * 1024 - 19)
        c.send(f"d APPEND INBOX {{{len(body)}}}\r\n")
        assert c.read_response().startswith(b"+")
        for i in range(0, len(body), 8192):
            c.sock.sendall(body[i:i + 8192])
            time.sleep(0.5)
        c.sock.sendall(b"\r\n")
        tagged, _ = c.read_tagged("d")
        assert tagged.startswith(b"d OK"), tagged
    finally:
        c.close()


def test_slow_timeouts_are_counted_in_the_metrics(slow):
    samples = scrape(slow.metrics_port)
    for kind in ("login", "command", "literal"):
        assert value(samples, "kairan_slow_client_timeouts_total", timeout=kind) >= 0


def settle_rate_window(port):
    """The harness's probe connection counts in 127.0.0.1's window, from
    whenever kairand's loop accepted it: wait until that window is over."""
    connect(port).close()
    time.sleep(1.1)


def test_max_connection_rate_per_ip_refuses_with_bye_limit(env):
    port = ke.free_port()
    k = env.start_kairand(max_connection_rate_per_ip="5", metrics_listen=f"127.0.0.1:{port}")
    try:
        settle_rate_window(k.imap_port)
        conns = [connect(k.imap_port) for _ in range(8)]
        greetings = [c.greeting for c in conns]
        refused = [g for g in greetings if g.startswith(b"* BYE [LIMIT]")]
        # One second's window: 5 greeted, 3 refused.
        assert len(refused) == 3, greetings
        assert all(g.startswith(b"* OK") for g in greetings[:5]), greetings
        for c in conns:
            if c.greeting.startswith(b"* BYE"):
                assert c.readline(5) == b""
            c.close()
        assert value(scrape(port), "kairan_connections_rate_limited_total") == len(refused)
        time.sleep(1.1)
        later = connect(k.imap_port)
        assert later.greeting.startswith(b"* OK"), later.greeting
        later.close()
    finally:
        k.stop()


def test_rate_limit_counts_the_proxied_client_not_the_balancer(env):
    """Behind a balancer every connection comes from its address; the limit
    counts the PROXY header's client address."""
    port = ke.free_port()
    k = env.start_kairand(imap_proxy_listen=f"127.0.0.1:{port}", trust_loopback="yes",
                          max_connection_rate_per_ip="2")
    try:
        settle_rate_window(k.imap_port)
        conns = [proxy_connect(port, v2_header("192.0.2.70", sport=3000 + i)) for i in range(3)]
        other = proxy_connect(port, v2_header("192.0.2.71"))
        assert [c.greeting[:13] for c in conns[:2]] == [b"* OK [CAPABIL"] * 2, conns[0].greeting
        assert conns[2].greeting.startswith(b"* BYE [LIMIT]"), conns[2].greeting
        assert other.greeting.startswith(b"* OK"), other.greeting
        for c in conns + [other]:
            c.close()
    finally:
        k.stop()


def test_1000_trickling_connections_are_dropped_on_time_and_hold_64k_each(env):
    """600 connections trickle a command before login, 200 logged-in ones
    trickle a command line and 200 a literal's data, one byte a second
    each. With the three timeouts at 3 s, every one gets its BYE and is
    closed within its deadline plus the slack, and kairand's VmRSS grows by
    at most 64 KiB a connection meanwhile."""
    n_pre, n_cmd, n_lit, timeout = 600, 200, 200, 3
    total = n_pre + n_cmd + n_lit
    if not raise_nofile(total + 500):
        pytest.skip("RLIMIT_NOFILE's hard limit is too low")
    k = env.start_kairand(timeout_login=str(timeout), timeout_command=str(timeout),
                          timeout_literal=str(timeout), timeout_preauth="60",
                          max_connection_rate_per_ip="0", max_connections_per_ip="5000",
                          max_connections_per_user="5000")
    users = [env.new_user("trickle") for _ in range(4)]
    login(k.imap_port, users[0]).close()
    time.sleep(1)
    before = vm_rss(k.pid)
    peak = [before]

    async def trickler(i, sem):
        async with sem:     # connects and logins a few hundred at a time
            r, w = await asyncio.open_connection("127.0.0.1", k.imap_port)
            await r.readline()
            if i < n_pre:
                kind, start, data = "login", time.monotonic() - 0.05, b"a LOGIN someone secret"
            else:
                w.write(f"a LOGIN {users[i % 4]} secret\r\n".encode())
                while not (await r.readline()).startswith(b"a "):
                    pass
                if i < n_pre + n_cmd:
                    kind, data = "command", b"b NOOP " + b"z" * 100
                else:
                    w.write(b"c APPEND INBOX {100000}\r\n")
                    assert (await r.readline()).startswith(b"+")
                    kind, data = "literal", b"Subject: x\r\n\r\n" + b"z" * 100
                start = time.monotonic()
        for pos in range(len(data)):
            w.write(data[pos:pos + 1])
            try:
                line = await asyncio.wait_for(r.readline(), 1.0)
            except asyncio.TimeoutError:
                continue
            if line.startswith(b"* BYE"):
                took = time.monotonic() - start
                eof = await asyncio.wait_for(r.read(), 5)
                w.close()
                return kind, took, line, eof
            raise AssertionError(f"{kind}: unexpected {line!r}")
        raise AssertionError(f"{kind}: no BYE")

    async def sample():
        while True:
            peak[0] = max(peak[0], vm_rss(k.pid))
            await asyncio.sleep(0.25)

    async def run():
        sampler = asyncio.ensure_future(sample())
        sem = asyncio.Semaphore(200)
        results = await asyncio.gather(*(asyncio.wait_for(trickler(i, sem), 40)
                                         for i in range(total)))
        sampler.cancel()
        return results

    t0 = time.monotonic()
    results = asyncio.run(run())
    wall = time.monotonic() - t0
    by_kind = {}
    for kind, took, line, eof in results:
        by_kind.setdefault(kind, []).append(took)
        assert eof == b"", (kind, eof[:100])
        assert line.startswith(b"* BYE Autologout"), line
    growth = peak[0] - before
    print(f"\n{total} tricklers: all dropped in {wall:.1f} s; kairand VmRSS peak +"
          f"{growth / total / 1024:.1f} KiB a connection; latest BYE after "
          + ", ".join(f"{k} {max(v):.1f} s" for k, v in by_kind.items()))
    assert sorted(len(v) for v in by_kind.values()) == sorted([n_pre, n_cmd, n_lit])
    for kind, took in by_kind.items():
        assert min(took) >= timeout - 0.5, (kind, min(took))
        assert max(took) <= timeout + SLACK + 1, (kind, max(took))
    assert sanitized(env) or growth <= total * 64 * 1024, growth
    k.stop()
