"""APPEND latency when the client writes a command in pieces (issue 10).

RFC 3501 §4.3 lets a literal be followed by the rest of the command line,
and §7.5 has the server send "+" and then wait for the literal and the
rest. Clients often write these pieces with separate send() calls: Python's
imaplib sends an APPEND literal and then its closing CRLF. A client socket
runs Nagle's algorithm by default, so that CRLF stays in the client's kernel
until the literal has been acknowledged, and Linux delays the ACK of data
the server has read by up to 40 ms in the hope of carrying it on a reply,
which the server cannot send before the command is complete: every APPEND
then took ~44 ms instead of ~1 ms. The server now acknowledges at once
whenever it is left waiting for the rest of a command
(server/client.c, client_ack_partial_command). The same holds through TLS,
whose records ride on the same TCP connection.

The bound (5 ms for the median) is far above the ~1 ms an APPEND takes on
loopback and far below the 40 ms of a delayed ACK, so that a busy machine
does not make these tests fail while the stall always does.
"""

import imaplib
import socket
import ssl
import statistics
import time

import pytest

from imapclient import connect, insecure_context

ROUNDS = 50
MEDIAN_LIMIT_S = 0.005

MSG = (b"From: Alice Example <alice@example.org>\r\n"
       b"To: Bob <bob@example.org>\r\n"
       b"Subject: latency\r\n"
       b"\r\n"
       b"A short body.\r\n")


@pytest.fixture(scope="module")
def user(env):
    return env.new_user("lat")


def median_ms(times):
    return 1000 * statistics.median(times)


def assert_fast(times, what):
    assert statistics.median(times) < MEDIAN_LIMIT_S, (
        f"{what}: median {median_ms(times):.1f} ms over {len(times)} rounds "
        f"(min {1000 * min(times):.1f}, max {1000 * max(times):.1f}); "
        f"a delayed ACK stalls for 40 ms")


def nagle_is_on(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_imaplib_append_median_is_fast(env, user, tls):
    if tls:
        m = imaplib.IMAP4_SSL("127.0.0.1", env.imaps_port, ssl_context=insecure_context(),
                              timeout=10)
    else:
        m = imaplib.IMAP4("127.0.0.1", env.imap_port, timeout=10)
    try:
        assert nagle_is_on(m.sock)
        assert m.login(user, "secret")[0] == "OK"
        assert m.append("INBOX", None, None, MSG)[0] == "OK"   # warm-up, not timed
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            typ, data = m.append("INBOX", None, None, MSG)
            times.append(time.perf_counter() - start)
            assert typ == "OK", data
    finally:
        m.logout()
    assert_fast(times, "imaplib APPEND")


def raw_append(c, tag, literal_plus):
    """One APPEND written as imaplib does, one piece per send(): the line,
    the literal (after "+" unless it is a LITERAL+ literal, RFC 7888), and
    the CRLF that ends the command (RFC 3501 §4.3, §7.5)."""
    marker = b"+" if literal_plus else b""
    c.send(b"%s APPEND INBOX {%d%s}\r\n" % (tag, len(MSG), marker))
    if not literal_plus:
        c.expect_continuation()
    c.send(MSG)
    c.send(b"\r\n")
    tagged, _ = c.read_tagged(tag)
    assert tagged.startswith(tag + b" OK"), tagged


@pytest.mark.parametrize("literal_plus", [False, True], ids=["sync", "literal+"])
@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_literal_and_crlf_in_two_writes_with_nagle(env, user, tls, literal_plus):
    with connect(env.imaps_port if tls else env.imap_port, tls=tls) as c:
        # Nagle's algorithm stays on, as in most clients: no TCP_NODELAY.
        assert nagle_is_on(c.sock)
        tagged, _ = c.cmd("l", f"LOGIN {user} secret")
        assert tagged.startswith(b"l OK"), tagged
        raw_append(c, b"w", literal_plus)                     # warm-up, not timed
        times = []
        for i in range(ROUNDS):
            start = time.perf_counter()
            raw_append(c, b"a%d" % i, literal_plus)
            times.append(time.perf_counter() - start)
    assert_fast(times, "APPEND with the CRLF written separately")


class BioTls:
    """TLS over a plain socket through memory BIOs, so that a test decides
    how the bytes of a TLS record are cut into TCP writes."""

    def __init__(self, sock):
        self.sock = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = insecure_context().wrap_bio(self.inc, self.out,
                                               server_hostname="localhost")
        self.buf = b""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.out.read())
                self._recv()
        self.sock.sendall(self.out.read())

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.inc.write(data)

    def record(self, data):
        """The encrypted bytes of data, one record, not sent."""
        self.tls.write(data)
        return self.out.read()

    def readline(self):
        while b"\r\n" not in self.buf:
            try:
                self.buf += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.sock.sendall(self.out.read())   # e.g. a KeyUpdate reply
                self._recv()
        i = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def read_tagged(self, tag):
        while True:
            line = self.readline()
            if line.startswith(tag + b" "):
                return line


def test_tls_record_split_across_two_writes(env, user):
    # A TLS record that arrives in two TCP segments gives the server nothing
    # to parse until its last bytes are in: the first segment must be
    # acknowledged at once, as a partial command line would be. On a real
    # network this is any record longer than a segment (~1.4 KB).
    sock = socket.create_connection(("127.0.0.1", env.imaps_port), timeout=10)
    try:
        assert nagle_is_on(sock)
        t = BioTls(sock)
        assert t.readline().startswith(b"* OK")
        sock.sendall(t.record(f"l LOGIN {user} secret\r\n".encode()))
        assert t.read_tagged(b"l").startswith(b"l OK")
        times = []
        for i in range(ROUNDS + 1):
            tag = b"n%d" % i
            rec = t.record(tag + b" NOOP\r\n")
            start = time.perf_counter()
            sock.sendall(rec[:-2])
            sock.sendall(rec[-2:])
            assert t.read_tagged(tag).startswith(tag + b" OK")
            if i > 0:                                          # the first is warm-up
                times.append(time.perf_counter() - start)
    finally:
        sock.close()
    assert_fast(times, "NOOP in a TLS record split in two writes")
