"""Metrics (issue 14, 3): the Prometheus endpoint on metrics_listen, parsed
with a real Prometheus text parser (python3-prometheus-client), its
counters moving with known commands, and a responder that hostile HTTP
input cannot block or crash."""

import socket
import time

import pytest

from imapclient import connect, login, ok
import kairan_env as ke

parser = pytest.importorskip("prometheus_client.parser",
                             reason="python3-prometheus-client (make deps) is missing")


@pytest.fixture(scope="module")
def mk(env):
    """A kairand of its own, so that its counters move only with this
    module's commands."""
    port = ke.free_port()
    k = env.start_kairand(metrics_listen=f"127.0.0.1:{port}")
    k.metrics_port = port
    yield k
    k.stop()


def http(port, request, timeout=10):
    """Sends raw bytes; returns everything the server sent before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if request:
            s.sendall(request)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    return data


def scrape(port):
    """{(sample name, frozenset of labels): value}, parsed by prometheus_client."""
    raw = http(port, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK"), head
    assert b"Content-Type: text/plain; version=0.0.4" in head, head
    length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0]
                 .split(b":")[1])
    assert length == len(body)
    out = {}
    for family in parser.text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_endpoint_parses_and_names_every_family(mk):
    m = scrape(mk.metrics_port)
    names = {name for name, _ in m}
    for expected in ("kairan_sessions", "kairan_commands_total",
                     "kairan_command_duration_seconds_bucket",
                     "kairan_command_duration_seconds_count", "kairan_bytes_received_total",
                     "kairan_bytes_sent_total", "kairan_tls_handshakes_total",
                     "kairan_tls_handshake_failures_total", "kairan_logins_total",
                     "kairan_store_commands_total", "kairan_worker_queue_depth",
                     "kairan_workers", "kairan_bus_trusted", "kairan_bus_notifications_total",
                     "kairan_bus_reconciles_total", "kairan_connections_total"):
        assert expected in names, expected
    assert value(m, "kairan_workers") == 4


def test_counters_move_with_known_commands(mk):
    before = scrape(mk.metrics_port)
    with connect(mk.imap_port) as c:
        tagged, _ = c.cmd("f", "LOGIN alice wrong-password")
        assert tagged.startswith(b"f NO"), tagged
    with login(mk.imap_port, "alice") as c:
        ok(c, "SELECT INBOX")
        tagged, _ = c.cmd("b", "FROBNICATE")
        assert tagged.startswith(b"b BAD"), tagged
        during = scrape(mk.metrics_port)
        assert value(during, "kairan_sessions", protocol="imap", state="selected") >= 1
    after = scrape(mk.metrics_port)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("kairan_logins_total", result="success") == 1
    assert delta("kairan_logins_total", result="failure") == 1
    assert delta("kairan_commands_total", command="LOGIN", result="ok") == 1
    assert delta("kairan_commands_total", command="LOGIN", result="no") == 1
    assert delta("kairan_commands_total", command="SELECT", result="ok") == 1
    assert delta("kairan_commands_total", command="unknown", result="bad") == 1
    assert delta("kairan_command_duration_seconds_count", command="LOGIN") == 2
    assert delta("kairan_command_duration_seconds_bucket", command="SELECT", le="+Inf") == 1
    assert delta("kairan_command_duration_seconds_sum", command="SELECT") > 0
    assert delta("kairan_connections_total") == 2
    assert delta("kairan_bytes_received_total") >= len(b"f LOGIN alice wrong-password\r\n")
    assert delta("kairan_bytes_sent_total") > 0
    assert delta("kairan_store_commands_total") >= 1
    # Buckets are cumulative: never decreasing in le.
    buckets = sorted((float(dict(labels)["le"]), v) for (name, labels), v in after.items()
                     if name == "kairan_command_duration_seconds_bucket"
                     and dict(labels)["command"] == "LOGIN")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)


def test_tls_handshakes_are_counted(mk):
    before = scrape(mk.metrics_port)
    with connect(mk.imaps_port, tls=True) as c:
        ok(c, "NOOP")
    with socket.create_connection(("127.0.0.1", mk.imaps_port), timeout=10) as s:
        s.sendall(b"this is not a TLS client hello\r\n" * 4)
        try:
            s.recv(1024)
        except OSError:
            pass
    deadline = time.monotonic() + 5
    while True:
        after = scrape(mk.metrics_port)
        if value(after, "kairan_tls_handshake_failures_total") > \
                value(before, "kairan_tls_handshake_failures_total") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert value(after, "kairan_tls_handshakes_total") - \
        value(before, "kairan_tls_handshakes_total") == 1
    assert value(after, "kairan_tls_handshake_failures_total") - \
        value(before, "kairan_tls_handshake_failures_total") == 1


@pytest.mark.parametrize("request_bytes,status", [
    (b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", b"405"),
    (b"DELETE /metrics HTTP/1.0\r\n\r\n", b"405"),
    (b"GET / HTTP/1.1\r\n\r\n", b"404"),
    (b"GET /metricsfoo HTTP/1.1\r\n\r\n", b"404"),
    (b"GET /metrics HTTP/2.0\r\n\r\n", b"400"),
    (b"GET /metrics\r\n\r\n", b"400"),
    (b"\x00\xff\x16\x03\x01 binary\r\n\r\n", b"400"),
    (b"GET /metrics HTTP/1.1\r\n" + b"X-Filler: " + b"a" * 5000 + b"\r\n\r\n", b"431"),
])
def test_other_requests_get_a_4xx(mk, request_bytes, status):
    raw = http(mk.metrics_port, request_bytes)
    # A clean status line, or (when the server closed with input unread) nothing.
    assert raw == b"" or raw.startswith(b"HTTP/1.1 " + status), raw[:200]


def test_head_gets_headers_only(mk):
    raw = http(mk.metrics_port, b"HEAD /metrics HTTP/1.0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 OK") and raw.endswith(b"\r\n\r\n"), raw[:300]


def test_huge_request_line_is_refused(mk):
    with socket.create_connection(("127.0.0.1", mk.metrics_port), timeout=10) as s:
        s.sendall(b"GET /" + b"x" * 8000)
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
    assert data == b"" or data.startswith(b"HTTP/1.1 414"), data[:200]
    assert scrape(mk.metrics_port)


def test_request_without_crlf_and_slowloris_are_closed_on_time(mk):
    socks = []
    start = time.monotonic()
    for i in range(5):
        s = socket.create_connection(("127.0.0.1", mk.metrics_port), timeout=15)
        s.sendall(b"GET /metrics HTTP/1.1" if i % 2 else b"GET /met")
        socks.append(s)
    # While they dawdle, a scrape still works: the loop never waits on them.
    assert scrape(mk.metrics_port)
    with login(mk.imap_port, "alice") as c:
        ok(c, "NOOP")
    for s in socks:
        try:
            assert s.recv(4096) in (b"",)
        except ConnectionResetError:
            pass
        s.close()
    elapsed = time.monotonic() - start
    assert 4 <= elapsed < 10, elapsed


def test_too_many_connections_do_not_lock_the_endpoint_out_for_long(mk):
    socks = [socket.create_connection(("127.0.0.1", mk.metrics_port), timeout=10)
             for _ in range(40)]
    try:
        time.sleep(0.2)
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 8
    while True:
        try:
            assert scrape(mk.metrics_port)
            break
        except (AssertionError, OSError, IndexError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_non_loopback_address_is_refused(env):
    status, err = env.kairand_must_fail(metrics_listen=f"0.0.0.0:{ke.free_port()}")
    assert status not in (None, 0), err
    assert "not a loopback address" in err and "metrics_allow_remote" in err, err


def test_a_non_loopback_address_with_allow_remote_starts(env):
    port = ke.free_port()
    k = env.start_kairand(metrics_listen=f"0.0.0.0:{port}", metrics_allow_remote="yes")
    try:
        k.metrics_port = port
        assert value(scrape(port), "kairan_workers") == 4
    finally:
        k.stop()
