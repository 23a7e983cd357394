"""LMTP delivery (RFC 2033) over the wire: smtplib.LMTP and raw sockets
against the harness's kairand, every delivery read back over IMAP
(docs/delivery.md).

RFC 2033 §4.2: after the final dot, one reply per accepted recipient.
RFC 5321 §4.1.1.4: the data ends at CRLF "." CRLF; §4.5.2: dot-stuffing.
RFC 3463: enhanced status codes (X.1.1 unknown mailbox, X.5.1 bad sequence,
X.3.4 too big, X.4.3 directory failure, X.5.3 too many recipients)."""

import re
import smtplib
import socket
import time

import pytest

from imapclient import login, ok
from lmtpclient import Raw, body, codes, expect_in_step, lmtp_port, messages, rp, send_raw
from test_idle import start_idle, wait_for


# --- delivery -------------------------------------------------------------

def test_lhlo_advertises(env):
    """RFC 2033 §4.1 LHLO; RFC 2920 PIPELINING, RFC 2034 ENHANCEDSTATUSCODES,
    RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 3030 CHUNKING, RFC 1870 SIZE
    with the limit."""
    r = Raw(env)
    r.send(b"LHLO client.example\r\n")
    lines = r.reply()
    assert lines[0].startswith(b"250-")
    assert [x[4:] for x in lines[1:-1]] == [
        b"PIPELINING", b"ENHANCEDSTATUSCODES", b"8BITMIME", b"SMTPUTF8", b"CHUNKING"]
    assert re.fullmatch(rb"250 SIZE [1-9][0-9]*", lines[-1])
    r.close()


def test_deliver_one_byte_identical(env):
    user = env.new_user("lm")
    msg = body("one")
    with smtplib.LMTP("127.0.0.1", lmtp_port(env)) as s:
        refused = s.sendmail("sender@example.net", [f"{user}@example.org"], msg)
    assert refused == {}
    assert messages(env, user) == [rp("sender@example.net") + msg]


def test_deliver_several_single_instance(env):
    users = [env.new_user("lm") for _ in range(3)]
    msg = body("several")
    # smtplib reads one reply after DATA, not one per recipient (RFC
    # 2033 §4.2): several recipients go over a raw connection.
    rc, out = send_raw(env, "s@example.net", [f"{u}@example.org" for u in users], msg + b".\r\n")
    assert codes(out) == ["250 2.1.5"] * 3
    for u in users:
        assert messages(env, u) == [rp("s@example.net") + msg]


def test_null_sender(env):
    user = env.new_user("lm")
    rc, out = send_raw(env, "", [f"{user}@example.org"], body("bounce") + b".\r\n")
    assert out[0].startswith(b"250 2.1.5")
    assert messages(env, user) == [b"Return-Path: <>\r\n" + body("bounce")]


def test_unknown_recipient_others_delivered(env):
    u1, u2 = env.new_user("lm"), env.new_user("lm")
    rc, out = send_raw(env, "s@example.net",
                       [f"{u1}@example.org", "nobody-here@example.org", f"{u2}@example.org"],
                       body("unknown") + b".\r\n")
    assert codes(rc) == ["250 2.1.5", "550 5.1.1", "250 2.1.5"]
    # RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
    assert codes(out) == ["250 2.1.5", "250 2.1.5"]
    assert f"<{u1}@example.org>".encode() in out[0] and f"<{u2}@example.org>".encode() in out[1]
    assert len(messages(env, u1)) == 1 and len(messages(env, u2)) == 1


def test_detail_existing_folder(env):
    user = env.new_user("lm")
    c = login(env.imap_port, user)
    ok(c, "CREATE Lists")
    c.close()
    rc, out = send_raw(env, "s@example.net", [f"{user}+Lists@example.org"], body("det") + b".\r\n")
    assert codes(out) == ["250 2.1.5"]
    assert messages(env, user, "Lists") == [rp("s@example.net") + body("det")]
    assert messages(env, user) == []


