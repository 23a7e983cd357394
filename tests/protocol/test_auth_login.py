"""AUTHENTICATE LOGIN (the SASL LOGIN mechanism, draft-murchison-sasl-login):
the server asks "Username:" and "Password:" in base64, the client answers
each in base64 (RFC 3501 §6.2.2), the username may come as the SASL-IR
initial response (RFC 4959). Same plaintext policy as PLAIN and LOGIN."""

import base64

import pytest

from imapclient import connect

USERNAME = b"+ VXNlcm5hbWU6"     # base64("Username:")
PASSWORD = b"+ UGFzc3dvcmQ6"     # base64("Password:")
# A password nobody else uses, to look for in the log.
SECRET_WRONG = "Wr0ng-pa55-n0t-in-l0g"


def b64(raw):
    return base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode()


def test_draft_sasl_login_is_advertised_beside_plain(env):
    with connect(env.imap_port) as c:
        assert b"AUTH=PLAIN" in c.greeting and b"AUTH=LOGIN" in c.greeting
        _, u = c.cmd("c", "CAPABILITY")
        assert b"AUTH=LOGIN" in u[0]


def test_rfc3501_6_2_2_authenticate_login_two_challenges(env):
    with connect(env.imap_port) as c:
        c.send(b"a AUTHENTICATE LOGIN\r\n")
        assert c.expect_continuation() == USERNAME
        c.send(b64("alice").encode() + b"\r\n")
        assert c.expect_continuation() == PASSWORD
        c.send(b64("secret").encode() + b"\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a OK [CAPABILITY "), tagged
        assert b"AUTH=" not in tagged
        assert c.cmd("s", "SELECT INBOX")[0].startswith(b"s OK")


def test_rfc4959_authenticate_login_initial_response_is_the_username(env):
    with connect(env.imap_port) as c:
        c.send(f"a authenticate login {b64('alice')}\r\n".encode())
        assert c.expect_continuation() == PASSWORD
        c.send(b64("secret").encode() + b"\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a OK"), tagged


@pytest.mark.parametrize("at", ["username", "password"])
def test_rfc3501_6_2_2_authenticate_login_star_cancels(env, at):
    with connect(env.imap_port) as c:
        c.send(b"a AUTHENTICATE LOGIN\r\n")
        c.expect_continuation()
        if at == "password":
            c.send(b64("alice").encode() + b"\r\n")
            c.expect_continuation()
        c.send(b"*\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a BAD"), tagged
        assert c.cmd("b", "NOOP")[0].startswith(b"b OK")
        assert c.cmd("s", "SELECT INBOX")[0].startswith(b"s BAD")   # not logged in


@pytest.mark.parametrize("user,password", [
    ("!!!!", b64("secret")), (b64("alice"), "!!!!"), ("Zg", b64("secret")),
    (b64("alice"), "c2VjcmV0 "), (b64("al\0ice"), b64("secret")), (b64("alice"), b64("se\0cret")),
])
def test_authenticate_login_bad_base64_or_nul_is_bad(env, user, password):
    with connect(env.imap_port) as c:
        c.send(b"a AUTHENTICATE LOGIN\r\n")
        c.expect_continuation()
        c.send(user.encode() + b"\r\n")
        line = c.readline().rstrip(b"\r\n")
        if line.startswith(b"a "):         # refused at the username
            tagged = line
        else:
            assert line == PASSWORD
            c.send(password.encode() + b"\r\n")
            tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a BAD"), tagged
        assert c.cmd("b", "NOOP")[0].startswith(b"b OK")


def test_authenticate_login_bad_initial_response(env):
    with connect(env.imap_port) as c:
        for text in ("AUTHENTICATE LOGIN !!!!", 'AUTHENTICATE LOGIN "YWxpY2U="',
                     f"AUTHENTICATE LOGIN {b64('alice')} extra"):
            tagged, _ = c.cmd("a", text)
            assert tagged.startswith(b"a BAD"), (text, tagged)


def test_authenticate_login_over_long_lines_are_toobig(env):
    with connect(env.imap_port) as c:
        c.send(b"a AUTHENTICATE LOGIN\r\n")
        c.expect_continuation()
        c.send(b"QUFB" * 50000 + b"\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a BAD [TOOBIG]"), tagged
        c.send(b"b AUTHENTICATE LOGIN\r\n")
        c.expect_continuation()
        c.send(b64("alice").encode() + b"\r\n")
        c.expect_continuation()
        c.send(b"QUFB" * 50000 + b"\r\n")
        tagged, _ = c.read_tagged("b")
        assert tagged.startswith(b"b BAD [TOOBIG]"), tagged
        assert c.cmd("n", "NOOP")[0].startswith(b"n OK")


def test_authenticate_login_wrong_password_fails_and_is_not_logged(env):
    with connect(env.imap_port) as c:
        c.send(f"a AUTHENTICATE LOGIN {b64('alice')}\r\n".encode())
        c.expect_continuation()
        c.send(b64(SECRET_WRONG).encode() + b"\r\n")
        tagged, _ = c.read_tagged("a", timeout=30)
        assert tagged.startswith(b"a NO [AUTHENTICATIONFAILED]"), tagged
    log = env.kairand.log_text()
    assert SECRET_WRONG not in log and b64(SECRET_WRONG) not in log
    assert b64("secret") not in log


def test_authenticate_login_refused_without_tls_like_plain(env):
    k = env.start_kairand(trust_loopback="no")
    try:
        with connect(k.imap_port) as c:
            assert b"LOGINDISABLED" in c.greeting and b"AUTH=LOGIN" not in c.greeting
            tagged, _ = c.cmd("a", "AUTHENTICATE LOGIN")     # no challenge first
            assert tagged.startswith(b"a NO [PRIVACYREQUIRED]"), tagged
            tagged, _ = c.cmd("b", f"AUTHENTICATE LOGIN {b64('alice')}")
            assert tagged.startswith(b"b NO [PRIVACYREQUIRED]"), tagged
            assert c.starttls("s").startswith(b"s OK")
            _, u = c.cmd("c", "CAPABILITY")
            assert b"AUTH=LOGIN" in u[0]
            c.send(f"d AUTHENTICATE LOGIN {b64('alice')}\r\n".encode())
            assert c.expect_continuation() == PASSWORD
            c.send(b64("secret").encode() + b"\r\n")
            assert c.read_tagged("d")[0].startswith(b"d OK")
    finally:
        k.stop()
