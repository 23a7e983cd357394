"""A minimal, fast IMAP client for the store benchmark (tests/bench/bench_store.py).

Unlike tests/protocol/imapclient.py it does not parse responses while
timing: a command's response is read in large chunks until the tagged line
appears, found with bytes.find (C speed), so that the client's cost stays
small next to the server's even for a 100,000-line FETCH response. Tags
("kb<n>q") cannot occur at the start of a line inside the benchmark's
message bodies (tests/bench/mailgen.py writes lowercase words and MIME
text), so the search cannot be fooled by literal data; callers check the
result afterwards (count of FETCH responses, tagged OK).

Every socket operation has a timeout, so a server that stops answering
fails the benchmark instead of hanging it.
"""

import collections
import socket
import time

DEFAULT_TIMEOUT = 120.0


class IMAPError(RuntimeError):
    pass


class Conn:
    def __init__(self, host, port, timeout=DEFAULT_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = bytearray()
        self.n = 0
        self.greeting = self.readline()
        if not self.greeting.startswith(b"* OK"):
            raise IMAPError(f"unexpected greeting {self.greeting[:200]!r}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def tag(self):
        self.n += 1
        return b"kb%dq" % self.n

    def _recv(self):
        chunk = self.sock.recv(1 << 18)
        if not chunk:
            raise IMAPError(f"server closed the connection; buffered {bytes(self.buf[-200:])!r}")
        self.buf += chunk

    def readline(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._recv()

    def command(self, text):
        """Sends one command and reads everything up to and including its
        tagged response. Returns (tagged line, bytes before it, seconds from
        just before the send to the arrival of the tagged line's end)."""
        if isinstance(text, str):
            text = text.encode()
        tag = self.tag()
        needle = b"\r\n" + tag + b" "
        t0 = time.perf_counter()
        self.sock.sendall(tag + b" " + text + b"\r\n")
        start = 0
        while True:
            if self.buf.startswith(tag + b" "):
                p = -2
            else:
                p = self.buf.find(needle, start)
            if p != -1:
                e = self.buf.find(b"\r\n", p + 2)
                while e == -1:
                    self._recv()
                    e = self.buf.find(b"\r\n", p + 2)
                elapsed = time.perf_counter() - t0
                data = bytes(self.buf[:p + 2])
                tagged = bytes(self.buf[p + 2:e])
                del self.buf[:e + 2]
                return tagged, data, elapsed
            start = max(0, len(self.buf) - len(needle))
            self._recv()

    def ok(self, text):
        tagged, data, elapsed = self.command(text)
        if tagged.split(b" ", 2)[1:2] != [b"OK"]:
            raise IMAPError(f"{text[:80]!r} failed: {tagged[:300]!r}")
        return tagged, data, elapsed

    def login(self, user, password):
        return self.ok(f"LOGIN {user} {password}")

    def logout(self):
        try:
            self.command("LOGOUT")
        except (OSError, IMAPError):
            pass
        self.close()

    def append_many(self, mailbox, messages, window=1, latencies=None):
        """APPENDs each message with a LITERAL+ literal, keeping at most
        `window` commands in flight; every APPEND must be answered OK.
        Appends each command's latency (send to tagged OK) to `latencies`."""
        mbox = mailbox.encode()
        inflight = collections.deque()
        sent = done = 0
        total = len(messages)
        while done < total:
            while sent < total and len(inflight) < window:
                m = messages[sent]
                tag = self.tag()
                self.sock.sendall(b"%s APPEND %s {%d+}\r\n" % (tag, mbox, len(m)) + m + b"\r\n")
                inflight.append((tag, time.perf_counter()))
                sent += 1
            line = self.readline()
            tag, t0 = inflight[0]
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise IMAPError(f"APPEND {done} failed: {line[:300]!r}")
                if latencies is not None:
                    latencies.append(time.perf_counter() - t0)
                inflight.popleft()
                done += 1
            elif line.startswith(b"+"):
                raise IMAPError("server asked for a continuation: no LITERAL+?")
            elif not line.startswith(b"*"):
                raise IMAPError(f"unexpected line during APPEND: {line[:300]!r}")
        return done