def test_detail_missing_folder_goes_to_inbox(env):
    user = env.new_user("lm")
    rc, out = send_raw(env, "s@example.net", [f"{user}+nosuch@example.org"], body("miss") + b".\r\n")
    assert codes(out) == ["250 2.1.5"]
    assert messages(env, user) == [rp("s@example.net") + body("miss")]


def test_same_mailbox_twice_stored_once(env):
    user = env.new_user("lm")
    rc, out = send_raw(env, "s@example.net", [f"{user}@example.org", f"{user.upper()}@example.org"],
                       body("twice") + b".\r\n")
    assert codes(out) == ["250 2.1.5", "250 2.1.5"]
    assert len(messages(env, user)) == 1


def test_pipelining_one_write(env):
    """RFC 2920 / RFC 2033 §4.2: every command in one write."""
    u1, u2 = env.new_user("lm"), env.new_user("lm")
    r = Raw(env)
    r.send(b"LHLO x\r\nMAIL FROM:<p@example.net>\r\n"
           + f"RCPT TO:<{u1}@example.org>\r\nRCPT TO:<bad-{u1}@example.org>\r\n".encode()
           + f"RCPT TO:<{u2}@example.org>\r\nDATA\r\n".encode()
           + body("pipe") + b".\r\nQUIT\r\n")
    r.reply()
    got = r.replies(8)
    assert [g[:3] for g in got] == [b"250", b"250", b"550", b"250", b"354", b"250", b"250", b"221"]
    assert messages(env, u1) == [rp("p@example.net") + body("pipe")]
    assert messages(env, u2) == [rp("p@example.net") + body("pipe")]


def test_two_transactions_and_rset(env):
    user = env.new_user("lm")
    r = Raw(env)
    r.send(b"LHLO x\r\nMAIL FROM:<a@example.net>\r\n" + f"RCPT TO:<{user}@example.org>\r\n".encode()
           + b"RSET\r\nDATA\r\n")
    r.reply()
    got = r.replies(4)
    assert codes(got) == ["250 2.1.0", "250 2.1.5", "250 2.0.0", "503 5.5.1"]
    r.send(b"MAIL FROM:<b@example.net>\r\n" + f"RCPT TO:<{user}@example.org>\r\nDATA\r\n".encode())
    assert [g[:3] for g in r.replies(3)] == [b"250", b"250", b"354"]
    r.send(body("after-rset") + b".\r\n")
    assert r.reply()[-1].startswith(b"250 2.1.5")
    assert messages(env, user) == [rp("b@example.net") + body("after-rset")]


def test_dot_stuffing(env):
    user = env.new_user("lm")
    data = b"Subject: dots\r\n\r\n..leading\r\n...two\r\n.\r\n"
    send_raw(env, "s@example.net", [f"{user}@example.org"], data)
    assert messages(env, user) == [rp("s@example.net") + b"Subject: dots\r\n\r\n.leading\r\n..two\r\n"]


def test_bare_lf_normalised(env):
    user = env.new_user("lm")
    send_raw(env, "s@example.net", [f"{user}@example.org"],
             b"Subject: lf\n\nline one\nline two\r\n.\r\n")
    assert messages(env, user) == [rp("s@example.net") + b"Subject: lf\r\n\r\nline one\r\nline two\r\n"]


def test_bare_cr_kept(env):
    user = env.new_user("lm")
    send_raw(env, "s@example.net", [f"{user}@example.org"], b"Subject: cr\r\n\r\na\rb\r\n.\r\n")
    assert messages(env, user) == [rp("s@example.net") + b"Subject: cr\r\n\r\na\rb\r\n"]


# --- smuggling (CVE-2023-51764 class) ---------------------------------------
# docs/delivery.md, "Smuggling": only CRLF "." CRLF ends the data; each
# look-alike stays in the one message, its line ends made CRLF and its lone
# "." kept. The "smuggled" second message must never be delivered apart.

