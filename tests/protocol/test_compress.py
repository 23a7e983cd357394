"""COMPRESS=DEFLATE (RFC 4978) over the wire: raw DEFLATE in both directions
after the tagged OK, over plain TCP and inside TLS, through literals, long
streamed responses and IDLE; a corrupt stream and a decompression bomb end
the session with a BYE, and the bomb costs kairand no memory
(docs/protocol.md, "COMPRESS")."""

import random
import re
import socket
import time
import zlib

import pytest

from imapclient import connect, insecure_context, login, ok
from test_hostile import vm_rss_kib
from test_idle import append as idle_append, done, start_idle, wait_for

MSG = (b"From: Alice <alice@example.org>\r\nTo: bob@example.org\r\n"
       b"Subject: compress %d\r\nMessage-ID: <compress%d@example.org>\r\n\r\n")


class DeflateSocket:
    """The socket interface imapclient.Client uses (settimeout, sendall,
    recv, close), with RFC 4978's raw DEFLATE (zlib wbits=-15) between the
    client and `sock` (TCP or TLS), each write flushed with Z_SYNC_FLUSH.
    Counts the compressed bytes each way."""

    def __init__(self, sock, leftover=b""):
        self.sock = sock
        self.deflater = zlib.compressobj(wbits=-15)
        self.inflater = zlib.decompressobj(wbits=-15)
        self.pending = self.inflater.decompress(leftover)
        self.wire_in = len(leftover)
        self.wire_out = 0

    def settimeout(self, t):
        self.sock.settimeout(t)

    def deflate(self, data):
        return self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)

    def sendall(self, data):
        self.send_raw(self.deflate(data))

    def send_raw(self, raw):
        self.wire_out += len(raw)
        self.sock.sendall(raw)

    def recv(self, n):
        while not self.pending:
            raw = self.sock.recv(65536)
            if not raw:
                return b""
            self.wire_in += len(raw)
            self.pending = self.inflater.decompress(raw)
        out, self.pending = self.pending, b""
        return out

    def close(self):
        self.sock.close()


def compress(c, tag="z"):
    """COMPRESS DEFLATE on c; from its OK on, c speaks DEFLATE. Returns
    the DeflateSocket."""
    tagged, _ = c.cmd(tag, "COMPRESS DEFLATE")
    assert tagged == tag.encode() + b" OK DEFLATE active", tagged
    # §3: the server compresses from right after the OK's CRLF, and has
    # nothing to say before the client's next command.
    z = DeflateSocket(c.sock, c.buf)
    c.buf = b""
    c.sock = z
    return z


def capabilities(c):
    _, u = c.cmd("cap", "CAPABILITY")
    assert u[0].startswith(b"* CAPABILITY "), u
    return u[0].split()[2:]


def append_literal(c, mailbox, raw, tag="ap"):
    """APPEND with a synchronising literal: the "+" comes back compressed
    too."""
    c.send(f"{tag} APPEND {mailbox} {{{len(raw)}}}\r\n")
    c.expect_continuation()
    c.send(raw + b"\r\n")
    tagged, _ = c.read_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), tagged


def read_until_closed(c, timeout=10):
    """Everything the server says until it closes (a reset after the BYE
    counts as closed: it may close with the client's unread input)."""
    lines = []
    while True:
        try:
            line = c.readline(timeout)
        except ConnectionResetError:
            return lines
        if not line:
            return lines
        lines.append(line)


def test_rfc4978_1_capability_only_after_login_and_until_active(env):
    with connect(env.imap_port) as c:
        # Not usable before authentication (command-auth), so not listed.
        assert b"COMPRESS=DEFLATE" not in c.greeting
        ok(c, "LOGIN alice secret", "l")
        assert b"COMPRESS=DEFLATE" in capabilities(c)
        compress(c)
        assert b"COMPRESS=DEFLATE" not in capabilities(c)


