"""A tiny raw-socket IMAP client for protocol tests.

Deliberately dumb: it sends exactly the bytes a test gives it and returns
exactly the bytes the server sent, so tests can assert on the wire format.
Everything is bytes. Every read has a timeout (default 10 s), so a server that
never answers fails the test instead of hanging it.

    c = connect(port)
    assert c.greeting.startswith(b"* OK")
    tagged, untagged = c.cmd("a", "LOGIN alice secret")
    assert tagged.startswith(b"a OK")
"""

import socket
import ssl

DEFAULT_TIMEOUT = 10.0


class ServerClosed(Exception):
    """The server closed the connection while a response was expected."""


class Client:
    def __init__(self, sock, timeout=DEFAULT_TIMEOUT):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.greeting = None

    # -- low level -------------------------------------------------------

    def send(self, data):
        """Sends raw bytes (str is encoded as UTF-8) in one sendall()."""
        if isinstance(data, str):
            data = data.encode()
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def _fill(self, timeout):
        """Reads more bytes into the buffer; returns False at EOF."""
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError(f"no data from server within "
                               f"{self.timeout if timeout is None else timeout} s; "
                               f"buffered: {self.buf[:200]!r}") from None
        if not chunk:
            return False
        self.buf += chunk
        return True

    def readline(self, timeout=None):
        """Returns the next line including its CRLF, or b"" at EOF (a
        partial last line without CRLF is returned as is)."""
        while b"\r\n" not in self.buf:
            if not self._fill(timeout):
                line, self.buf = self.buf, b""
                return line
        i = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def read_exact(self, n, timeout=None):
        while len(self.buf) < n:
            if not self._fill(timeout):
                raise ServerClosed(f"EOF after {len(self.buf)} of {n} literal bytes")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, timeout=None):
        """Returns one complete response without its final CRLF. A response
        line ending in a literal "{n}" continues after the n literal bytes;
        the pieces are joined exactly as sent (literal CRLFs included).
        Raises ServerClosed at EOF."""
        out = b""
        while True:
            line = self.readline(timeout)
            if not line.endswith(b"\r\n"):
                raise ServerClosed(f"connection closed; partial data: {(out + line)[:200]!r}")
            out += line
            body = line[:-2]
            if body.endswith(b"}") and b"{" in body:
                count = body[body.rindex(b"{") + 1:-1].rstrip(b"+")
                if count.isdigit():
                    out += self.read_exact(int(count), timeout)
                    continue
            return out[:-2]

    # -- commands -------------------------------------------------------

    def cmd(self, tag, text, timeout=None):
        """Sends "TAG TEXT\\r\\n" and reads until the tagged response for TAG.
        Returns (tagged_line, [untagged/continuation/other lines]), all
        without CRLF. Do not use it for commands with synchronising literals:
        see send() and expect_continuation()."""
        tag = tag.encode() if isinstance(tag, str) else tag
        text = text.encode() if isinstance(text, str) else text
        self.send(tag + b" " + text + b"\r\n")
        return self.read_tagged(tag, timeout)

    def read_tagged(self, tag, timeout=None):
        """Reads responses until the one tagged TAG; see cmd()."""
        tag = tag.encode() if isinstance(tag, str) else tag
        others = []
        while True:
            resp = self.read_response(timeout)
            if resp.startswith(tag + b" "):
                return resp, others
            others.append(resp)

    def expect_continuation(self, timeout=None):
        """Reads the server's "+ ..." continuation request (RFC 3501 §7.5)
        and returns it; fails if the server said anything else."""
        resp = self.read_response(timeout)
        if not resp.startswith(b"+"):
            raise AssertionError(f"expected a continuation request, got {resp!r}")
        return resp

    def read_until_closed(self, timeout=None):
        """Returns every line the server sends until it closes the
        connection (the last one possibly without CRLF)."""
        lines = []
        while True:
            line = self.readline(timeout)
            if not line:
                return lines
            lines.append(line)

    def starttls(self, tag="s", context=None):
        """Sends STARTTLS; on OK wraps the socket in TLS. Returns the
        tagged response."""
        tagged, _ = self.cmd(tag, "STARTTLS")
        if tagged.startswith(tag.encode() + b" OK"):
            assert not self.buf, "server sent data after STARTTLS OK in plaintext"
            self.sock = (context or insecure_context()).wrap_socket(
                self.sock, server_hostname="localhost")
        return tagged

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def insecure_context():
    """TLS context that accepts the harness's self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(port, host="127.0.0.1", tls=False, timeout=DEFAULT_TIMEOUT, read_greeting=True):
    """Connects (tls=True for implicit TLS, port 993 style) and reads the
    greeting into .greeting (without CRLF)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    c = Client(sock, timeout)
    try:
        if tls:
            c.sock = insecure_context().wrap_socket(sock, server_hostname="localhost")
        if read_greeting:
            c.greeting = c.read_response()
    except BaseException:
        c.close()    # 200-connection tests must not leak sockets on failure
        raise
    return c


def quote(s):
    """An IMAP quoted string (RFC 3501 §4.3): backslash and double quote
    are escaped; the caller must not pass CR, LF or NUL."""
    if isinstance(s, str):
        s = s.encode()
    return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def login(port, user, password="secret"):
    """A connection logged in as `user` (the harness's accounts all have
    the password "secret")."""
    c = connect(port)
    tagged, _ = c.cmd("l", f"LOGIN {user} {password}")
    assert tagged.startswith(b"l OK"), tagged
    return c


def ok(c, text, tag="t"):
    """Runs a command that must succeed; returns its untagged responses."""
    tagged, untagged = c.cmd(tag, text)
    assert tagged.startswith(tag.encode() + b" OK"), (text[:200], tagged, untagged[:5])
    return untagged


CIRCULAR = (b"From: Alice <alice@example.org>\r\nTo: team@example.org\r\n"
            b"Subject: circular %d\r\nMessage-ID: <c%d@example.org>\r\n\r\nRead me.\r\n")


def append_circulars(c, mailbox, n, flags=""):
    """APPENDs n small distinct messages ("circular 0" ...) to mailbox,
    each with flags (e.g. "(\\Seen) "), each of which must succeed."""
    for i in range(n):
        raw = CIRCULAR % (i, i)
        c.send(f"ap APPEND {mailbox} {flags}{{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
        tagged, _ = c.read_tagged("ap")
        assert tagged.startswith(b"ap OK"), tagged


def bad(c, text, tag="b"):
    """Runs a command that must be refused with BAD, then checks that the
    session goes on; returns the tagged response."""
    tagged, _ = c.cmd(tag, text)
    assert tagged.startswith(tag.encode() + b" BAD "), (text[:200], tagged)
    ok(c, "NOOP", tag="n")
    return tagged
