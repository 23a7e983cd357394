"""A small LMTP client for the tests (RFC 2033 over a raw socket, so that
every byte and every reply is the test's to choose), and the helpers that
read deliveries back over IMAP."""

import re
import socket

from imapclient import login, ok

REPLY = re.compile(rb"^(\d{3})([ -])(.*)$")


def lmtp_port(env):
    return env.lmtp_port


def body(tag):
    return (f"From: a@example.net\r\nTo: x@example.org\r\nSubject: {tag}\r\n"
            f"Message-ID: <{tag}@example.net>\r\n\r\nHello {tag}.\r\n").encode()


class Raw:
    """A raw LMTP connection: send bytes, read replies (lists of lines)."""

    def __init__(self, env, greet=True, port=None, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port or lmtp_port(env)), timeout=timeout)
        self.f = self.s.makefile("rb")
        if greet:
            assert self.reply()[0].startswith(b"220 ")

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        line = self.f.readline()
        if not line:
            raise EOFError
        assert line.endswith(b"\r\n"), line
        return line[:-2]

    def reply(self):
        """One whole (possibly multi-line) reply."""
        lines = []
        while True:
            line = self.line()
            m = REPLY.match(line)
            assert m, line
            lines.append(line)
            if m.group(2) == b" ":
                return lines

    def replies(self, n):
        return [self.reply()[-1] for _ in range(n)]

    def closed(self):
        try:
            return self.f.read() == b"" or True
        except OSError:
            return True

    def close(self):
        self.s.close()


def codes(lines):
    return [line[:9].decode() for line in lines]


def messages(env, user, mailbox="INBOX"):
    """Every message's BODY[] in the mailbox, in UID order."""
    c = login(env.imap_port, user)
    ok(c, f'EXAMINE "{mailbox}"')
    out = []
    for resp in ok(c, "UID FETCH 1:* BODY.PEEK[]"):
        if b"BODY[] {" in resp:
            head, _, rest = resp.partition(b"}\r\n")
            n = int(head[head.rindex(b"{") + 1:])
            out.append(rest[:n])
    c.close()
    return out


def rp(sender):
    return f"Return-Path: <{sender}>\r\n".encode()


def kairand_lmtp_port(k):
    """The LMTP port of an extra kairand (env.start_kairand)."""
    return int(k.config["lmtp_listen"].rsplit(":", 1)[1])


def send_raw(env, sender, rcpts, data_bytes, port=None):
    """LHLO, MAIL, RCPTs, DATA, the raw data bytes (which must end the
    message themselves); returns the RCPT replies and the data replies."""
    r = Raw(env, port=port)
    r.send(b"LHLO test\r\n")
    r.reply()
    r.send(f"MAIL FROM:<{sender}>\r\n".encode())
    assert r.reply()[-1].startswith(b"250 2.1.0")
    rc = []
    for a in rcpts:
        r.send(f"RCPT TO:<{a}>\r\n".encode())
        rc.append(r.reply()[-1])
    r.send(b"DATA\r\n")
    assert r.reply()[-1].startswith(b"354")
    r.send(data_bytes)
    accepted = sum(1 for x in rc if x.startswith(b"250"))
    out = r.replies(accepted)
    r.send(b"QUIT\r\n")
    assert r.reply()[-1].startswith(b"221 2.0.0")
    r.close()
    return rc, out


def expect_in_step(env, cmds, expected, port=None):
    """After LHLO, the commands (bytes, pipelined in one write) get exactly
    the expected reply codes ("250 2.1.0"...), and a NOOP after them gets
    its 250: the session is still in step."""
    r = Raw(env, port=port)
    r.send(b"LHLO x\r\n" + cmds + b"NOOP\r\n")
    r.reply()
    got = r.replies(len(expected) + 1)
    assert codes(got[:-1]) == expected, got
    assert got[-1].startswith(b"250 2.0.0"), got[-1]
    r.close()
