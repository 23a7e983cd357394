"""kairand behind a load balancer (issue 11 item 5; docs/deployment.md,
"Behind a load balancer"): on a PROXY listener the first bytes are a PROXY
protocol v2 header (HAProxy's specification, §2.2), accepted only from
proxy_trusted; the session then sees the client's address from the header
— in the log, in the per-address limits, and in the plaintext-login rules,
which never take a proxied client for loopback."""

import socket
import struct
import time

import pytest

from imapclient import Client, insecure_context, ok

from kairan_env import free_port

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(src, sport=5555, dst="127.0.0.1", dport=143, command=0x21, tlvs=b""):
    """A PROXY v2 header for TCP over IPv4 (or IPv6 when src has ':')."""
    if ":" in src:
        body = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, "::1")
                + struct.pack("!HH", sport, dport) + tlvs)
        family = 0x21
    else:
        body = (socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
                + tlvs)
        family = 0x11
    return SIGNATURE + bytes([command, family]) + struct.pack("!H", len(body)) + body


@pytest.fixture(scope="module")
def proxied(env):
    """A kairand with a PROXY listener (plain and implicit TLS) beside its
    usual ones, trusting loopback, at most 2 connections per address."""
    port, tls_port = free_port(), free_port()
    k = env.start_kairand(imap_proxy_listen=f"127.0.0.1:{port}",
                          imaps_proxy_listen=f"127.0.0.1:{tls_port}",
                          max_connections_per_ip="2", trust_loopback="yes")
    k.proxy_port, k.proxy_tls_port = port, tls_port
    yield k
    k.stop()


def connect(port, header, tls=False):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(header)
    c = Client(sock, 5)
    if tls:
        c.sock = insecure_context().wrap_socket(sock, server_hostname="localhost")
    c.greeting = c.read_response()
    return c


def closed_silently(sock):
    """The server closed without a byte: an orderly close, or a reset when
    our unread bytes were still in its socket."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def log_text(k):
    with open(k.log_path, errors="replace") as f:
        return f.read()


def test_proxied_client_is_known_by_its_own_address(proxied):
    c = connect(proxied.proxy_port, v2_header("203.0.113.7"))
    try:
        assert c.greeting.startswith(b"* OK")
        # Not loopback any more: plaintext login is refused as for any
        # remote client without TLS (trust_loopback does not apply).
        caps = ok(c, "CAPABILITY")[0]
        assert b"LOGINDISABLED" in caps and b"STARTTLS" in caps
        time.sleep(0.1)
        assert "203.0.113.7:5555: connected (imap, through the PROXY listener)" in log_text(proxied)
    finally:
        c.close()


def test_ipv6_client_and_tlvs_after_the_addresses(proxied):
    c = connect(proxied.proxy_port, v2_header("2001:db8::7", tlvs=b"\x04\x00\x01x"))
    try:
        assert c.greeting.startswith(b"* OK")
        time.sleep(0.1)
        assert "[2001:db8::7]:5555: connected" in log_text(proxied)
    finally:
        c.close()


def test_implicit_tls_behind_the_balancer(proxied, env):
    user = env.new_user("prx")
    c = connect(proxied.proxy_tls_port, v2_header("198.51.100.9"), tls=True)
    try:
        assert c.greeting.startswith(b"* OK")
        ok(c, f"LOGIN {user} secret")          # TLS: login allowed for a remote client
    finally:
        c.close()


def test_per_address_limit_counts_the_real_client(proxied):
    """max_connections_per_ip = 2: a third connection from one client is
    refused, while a client at another address still gets in (all come
    from the same balancer)."""
    held = [connect(proxied.proxy_port, v2_header("192.0.2.50", sport=1000 + i)) for i in range(2)]
    try:
        third = connect(proxied.proxy_port, v2_header("192.0.2.50", sport=2000))
        assert third.greeting.startswith(b"* BYE [LIMIT]"), third.greeting
        third.close()
        other = connect(proxied.proxy_port, v2_header("192.0.2.51"))
        assert other.greeting.startswith(b"* OK")
        other.close()
    finally:
        for c in held:
            c.close()


def test_local_command_is_the_balancers_health_check(proxied):
    c = connect(proxied.proxy_port, SIGNATURE + bytes([0x20, 0x00, 0, 0]))
    try:
        assert c.greeting.startswith(b"* OK")
        assert b"LOGINDISABLED" in ok(c, "CAPABILITY")[0]   # still not loopback
    finally:
        c.close()


@pytest.mark.parametrize("header", [
    b"a CAPABILITY\r\n" + b"x" * 10,                     # no header at all
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",               # version 1 (text) is not accepted
    SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 4000) + b"\0" * 16,  # too long
    SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 4) + b"\0" * 4,      # TCP4 in 4 bytes
    SIGNATURE + bytes([0x2e, 0x11]) + struct.pack("!H", 12) + b"\0" * 12,    # unknown command
])
def test_bad_header_closes_the_connection(proxied, header):
    sock = socket.create_connection(("127.0.0.1", proxied.proxy_port), timeout=5)
    try:
        sock.sendall(header)
        assert closed_silently(sock)
    finally:
        sock.close()


def test_slow_header_is_dropped_on_time(proxied):
    sock = socket.create_connection(("127.0.0.1", proxied.proxy_port), timeout=10)
    try:
        sock.sendall(SIGNATURE[:6])
        t0 = time.monotonic()
        assert closed_silently(sock)
        assert 4.0 <= time.monotonic() - t0 <= 7.5
    finally:
        sock.close()


def test_untrusted_source_is_refused(env):
    """Only the balancers proxy_trusted names may send a header: anyone
    else could claim any address."""
    port = free_port()
    k = env.start_kairand(imap_proxy_listen=f"127.0.0.1:{port}", proxy_trusted="192.0.2.1, 10.0.0.0/8")
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(v2_header("203.0.113.7"))
        assert closed_silently(sock)
        sock.close()
        time.sleep(0.1)
        assert "127.0.0.1: PROXY listener: not in proxy_trusted; connection refused" in log_text(k)
    finally:
        k.stop()