SMUGGLED = b"MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: smuggled\r\n"

SMUGGLING = [
    ("lf-dot-lf", b"\n.\n", b"\r\n.\r\n"),
    ("cr-dot-lf", b"\r.\n", b"\r.\r\n"),
    ("lf-dot-crlf", b"\n.\r\n", b"\r\n.\r\n"),
    ("crlf-dot-lf", b"\r\n.\n", b"\r\n.\r\n"),
    ("crlf-dot-cr-crlf", b"\r\n.\r\r\n", b"\r\n\r\r\n"),
    ("cr-dot-cr", b"\r.\r", b"\r.\r"),
    ("lf-dot-cr", b"\n.\r", b"\r\n\r"),
    ("crlf-dot-space-crlf", b"\r\n. \r\n", b"\r\n \r\n"),
]


@pytest.mark.parametrize("name,seq,stored", SMUGGLING, ids=[s[0] for s in SMUGGLING])
def test_smuggling_one_message(env, name, seq, stored):
    user = env.new_user("sm")
    head = b"Subject: smuggle\r\n\r\nbefore"
    tail = SMUGGLED.replace(b"victim", user.encode()) + b"\r\nafter\r\n.\r\n"
    rc, out = send_raw(env, "s@example.net", [f"{user}@example.org"], head + seq + tail)
    assert codes(out) == ["250 2.1.5"]
    got = messages(env, user)
    assert len(got) == 1, got
    assert got[0] == rp("s@example.net") + b"Subject: smuggle\r\n\r\nbefore" + stored + tail[:-3]