def test_rfc4978_5_command_auth_only(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("z", "COMPRESS DEFLATE")
        assert tagged.startswith(b"z BAD"), tagged
        # Still plain text: the BAD turned nothing on.
        assert c.cmd("n", "NOOP")[0] == b"n OK NOOP completed"


def test_rfc4978_3_unknown_or_missing_algorithm_is_bad_and_changes_nothing(env):
    with login(env.imap_port, "alice") as c:
        for text in ("COMPRESS LZW", "COMPRESS", "COMPRESS DEFLATE X", 'COMPRESS "DEFLATE"'):
            tagged, _ = c.cmd("z", text)
            assert tagged.startswith(b"z BAD"), (text, tagged)
        # §3: "If the server issues a BAD or NO response, the server MUST
        # NOT turn on compression."
        assert c.cmd("n", "NOOP")[0] == b"n OK NOOP completed"


def test_rfc4978_5_case_insensitive(env):
    with login(env.imap_port, "alice") as c:
        tagged, _ = c.cmd("z", "compress Deflate")
        assert tagged == b"z OK DEFLATE active", tagged
        c.sock = DeflateSocket(c.sock, c.buf)
        c.buf = b""
        assert c.cmd("n", "NOOP")[0] == b"n OK NOOP completed"


def test_rfc4978_3_second_compress_is_no_compressionactive(env):
    with login(env.imap_port, "alice") as c:
        compress(c)
        tagged, _ = c.cmd("y", "COMPRESS DEFLATE")
        assert tagged.startswith(b"y NO [COMPRESSIONACTIVE]"), tagged
        # Still one DEFLATE layer, and it still works.
        assert c.cmd("n", "NOOP")[0] == b"n OK NOOP completed"


def test_rfc4978_3_in_selected_state(env):
    user = env.new_user("zsel")
    with login(env.imap_port, user) as c:
        ok(c, "SELECT INBOX", "s")
        compress(c)
        _, u = c.cmd("s2", "SELECT INBOX")
        assert b"* 0 EXISTS" in u, u


def exercise_messages(c, user):
    """SELECT, APPEND (synchronising and non-synchronising literals), FETCH
    of small and streamed bodies (read late) through the compressed session; returns
    the plain size of what the server sent for the big FETCH."""
    small = MSG % (1, 1) + b"Hello through DEFLATE.\r\n"
    append_literal(c, "INBOX", small)
    rng = random.Random(4978)
    words = [b"circular", b"office", b"home", b"folder", b"notice", b"group"]
    # Over 64 KiB of output per message, so the FETCH streams (the
    # worker hands output to the loop mid-command).
    body = b"".join(b" ".join(rng.choice(words) for _ in range(12)) + b"\r\n"
                    for _ in range(6000))
    big = MSG % (2, 2) + body
    for i in range(3):
        c.send(f"b{i} APPEND INBOX {{{len(big)}+}}\r\n".encode() + big + b"\r\n")
    for i in range(3):
        assert c.read_tagged(f"b{i}")[0].startswith(f"b{i} OK".encode())
    _, u = c.cmd("s", "SELECT INBOX")
    assert b"* 4 EXISTS" in u, u
    _, u = c.cmd("f", "FETCH 1 (BODY.PEEK[])")
    assert u[0].endswith(b"{%d}\r\n" % len(small) + small + b")"), u
    c.send(b"g FETCH 2:4 (BODY.PEEK[])\r\n")
    time.sleep(0.5)    # a slow reader: the server waits with its output
    got = 0
    while True:
        resp = c.read_response(timeout=30)
        if resp.startswith(b"g "):
            assert resp.startswith(b"g OK"), resp
            break
        assert resp.startswith(f"* {got + 2} FETCH".encode()), resp[:80]
        assert resp.endswith(b"{%d}\r\n" % len(big) + big + b")")
        got += 1
    assert got == 3
    return 3 * len(big)


def test_rfc4978_select_fetch_append_with_literals(env):
    user = env.new_user("zmsg")
    with login(env.imap_port, user) as c:
        z = compress(c)
        before = z.wire_in
        plain = exercise_messages(c, user)
        # It did compress: the bodies are words from a small vocabulary.
        assert z.wire_in - before < plain / 3, (z.wire_in - before, plain)
        assert c.cmd("o", "LOGOUT")[0].startswith(b"o OK")


def test_rfc4978_3_inside_implicit_tls(env):
    user = env.new_user("ztls")
    with connect(env.imaps_port, tls=True) as c:
        ok(c, f"LOGIN {user} secret", "l")
        z = compress(c)
        assert z.sock.version() is not None    # DEFLATE above TLS
        exercise_messages(c, user)


def test_rfc4978_3_after_starttls(env):
    user = env.new_user("zstls")
    with connect(env.imap_port) as c:
        assert c.starttls().startswith(b"s OK")
        ok(c, f"LOGIN {user} secret", "l")
        compress(c)
        append_literal(c, "INBOX", MSG % (3, 3) + b"Hi.\r\n")
        _, u = c.cmd("st", "STATUS INBOX (MESSAGES)")
        assert b"(MESSAGES 1)" in u[0], u


def test_rfc4978_idle_changes_arrive_promptly(env):
    """RFC 2177 through DEFLATE: what the server pushes while idling is
    flushed at once, so it inflates on the client without waiting for
    more output."""
    user = env.new_user("zidle")
    writer = login(env.imap_port, user)
    idler = login(env.imap_port, user)
    try:
        ok(idler, "SELECT INBOX", "s")
        compress(idler)
        assert start_idle(idler) == []
        t0 = time.monotonic()
        idle_append(writer, "INBOX")
        wait_for(idler, rb"^\* 1 EXISTS$", timeout=1.0)
        assert time.monotonic() - t0 < 1.0
        done(idler)
        _, u = idler.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b"Subject: idle" in u[0], u
    finally:
        idler.close()
        writer.close()


def test_rfc4978_3_compressed_command_sent_before_the_ok_is_run(env):
    """§3: the client MUST NOT send before it has seen the OK. One that
    does, and compresses what it sends, is served: those bytes are the
    first of its DEFLATE stream."""
    with login(env.imap_port, "alice") as c:
        deflater = zlib.compressobj(wbits=-15)
        early = deflater.compress(b"n NOOP\r\n") + deflater.flush(zlib.Z_SYNC_FLUSH)
        c.send(b"z COMPRESS DEFLATE\r\n" + early)
        line = c.readline()
        assert line == b"z OK DEFLATE active\r\n", line
        z = DeflateSocket(c.sock, c.buf)
        z.deflater = deflater
        c.buf = b""
        c.sock = z
        assert c.read_tagged("n")[0] == b"n OK NOOP completed"
        assert c.cmd("m", "NOOP")[0] == b"m OK NOOP completed"


def test_rfc4978_plaintext_after_the_ok_is_a_corrupt_stream(env):
    """A client that goes on in plain text after the OK: its bytes are not
    DEFLATE (the first one names a reserved block type), the server says
    BYE, compressed, and closes."""
    with login(env.imap_port, "alice") as c:
        z = compress(c)
        z.send_raw(b"n NOOP\r\n")
        lines = read_until_closed(c)
        assert lines == [b"* BYE Invalid compressed data\r\n"], lines


def test_rfc4978_corrupt_stream_mid_session_ends_it_with_bye(env):
    with login(env.imap_port, "alice") as c:
        z = compress(c)
        assert c.cmd("n", "NOOP")[0] == b"n OK NOOP completed"
        # A block of type 3 (reserved): 0b110 in the first three bits.
        z.send_raw(b"\x07\xff\xff\xff")
        lines = read_until_closed(c)
        assert lines == [b"* BYE Invalid compressed data\r\n"], lines
    # The server itself is fine.
    with login(env.imap_port, "alice") as c:
        assert c.cmd("n", "NOOP")[0] == b"n OK NOOP completed"


BYE_TOOBIG = b"* BYE [TOOBIG] Command line too long\r\n"


def bomb_check(env, raw_line, expected):
    """Sends raw_line (10 MB, no CRLF) compressed to a few KB and expects
    the lines `expected` (ending in BYE [TOOBIG]) and a close, with kairand's memory unchanged and another
    session served meanwhile."""
    pid = env.kairand.pid
    with open(f"/proc/{pid}/comm") as f:
        assert f.read().strip() == "kairand"
    bystander = login(env.imap_port, "alice")
    try:
        with login(env.imap_port, "bob") as c:
            z = compress(c)
            assert c.cmd("n", "NOOP")[0] == b"n OK NOOP completed"
            before = vm_rss_kib(pid)
            bomb = z.deflate(raw_line)
            assert len(bomb) < 20_000, len(bomb)
            z.send_raw(bomb)
            lines = read_until_closed(c)
            assert lines == expected, lines
            after = vm_rss_kib(pid)
        # Inflated in pieces no bigger than the input buffer (64 KiB):
        # far from the 10 MB the bomb holds.
        assert after - before < 4096, (before, after)
        print(f"kairand VmRSS {before} KiB before the bomb, {after} KiB after")
        assert bystander.cmd("n", "NOOP")[0] == b"n OK NOOP completed"
    finally:
        bystander.close()


def test_rfc4978_decompression_bomb_line_ends_session(env):
    bomb_check(env, b"a" * 10_000_000, [BYE_TOOBIG])


def test_rfc4978_decompression_bomb_in_skipped_line_ends_session(env):
    """A line that fails early is skipped to its end; compressed, its
    skipped part is bounded by the line limit too."""
    bomb_check(env, b"a NOOP (" + b")" * 10_000_000,
               [b"a BAD Unbalanced parentheses\r\n", BYE_TOOBIG])


def test_rfc4978_client_ending_its_stream_is_a_close(env):
    """Z_FINISH after LOGOUT: the final block ends the stream; nothing
    is wrong and the LOGOUT is answered."""
    with login(env.imap_port, "alice") as c:
        z = compress(c)
        z.send_raw(z.deflater.compress(b"o LOGOUT\r\n") + z.deflater.flush(zlib.Z_FINISH))
        lines = read_until_closed(c)
        assert lines[0].startswith(b"* BYE"), lines
        assert lines[-1].startswith(b"o OK"), lines


def test_rfc4978_byte_counters_count_compressed_bytes(env):
    """kairan_bytes_sent_total and _received_total count what passes
    between TLS (or TCP) and DEFLATE: exactly the compressed bytes the
    client's socket carried (docs/metrics.md)."""
    from test_metrics import scrape
    import kairan_env as ke
    port = ke.free_port()
    k = env.start_kairand(metrics_listen=f"127.0.0.1:{port}")
    user = env.new_user("zmet")

    def counters():
        m = scrape(port)
        return (m[("kairan_bytes_sent_total", frozenset())],
                m[("kairan_bytes_received_total", frozenset())])

    try:
        with login(k.imap_port, user) as c:
            z = compress(c)
            append_literal(c, "INBOX", MSG % (5, 5) + b"hello " * 20000 + b"\r\n")
            ok(c, "SELECT INBOX", "s")
            sent0, received0 = counters()
            in0, out0 = z.wire_in, z.wire_out
            _, u = c.cmd("f", "FETCH 1 (BODY.PEEK[])")
            assert u[0].endswith(b"hello \r\n)"), u[0][-40:]
            sent1, received1 = counters()
            assert sent1 - sent0 == z.wire_in - in0 < 5000, (sent1 - sent0, z.wire_in - in0)
            assert received1 - received0 == z.wire_out - out0
    finally:
        k.stop()


def test_rfc4978_long_incompressible_fetch_to_a_slow_reader(env):
    """Past the server's output bounds (1 MiB unread stops the FETCH until
    the client reads): base64 barely compresses, so the compressed bytes
    fill the socket too, and the deflater's leftovers wait for EPOLLOUT."""
    import base64
    user = env.new_user("zslow")
    rng = random.Random(1951)
    bodies = [base64.encodebytes(rng.randbytes(600_000)).replace(b"\n", b"\r\n")
              for _ in range(4)]
    with login(env.imap_port, user) as c:
        z = compress(c)
        for i, body in enumerate(bodies):
            raw = MSG % (10 + i, 10 + i) + body
            c.send(f"b{i} APPEND INBOX {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
            assert c.read_tagged(f"b{i}")[0].startswith(f"b{i} OK".encode())
        ok(c, "SELECT INBOX", "s")
        before = z.wire_in
        c.send(b"f FETCH 1:4 (BODY.PEEK[TEXT])\r\n")
        time.sleep(1.5)
        for i, body in enumerate(bodies):
            resp = c.read_response(timeout=30)
            assert resp.startswith(f"* {i + 1} FETCH".encode()), resp[:80]
            assert resp.endswith(b"{%d}\r\n" % len(body) + body + b")")
        assert c.read_response(timeout=30).startswith(b"f OK")
        assert z.wire_in - before > 2_000_000    # it did not shrink much


def test_rfc4978_idle_compressed_sessions_cost_bounded_memory(env):
    """What a compressed session costs kairand once it is quiet: the
    streams' state (about 110 KiB allocated, docs/protocol.md, "Memory"),
    of which a quiet session touches only part; the compressed buffers are
    given back once empty."""
    user = env.new_user("zmem")
    pid = env.kairand.pid
    sessions = [login(env.imap_port, user) for _ in range(120)]
    try:
        for c in sessions:
            ok(c, "SELECT INBOX", "s")
        before = vm_rss_kib(pid)
        for c in sessions:
            compress(c)
            ok(c, "SELECT INBOX", "s")
            assert b"COMPRESS=DEFLATE" not in capabilities(c)
        after = vm_rss_kib(pid)
        per_session = (after - before) / len(sessions)
        print(f"kairand VmRSS {before} -> {after} KiB: {per_session:.0f} KiB per session")
        assert per_session < 160, per_session
    finally:
        for c in sessions:
            c.close()
