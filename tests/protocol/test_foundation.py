"""Protocol tests for the "Foundation" issue: greeting, CAPABILITY, NOOP,
LOGOUT, LOGIN against LDAP, account provisioning, limits, concurrency,
shutdown. Each test asserts what a client sees on the wire.

References: RFC 3501 (IMAP4rev1), RFC 5530 (response codes
AUTHENTICATIONFAILED, UNAVAILABLE), TOOBIG from the IANA IMAP response code
registry (RFC 4469, RFC 7889).
"""

import imaplib
import os
import re
import signal
import threading
import time

import pytest

from imapclient import ServerClosed, connect, quote

AUTHFAILED = b"NO [AUTHENTICATIONFAILED]"
UNAVAILABLE = b"NO [UNAVAILABLE]"


def login_once(port, user, password, tag=b"a", timeout=None):
    """Opens a connection, sends LOGIN with the given raw argument bytes
    (already quoted if they need to be) and returns the tagged response."""
    with connect(port) as c:
        tagged, _ = c.cmd(tag, b"LOGIN " + user + b" " + password, timeout=timeout)
        return tagged


def caps_of(line):
    """Capability names, upper-cased (capability names are case-insensitive)."""
    return [w.upper() for w in line.split()]


# --------------------------------------------------------------------------
# Greeting, CAPABILITY, NOOP, LOGOUT


def test_greeting_is_ok_with_capability_code(env):
    """RFC 3501 §7.1.1 / §7.1: the greeting is an untagged OK; carrying a
    CAPABILITY response code saves the client a round trip."""
    with connect(env.imap_port) as c:
        m = re.match(rb"\* OK \[CAPABILITY ([^\]]*)\] .*", c.greeting)
        assert m, c.greeting
        assert b"IMAP4REV1" in caps_of(m.group(1)), c.greeting


def test_capability_rfc3501_6_1_1(env):
    """RFC 3501 §6.1.1: exactly one untagged CAPABILITY listing IMAP4rev1, then OK."""
    with connect(env.imap_port) as c:
        tagged, untagged = c.cmd("a", "CAPABILITY")
        caps = [u for u in untagged if u.startswith(b"* CAPABILITY ")]
        assert len(caps) == 1, untagged
        assert b"IMAP4REV1" in caps_of(caps[0])[2:], caps[0]
        assert tagged.startswith(b"a OK"), tagged


def test_noop_rfc3501_6_1_2(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "NOOP")
        assert tagged.startswith(b"a OK"), tagged


def test_logout_rfc3501_6_1_3_bye_then_ok_then_close(env):
    """RFC 3501 §6.1.3 and §7.1.5: untagged BYE, then the tagged OK, then
    the server closes the connection."""
    with connect(env.imap_port) as c:
        tagged, untagged = c.cmd("a", "LOGOUT")
        assert [u for u in untagged if u.startswith(b"* BYE")], untagged
        assert tagged.startswith(b"a OK"), tagged
        assert c.read_until_closed(timeout=5) == []


# --------------------------------------------------------------------------
# LOGIN (RFC 3501 §6.2.3) against the directory


def test_login_success_raw_rfc3501_6_2_3(env):
    assert login_once(env.imap_port, b"alice", b"secret").startswith(b"a OK")


def test_login_success_imaplib(env):
    m = imaplib.IMAP4("127.0.0.1", env.imap_port, timeout=10)
    try:
        typ, data = m.login("alice", "secret")   # imaplib sends the password quoted
        assert typ == "OK", data
    finally:
        m.logout()


def test_wrong_password_and_unknown_user_are_indistinguishable(env):
    """RFC 5530 §3 AUTHENTICATIONFAILED for both, with byte-identical text:
    the reply must not reveal whether the account exists."""
    wrong_pw = login_once(env.imap_port, b"alice", b"wrong")
    no_user = login_once(env.imap_port, b"nosuchuser", b"secret")
    assert wrong_pw.startswith(b"a " + AUTHFAILED), wrong_pw
    assert no_user.startswith(b"a " + AUTHFAILED), no_user
    assert wrong_pw == no_user


# Each of these would match alice (or everyone) if the login name were pasted
# into the LDAP filter unescaped: kairand must escape it (RFC 4515 §3).
FILTER_METACHARACTERS = [b"*", b"(", b")", b"\\", b"alice)(uid=*", b"*)(|(uid=*", b"al*"]