def test_smuggling_lone_dot_lf_at_start(env):
    user = env.new_user("sm")
    send_raw(env, "s@example.net", [f"{user}@example.org"], b".\nSubject: x\r\n\r\nb\r\n.\r\n")
    assert messages(env, user) == [rp("s@example.net") + b".\r\nSubject: x\r\n\r\nb\r\n"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_data_split_in_pieces(env, chunk):
    """The decoder keeps its state across reads: the same message sent in
    small pieces is stored the same."""
    user = env.new_user("pc")
    data = b"Subject: pieces\r\n\r\n..a\nb\r.\n.\r\nx\r\n.\r\n"
    r = Raw(env)
    r.send(b"LHLO x\r\nMAIL FROM:<s@example.net>\r\n" + f"RCPT TO:<{user}@example.org>\r\nDATA\r\n".encode())
    r.reply()
    r.replies(3)
    for i in range(0, len(data), chunk):
        r.send(data[i:i + chunk])
        time.sleep(0.002)
    assert r.reply()[-1].startswith(b"250 2.1.5")
    r.close()
    assert messages(env, user) == [rp("s@example.net") + b"Subject: pieces\r\n\r\n.a\r\nb\r.\r\n.\r\nx\r\n"]


# --- refusals ---------------------------------------------------------------

def test_nul_refused(env):
    user = env.new_user("nul")
    rc, out = send_raw(env, "s@example.net", [f"{user}@example.org"], b"Subject: n\r\n\r\na\0b\r\n.\r\n")
    assert codes(out) == ["554 5.6.0"]
    assert messages(env, user) == []


def test_too_big_read_to_end(env):
    k = env.start_kairand(max_literal_size="2048")
    user = env.new_user("big")
    s = socket.create_connection(("127.0.0.1", int(k.config["lmtp_listen"].rsplit(":", 1)[1])), timeout=10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"LHLO x\r\nMAIL FROM:<s@example.net>\r\n" + f"RCPT TO:<{user}@example.org>\r\nDATA\r\n".encode())
    lines = [f.readline() for _ in range(7 + 3)]  # LHLO (7 lines), MAIL, RCPT, DATA
    assert lines[-1].startswith(b"354")
    s.sendall(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 1 + (b"y" * 998 + b"\r\n") * 200 + b".\r\nNOOP\r\n")
    assert f.readline().startswith(b"552 5.3.4")
    assert f.readline().startswith(b"250 2.0.0")  # the stream is in step after the refusal
    s.close()
    k.stop()
    assert messages(env, user) == []


def test_size_parameter(env):
    r = Raw(env)
    r.send(b"LHLO x\r\nMAIL FROM:<s@example.net> SIZE=99999999999\r\n"
           b"MAIL FROM:<s@example.net> SIZE=12x\r\nMAIL FROM:<s@example.net> SIZE=100 BODY=8BITMIME\r\n")
    r.reply()
    assert codes(r.replies(3)) == ["552 5.3.4", "501 5.5.4", "250 2.1.0"]
    r.close()


def test_too_many_recipients(env):
    k = env.start_kairand(lmtp_max_recipients="2")
    port = int(k.config["lmtp_listen"].rsplit(":", 1)[1])
    users = [env.new_user("many") for _ in range(3)]
    with smtplib.LMTP("127.0.0.1", port) as s:
        s.ehlo("x")
        s.mail("s@example.net")
        got = [s.rcpt(f"{u}@example.org") for u in users]
    k.stop()
    assert [g[0] for g in got] == [250, 250, 452]
    assert got[2][1].startswith(b"4.5.3")


def test_directory_outage_is_temporary(env):
    k = env.start_kairand(ldap_uri="ldap://127.0.0.1:1", ldap_timeout="1")
    port = int(k.config["lmtp_listen"].rsplit(":", 1)[1])
    with smtplib.LMTP("127.0.0.1", port) as s:
        s.ehlo("x")
        s.mail("s@example.net")
        code, text = s.rcpt("someone@example.org")
    k.stop()
    assert code == 451 and text.startswith(b"4.4.3")


def test_line_too_long_closes(env):
    r = Raw(env)
    r.send(b"NOOP " + b"a" * 5000 + b"\r\n")
    assert r.reply()[-1].startswith(b"500 5.5.2")
    with pytest.raises((EOFError, OSError)):
        r.line()


def test_too_many_errors_close(env):
    r = Raw(env)
    r.send(b"BOGUS\r\n" * 30)
    got = [r.reply()[-1] for _ in range(21)]
    assert got[-1].startswith(b"421 4.7.0")
    with pytest.raises((EOFError, OSError)):
        r.line()


HOSTILE = [
    # (commands after LHLO, expected reply codes): RFC 5321 §4.3.2 sequences
    (b"RCPT TO:<a@example.org>\r\n", ["503 5.5.1"]),
    (b"DATA\r\n", ["503 5.5.1"]),
    (b"MAIL FROM:<s@example.net>\r\nDATA\r\n", ["250 2.1.0", "503 5.5.1"]),
    (b"MAIL FROM:<s@example.net>\r\nMAIL FROM:<s@example.net>\r\n", ["250 2.1.0", "503 5.5.1"]),
    (b"MAIL FROM:s@example.net\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<s@example.net\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<noat>\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<a b@example.net>\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<" + b"a" * 300 + b"@example.net>\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<s@example.net> FOO=BAR\r\n", ["555 5.5.4"]),
    (b"MAIL FROM:<s@example.net> SIZE=\r\n", ["555 5.5.4"]),
    (b"MAIL FROM:<s@example.net> SIZE=-1\r\n", ["501 5.5.4"]),
    (b"MAIL FROM:<s@example.net>SIZE=1\r\n", ["501 5.5.4"]),
    (b"MAIL TO:<s@example.net>\r\n", ["501 5.1.7"]),
    (b"MAIL\r\n", ["501 5.1.7"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<>\r\n", ["250 2.1.0", "501 5.1.3"]),
    # RFC 5321 Appendix C: a source route is ignored; the mailbox is looked up.
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<@a,@b:x@example.org>\r\n", ["250 2.1.0", "550 5.1.1"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:x@example.org\r\n", ["250 2.1.0", "501 5.1.3"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<x@>\r\n", ["250 2.1.0", "501 5.1.3"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<x@example.org> NOTIFY=NEVER\r\n", ["250 2.1.0", "555 5.5.4"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<\xc3\xa9@example.org>\r\n", ["250 2.1.0", "553 5.6.7"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<postmaster>\r\n", ["250 2.1.0", "501 5.1.3"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<nobody@example.org>\r\n", ["250 2.1.0", "550 5.1.1"]),
    (b"MAIL FROM:<s@example.net>\r\nRCPT TO:<nobody+x@example.org>\r\n", ["250 2.1.0", "550 5.1.1"]),
    (b"HELO x\r\n", ["500 5.5.1"]),
    (b"EHLO x\r\n", ["500 5.5.1"]),
    (b"LHLO\r\n", ["501 5.5.4"]),
    (b"VRFY alice\r\n", ["252 2.5.2"]),
    (b"EXPN list\r\n", ["502 5.5.1"]),
    (b"BDAT 0 LAST\r\n", ["503 5.5.1"]),
    (b"STARTTLS\r\n", ["502 5.5.1"]),
    (b"XYZZY\r\n", ["500 5.5.2"]),
    (b"\r\n", ["500 5.5.2"]),
    (b"NOOP\0x\r\n", ["500 5.5.2"]),
    (b"NO\rOP\r\n", ["500 5.5.2"]),
    (b"noop\r\n", ["250 2.0.0"]),
    (b"NOOP\n", ["250 2.0.0"]),
    (b"rset\r\n", ["250 2.0.0"]),
    (b"DATA x\r\n", ["501 5.5.4"]),
    (b"mail from:<S@EXAMPLE.NET>\r\nRSET\r\nRCPT TO:<a@example.org>\r\n", ["250 2.1.0", "250 2.0.0", "503 5.5.1"]),
]


@pytest.mark.parametrize("cmds,expected", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile(env, cmds, expected):
    expect_in_step(env, cmds, expected)


def test_mail_before_lhlo(env):
    r = Raw(env)
    r.send(b"MAIL FROM:<s@example.net>\r\n")
    assert r.reply()[-1].startswith(b"503 5.5.1")


def test_unix_socket(env, tmp_path):
    """lmtp_socket: the same LMTP on a Unix socket (Postfix's
    lmtp:unix:...); a stale socket file is replaced at start, a live one
    is not taken over, a regular file is never removed."""
    path = str(tmp_path / "lmtp.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # the file stays, nobody listens: stale
    k = env.start_kairand(lmtp_socket=path)
    user = env.new_user("unix")
    with smtplib.LMTP(path) as s:
        assert s.sendmail("u@example.net", [f"{user}@example.org"], body("unix")) == {}
    assert messages(env, user) == [rp("u@example.net") + body("unix")]
    status, err = env.kairand_must_fail(lmtp_socket=path)
    assert status not in (None, 0) and "another process listens there" in err, err
    k.stop()
    plain = str(tmp_path / "plain")
    open(plain, "w").close()
    status, err = env.kairand_must_fail(lmtp_socket=plain)
    assert status not in (None, 0) and "not a socket" in err, err
    status, err = env.kairand_must_fail(lmtp_socket="relative.sock")
    assert status not in (None, 0) and "absolute path" in err, err
    status, err = env.kairand_must_fail(lmtp_detail_delimiter="+-")
    assert status not in (None, 0) and "one character" in err, err


# --- IDLE -------------------------------------------------------------------

def test_idle_sees_delivery(env):
    user = env.new_user("idle")
    c = login(env.imap_port, user)
    ok(c, "SELECT INBOX")
    start_idle(c)
    t0 = time.monotonic()
    with smtplib.LMTP("127.0.0.1", lmtp_port(env)) as s:
        assert s.sendmail("s@example.net", [f"{user}@example.org"], body("idle")) == {}
    wait_for(c, rb"^\* 1 EXISTS", timeout=2.0)
    assert time.monotonic() - t0 < 2.0
    c.send("DONE\r\n")
    c.close()
