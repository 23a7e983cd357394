"""LMTP CHUNKING (RFC 3030, BDAT) and SMTPUTF8 (RFC 6531) over the wire,
every delivery read back over IMAP (docs/delivery.md, "BDAT" and
"SMTPUTF8").

RFC 3030 §2: BDAT chunk-size [LAST]; the chunk's octets follow the command
line at once, with no dot-stuffing and no end marker; DATA and BDAT do not
mix in one transaction; BDAT 0 LAST ends a message. RFC 2033 §4.2 applied
to BDAT LAST: one reply per accepted recipient. RFC 6531 §3.4: MAIL FROM
... SMTPUTF8 allows UTF-8 in the paths; without it such a path is
553 5.6.7 (RFC 6531 §3.7.4)."""

import time

import pytest

from lmtpclient import Raw, body, codes, expect_in_step, kairand_lmtp_port, messages, rp


def transaction(env, rcpts, sender="s@example.net", port=None, mail_params=b""):
    """LHLO, MAIL, the RCPTs: the connection, and the RCPT replies."""
    r = Raw(env, port=port)
    r.send(b"LHLO x\r\nMAIL FROM:<" + sender.encode() + b">" + mail_params + b"\r\n"
           + b"".join(b"RCPT TO:<" + a.encode() + b">\r\n" for a in rcpts))
    r.reply()
    assert r.reply()[-1].startswith(b"250 2.1.0")
    return r, r.replies(len(rcpts))


def bdat(chunk, last=False):
    return b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk


def test_bdat_one_chunk_last(env):
    """RFC 3030 §2: one BDAT LAST carries the whole message, stored as sent
    (no dot-unstuffing: a line "..x" stays "..x")."""
    user = env.new_user("bd")
    msg = body("bdat-one") + b"..not stuffed\r\n.\r\n"
    r, rc = transaction(env, [f"{user}@example.org"])
    assert codes(rc) == ["250 2.1.5"]
    r.send(bdat(msg, last=True))
    assert codes(r.replies(1)) == ["250 2.1.5"]
    r.close()
    assert messages(env, user) == [rp("s@example.net") + msg]


def test_bdat_several_chunks_and_zero_last(env):
    """RFC 3030 §2: one reply per chunk, the chunks concatenated, BDAT 0
    LAST as the end; a CR at a chunk's end and the LF at the next one's
    start are one CRLF."""
    user = env.new_user("bd")
    msg = body("bdat-chunks")
    parts = [msg[:10], msg[10:-1], msg[-1:]]   # the last chunk is "\n" after "\r"
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(b"".join(bdat(p) for p in parts) + b"BDAT 0 LAST\r\n")
    got = r.replies(4)
    assert codes(got[:3]) == ["250 2.0.0"] * 3
    assert got[0] == b"250 2.0.0 10 octets received"
    assert codes(got[3:]) == ["250 2.1.5"]
    r.close()
    assert messages(env, user) == [rp("s@example.net") + msg]


def test_bdat_last_one_reply_per_recipient(env):
    """RFC 2033 §4.2 with BDAT LAST: a reply for each accepted recipient, in
    RCPT order; the refused one gets none. The content is stored once."""
    u1, u2 = env.new_user("bd"), env.new_user("bd")
    msg = body("bdat-rcpts")
    r, rc = transaction(env, [f"{u1}@example.org", "nobody-bd@example.org", f"{u2}@example.org"])
    assert codes(rc) == ["250 2.1.5", "550 5.1.1", "250 2.1.5"]
    r.send(bdat(msg[:20]) + bdat(msg[20:], last=True) + b"NOOP\r\n")
    got = r.replies(4)
    assert codes(got) == ["250 2.0.0", "250 2.1.5", "250 2.1.5", "250 2.0.0"]
    assert f"<{u1}@example.org>".encode() in got[1] and f"<{u2}@example.org>".encode() in got[2]
    r.close()
    assert messages(env, u1) == messages(env, u2) == [rp("s@example.net") + msg]


def test_bdat_bare_lf_normalised(env):
    """docs/delivery.md: line ends are normalised for BDAT as for DATA."""
    user = env.new_user("bd")
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(bdat(b"Subject: lf\n\nline\n", last=True))
    assert codes(r.replies(1)) == ["250 2.1.5"]
    r.close()
    assert messages(env, user) == [rp("s@example.net") + b"Subject: lf\r\n\r\nline\r\n"]


def test_bdat_smuggled_dot_is_content(env):
    """RFC 3030 §2: only the chunk size delimits the message: a
    "\\r\\n.\\r\\nMAIL FROM..." inside a chunk is text of the one message."""
    user = env.new_user("bd")
    msg = (b"Subject: s\r\n\r\nbefore\r\n.\r\nMAIL FROM:<e@example.net>\r\n"
           + f"RCPT TO:<{user}@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n".encode())
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(bdat(msg, last=True) + b"NOOP\r\n")
    assert codes(r.replies(2)) == ["250 2.1.5", "250 2.0.0"]
    r.close()
    assert messages(env, user) == [rp("s@example.net") + msg]