@pytest.mark.parametrize("login", FILTER_METACHARACTERS,
                         ids=[x.decode() for x in FILTER_METACHARACTERS])
def test_ldap_filter_metacharacters_in_login_fail(env, login):
    """Sent as quoted strings (RFC 3501 §4.3), with the right password."""
    tagged = login_once(env.imap_port, quote(login), b"secret")
    assert tagged.startswith(b"a " + AUTHFAILED), tagged


def test_nul_in_login_literal_fails(env):
    """A NUL inside a literal login (RFC 3501 §4.3 literal; the client waits
    for the "+" continuation, §7.5) must neither truncate the name to "ali"
    nor match alice."""
    with connect(env.imap_port) as c:
        c.send(b"a LOGIN {6}\r\n")
        c.expect_continuation()
        c.send(b"ali\x00ce secret\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a " + AUTHFAILED), tagged


def test_empty_password_refused_without_ldap_bind(env):
    """An empty password must be refused before any LDAP traffic: an LDAP
    simple bind with a DN and no password is an "unauthenticated bind"
    (RFC 4513 §5.1.2) that some servers accept. Proof: with slapd stopped
    the answer is still AUTHENTICATIONFAILED, not UNAVAILABLE."""
    assert login_once(env.imap_port, b"alice", b'""').startswith(b"a " + AUTHFAILED)
    env.slapd.stop()
    try:
        tagged = login_once(env.imap_port, b"alice", b'""')
        assert tagged.startswith(b"a " + AUTHFAILED), tagged
    finally:
        env.slapd.start()


def test_ldap_down_gives_unavailable_then_recovers(env):
    """RFC 5530 §3 UNAVAILABLE while the directory is down; kairand stays up
    and logins work again once slapd is back."""
    env.slapd.stop()
    try:
        tagged = login_once(env.imap_port, b"alice", b"secret")
        assert tagged.startswith(b"a " + UNAVAILABLE), tagged
    finally:
        env.slapd.start()
    deadline = time.monotonic() + 10
    while True:
        tagged = login_once(env.imap_port, b"alice", b"secret")
        if tagged.startswith(b"a OK") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert tagged.startswith(b"a OK"), tagged
    assert env.kairand.running


def test_account_row_provisioned_once_on_first_login(env):
    """The accounts row appears at first login and is not duplicated.
    carol logs in nowhere else in this session, so this is her first login."""
    def rows(login):
        return int(env.pg.psql(f"SELECT count(*) FROM accounts WHERE login = '{login}'"))
    assert rows("carol") == 0
    assert login_once(env.imap_port, b"carol", b"secret").startswith(b"a OK")
    assert rows("carol") == 1
    assert login_once(env.imap_port, b"carol", b"secret").startswith(b"a OK")
    assert rows("carol") == 1
    # alice has logged in many times by now, still one row.
    assert login_once(env.imap_port, b"alice", b"secret").startswith(b"a OK")
    assert rows("alice") == 1


# --------------------------------------------------------------------------
# Startup failure, limits, concurrency, shutdown


def test_postgres_unreachable_at_start_exits_with_one_line(env):
    """kairand cannot work without its store: it exits non-zero at once with
    a single, clear line on stderr (not a libpq multi-line dump, not a hang)."""
    nowhere = os.path.join(env.root, "no-postgres-here")
    os.makedirs(nowhere, exist_ok=True)
    status, err = env.kairand_must_fail(
        db_dsn=f"host={nowhere} port=5432 dbname=kairan user=kairan", timeout=10)
    assert status is not None, f"kairand still running after 10 s; stderr: {err!r}"
    assert status != 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "postgresql" in lines[0].lower(), err