def test_data_after_bdat_refused(env):
    """RFC 3030 §2: "DATA and BDAT commands cannot be used in the same
    transaction": 503, and the transaction is reset (docs/delivery.md)."""
    user = env.new_user("bd")
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(bdat(b"Subject: a\r\n") + b"DATA\r\nBDAT 0 LAST\r\nNOOP\r\n")
    assert codes(r.replies(4)) == ["250 2.0.0", "503 5.5.1", "503 5.5.1", "250 2.0.0"]
    r.close()
    assert messages(env, user) == []


def test_rcpt_after_bdat_refused(env):
    user = env.new_user("bd")
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(bdat(b"Subject: a\r\n\r\nb\r\n") + f"RCPT TO:<{user}@example.org>\r\n".encode()
           + bdat(b"", last=True))
    assert codes(r.replies(3)) == ["250 2.0.0", "503 5.5.1", "250 2.1.5"]
    r.close()
    assert messages(env, user) == [rp("s@example.net") + b"Subject: a\r\n\r\nb\r\n"]


def test_bdat_without_transaction_reads_the_chunk(env):
    """A refused BDAT's chunk is still read and thrown away (RFC 3030 §2),
    so its bytes are never taken for commands: a "NOOP" inside it gets no
    reply."""
    r = Raw(env)
    r.send(b"LHLO x\r\n")
    r.reply()
    r.send(bdat(b"NOOP\r\nNOOP\r\n") + b"MAIL FROM:<s@example.net>\r\n"
           + bdat(b"RSET\r\n", last=True) + b"QUIT\r\n")
    got = r.replies(4)
    assert codes(got) == ["503 5.5.1", "250 2.1.0", "503 5.5.1", "221 2.0.0"]
    r.close()


def test_bdat_after_last_is_a_new_transaction(env):
    """RFC 3030 §2: a BDAT after BDAT LAST is out of sequence: 503 (the
    transaction ended with LAST)."""
    user = env.new_user("bd")
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(bdat(b"Subject: a\r\n\r\n", last=True) + bdat(b"more", last=True) + b"NOOP\r\n")
    assert codes(r.replies(3)) == ["250 2.1.5", "503 5.5.1", "250 2.0.0"]
    r.close()
    assert len(messages(env, user)) == 1


def test_bdat_over_size_limit(env):
    """RFC 1870 / RFC 3463 X.3.4: a message over max_literal_size is read to
    its end and refused 552 5.3.4, per recipient at LAST; the session stays
    in step."""
    k = env.start_kairand(max_literal_size="2048")
    port = kairand_lmtp_port(k)
    user = env.new_user("bd")
    r, _ = transaction(env, [f"{user}@example.org"], port=port)
    r.send(bdat(b"x" * 1500) + bdat(b"y" * 1500) + bdat(b"z" * 10, last=True) + b"NOOP\r\n")
    assert codes(r.replies(4)) == ["250 2.0.0", "552 5.3.4", "552 5.3.4", "250 2.0.0"]
    # One chunk far over the limit: read (and dropped) to its end.
    r.send(b"MAIL FROM:<s@example.net>\r\n" + f"RCPT TO:<{user}@example.org>\r\n".encode()
           + bdat(b"w" * 300000, last=True) + b"NOOP\r\n")
    assert codes(r.replies(4)) == ["250 2.1.0", "250 2.1.5", "552 5.3.4", "250 2.0.0"]
    r.close()
    k.stop()
    assert messages(env, user) == []


def test_bdat_big_message_spooled(env):
    """A BDAT message over literal_spool_threshold goes through the spool
    (docs/delivery.md, "Big messages"), in chunks of any size, and comes
    back byte-identical."""
    k = env.start_kairand(literal_spool_threshold="65536")
    port = kairand_lmtp_port(k)
    user = env.new_user("bd")
    msg = b"Subject: big\r\n\r\n" + b"".join(b"line %06d " % i + b"x" * 60 + b"\r\n" for i in range(20000))
    r, _ = transaction(env, [f"{user}@example.org"], port=port)
    chunks = [msg[i:i + 99991] for i in range(0, len(msg), 99991)]
    r.send(b"".join(bdat(c) for c in chunks[:-1]))
    assert codes(r.replies(len(chunks) - 1)) == ["250 2.0.0"] * (len(chunks) - 1)
    r.send(bdat(chunks[-1], last=True))
    assert codes(r.replies(1)) == ["250 2.1.5"]
    r.close()
    k.stop()
    assert messages(env, user) == [rp("s@example.net") + msg]