def test_line_too_long_gets_bad_toobig_and_session_survives(env):
    """max_line_length = 65536: a longer command line gets a tagged BAD with
    [TOOBIG], and the server resynchronises at the CRLF. Done after LOGIN so
    that a stricter limit before authentication does not apply."""
    with connect(env.imap_port, timeout=30) as c:
        assert c.cmd("l", "LOGIN alice secret")[0].startswith(b"l OK")
        c.send(b"a NOOP " + b"x" * 70000 + b"\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a BAD"), tagged[:200]
        assert b"[TOOBIG]" in tagged, tagged[:200]
        tagged, _ = c.cmd("b", "NOOP")
        assert tagged.startswith(b"b OK"), tagged[:200]

        # 2 MB without CRLF: the server must discard, not buffer, then answer.
        c.send(b"c NOOP " + b"x" * (2 * 1024 * 1024) + b"\r\n")
        tagged, _ = c.read_tagged("c")
        assert tagged.startswith(b"c BAD"), tagged[:200]
        tagged, _ = c.cmd("d", "NOOP")
        assert tagged.startswith(b"d OK"), tagged[:200]


def test_200_concurrent_logins(env):
    """200 connections open at once, then all LOGIN and LOGOUT together."""
    n = 200
    barrier = threading.Barrier(n)
    results = [None] * n

    def client(i):
        try:
            with connect(env.imap_port, timeout=60) as c:
                barrier.wait(timeout=60)
                login, _ = c.cmd(f"a{i}", "LOGIN alice secret")
                logout, untagged = c.cmd(f"b{i}", "LOGOUT")
                results[i] = (login, logout)
        except Exception as e:  # reported below, per client
            results[i] = e
            barrier.abort()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    bad = [(i, r) for i, r in enumerate(results)
           if not (isinstance(r, tuple) and r[0].startswith(f"a{i} OK".encode())
                   and r[1].startswith(f"b{i} OK".encode()))]
    assert not bad, f"{len(bad)} of {n} clients failed, e.g. {bad[:3]}"


def test_sigterm_says_bye_to_every_session_and_exits_0(env):
    """RFC 3501 §7.1.5: a server closing the connection sends BYE first.
    On SIGTERM both a not-authenticated and an authenticated session get
    "* BYE" as their last line, and kairand exits 0."""
    k = env.start_kairand()
    anon = connect(k.imap_port)
    authed = connect(k.imap_port)
    try:
        assert authed.cmd("a", "LOGIN alice secret")[0].startswith(b"a OK")
        os.kill(k.pid, signal.SIGTERM)
        for name, c in (("not authenticated", anon), ("authenticated", authed)):
            lines = c.read_until_closed(timeout=10)
            assert lines and lines[-1].startswith(b"* BYE"), (name, lines)
        assert k.wait(timeout=10) == 0, k.log_text()[-2000:]
    finally:
        anon.close()
        authed.close()
        k.stop()


# --------------------------------------------------------------------------
# Command handling


def test_unknown_command_is_bad_rfc3501_7_1_3(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "FROBNICATE")
        assert tagged.startswith(b"a BAD"), tagged
        # The session goes on.
        assert c.cmd("b", "NOOP")[0].startswith(b"b OK")


def test_login_when_authenticated_is_bad_rfc3501_6_2_3(env):
    """LOGIN is valid only in the not-authenticated state (RFC 3501 §3, §6.2)."""
    with connect(env.imap_port) as c:
        assert c.cmd("a", "LOGIN alice secret")[0].startswith(b"a OK")
        tagged, _ = c.cmd("b", "LOGIN bob secret")
        assert tagged.startswith(b"b BAD"), tagged


def test_pipelined_commands_answered_in_order_rfc3501_5_5(env):
    """Commands sent in one write are all executed and completed in order
    (RFC 3501 §5.5; kairand runs one command per session at a time)."""
    with connect(env.imap_port) as c:
        c.send(b"a NOOP\r\nb CAPABILITY\r\nc NOOP\r\n")
        seen = []
        while len([s for s in seen if not s.startswith(b"*")]) < 3:
            try:
                seen.append(c.read_response())
            except ServerClosed:
                break
        tagged = [s.split(b" ", 2)[:2] for s in seen if not s.startswith(b"*")]
        assert tagged == [[b"a", b"OK"], [b"b", b"OK"], [b"c", b"OK"]], seen
        # The CAPABILITY data belongs to b: between a's and b's completion.
        cap = [i for i, s in enumerate(seen) if s.startswith(b"* CAPABILITY")]
        ia = next(i for i, s in enumerate(seen) if s.startswith(b"a "))
        ib = next(i for i, s in enumerate(seen) if s.startswith(b"b "))
        assert len(cap) == 1 and ia < cap[0] < ib, seen