@pytest.mark.parametrize("args,reply", [
    (b"BDAT\r\n", b"501 5.5.4"),
    (b"BDAT x\r\n", b"501 5.5.4"),
    (b"BDAT -1\r\n", b"501 5.5.4"),
    (b"BDAT 1 LAST x\r\n", b"501 5.5.4"),
    (b"BDAT 1  LAST\r\n", b"501 5.5.4"),
    (b"BDAT 1 FIRST\r\n", b"501 5.5.4"),
    (b"BDAT 1x\r\n", b"501 5.5.4"),
    (b"BDAT +5\r\n", b"501 5.5.4"),
    (b"BDAT 0x10\r\n", b"501 5.5.4"),
    (b"BDAT 99999999999999999999\r\n", b"501 5.5.4"),
    (b"BDAT " + b"9" * 1000 + b"\r\n", b"500 5.5.2"),
])
def test_bdat_malformed_size_ends_session(env, args, reply):
    """A chunk size that cannot be read leaves no way to find the chunk's
    end: the reply, then 421 and the end of the session (docs/delivery.md);
    a command line over the limit ends it as any other."""
    r = Raw(env)
    r.send(b"LHLO x\r\n" + args + b"NOOP\r\n")
    r.reply()
    assert r.reply()[-1].startswith(reply)
    if reply == b"501 5.5.4":
        assert r.reply()[-1].startswith(b"421 4.5.0")
    with pytest.raises((EOFError, OSError)):
        r.line()


def test_bdat_lowercase_last(env):
    user = env.new_user("bd")
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(b"bdat 3 last\r\nx\r\n")
    assert codes(r.replies(1)) == ["250 2.1.5"]
    r.close()
    assert messages(env, user) == [rp("s@example.net") + b"x\r\n"]


def test_bdat_nul_refused(env):
    user = env.new_user("bd")
    r, _ = transaction(env, [f"{user}@example.org"])
    r.send(bdat(b"Subject: n\r\n\r\na\0b\r\n", last=True) + b"NOOP\r\n")
    assert codes(r.replies(2)) == ["554 5.6.0", "250 2.0.0"]
    r.close()
    assert messages(env, user) == []


def test_bdat_chunk_in_small_pieces(env):
    """The chunk's bytes may come in any number of reads."""
    user = env.new_user("bd")
    msg = body("pieces")
    r, _ = transaction(env, [f"{user}@example.org"])
    data = bdat(msg, last=True)
    for i in range(0, len(data), 5):
        r.send(data[i:i + 5])
        time.sleep(0.001)
    assert codes(r.replies(1)) == ["250 2.1.5"]
    r.close()
    assert messages(env, user) == [rp("s@example.net") + msg]


# --- SMTPUTF8 (RFC 6531) ------------------------------------------------------

def test_smtputf8_sender_accepted(env):
    """RFC 6531 §3.4: with SMTPUTF8 a UTF-8 reverse-path is accepted, and
    Return-Path carries it as given."""
    user = env.new_user("u8")
    sender = "jos\u00e9@exampl\u00e9.net"
    r, rc = transaction(env, [f"{user}@example.org"], sender=sender, mail_params=b" SMTPUTF8")
    assert codes(rc) == ["250 2.1.5"]
    msg = "Subject: caf\u00e9\r\n\r\nb\r\n".encode()
    r.send(b"DATA\r\n")
    assert r.reply()[-1].startswith(b"354")
    r.send(msg + b".\r\n")
    assert codes(r.replies(1)) == ["250 2.1.5"]
    r.close()
    assert messages(env, user) == [f"Return-Path: <{sender}>\r\n".encode() + msg]


def test_smtputf8_recipient_accepted_then_looked_up(env):
    """A UTF-8 forward-path is accepted by the grammar with SMTPUTF8 and
    looked up like any other: nobody has it, 550 5.1.1 (not a syntax
    error)."""
    r, rc = transaction(env, ["d\u00f6rte@example.org"], mail_params=b" SMTPUTF8 BODY=8BITMIME")
    assert codes(rc) == ["550 5.1.1"]
    r.close()


@pytest.mark.parametrize("cmds,expected", [
    # RFC 6531 §3.7.4: without SMTPUTF8, a non-ASCII path is 553 5.6.7.
    ("MAIL FROM:<jos\u00e9@example.net>\r\n".encode(), ["553 5.6.7"]),
    (b"MAIL FROM:<s@example.net>\r\n" + "RCPT TO:<\u00e9@example.org>\r\n".encode(),
     ["250 2.1.0", "553 5.6.7"]),
    # SMTPUTF8 does not make malformed UTF-8 an address.
    (b"MAIL FROM:<\xc3@example.net> SMTPUTF8\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<\xc0\xafx@example.net> SMTPUTF8\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<\xed\xa0\x80@example.net> SMTPUTF8\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<s@example.net> SMTPUTF8\r\nRCPT TO:<\xff@example.org>\r\n", ["250 2.1.0", "501 5.1.3"]),
    (b"MAIL FROM:<s@example.net> SMTPUTF8=yes\r\n", ["555 5.5.4"]),
    # The flag is per transaction: RSET forgets it.
    (b"MAIL FROM:<s@example.net> SMTPUTF8\r\nRSET\r\nMAIL FROM:<s@example.net>\r\n"
     + "RCPT TO:<\u00e9@example.org>\r\n".encode(), ["250 2.1.0", "250 2.0.0", "250 2.1.0", "553 5.6.7"]),
    (b"MAIL FROM:<s@example.net> smtputf8\r\n", ["250 2.1.0"]),
])
def test_smtputf8_refusals(env, cmds, expected):
    expect_in_step(env, cmds, expected)
