"""Non-synchronising literals (RFC 7888). kairand advertises LITERAL- by
default (IMAP4rev2 requires it), or LITERAL+ with `literal_plus = yes`,
never both, and holds to what it advertised: with LITERAL- a `{n+}` of
more than 4096 bytes is `BAD [TOOBIG]` (§4), its data is read and
discarded, and the session goes on.

The shared test kairand runs with literal_plus = yes (tests/conftest.py);
these tests start one with the default."""

import pytest

from imapclient import connect, login, ok

LIMIT = 4096


@pytest.fixture(scope="module")
def minus(env):
    """A kairand with the default configuration for literals."""
    k = env.start_kairand(literal_plus="no")
    yield k
    k.stop()


def message(size):
    head = b"From: a@example.org\r\nSubject: sized\r\n\r\n"
    return head + b"x" * (size - len(head))


def count(c, mailbox="INBOX"):
    out = ok(c, f"STATUS {mailbox} (MESSAGES)", "st")
    return int(out[0].rsplit(b" ", 1)[1].rstrip(b")"))


def caps(c):
    return ok(c, "CAPABILITY", "cap")[0].split()


def test_rfc7888_literal_minus_is_advertised_alone(env, minus):
    with connect(minus.imap_port) as c:
        assert b"LITERAL-" in caps(c) and b"LITERAL+" not in caps(c)
        assert b"LITERAL-" in c.greeting.split()
    user = env.new_user("lit")
    c = login(minus.imap_port, user)
    assert b"LITERAL-" in caps(c) and b"LITERAL+" not in caps(c)
    c.close()


def test_rfc7888_4_up_to_4096_bytes_without_continuation(env, minus):
    user = env.new_user("lit")
    c = login(minus.imap_port, user)
    raw = message(LIMIT)
    c.send(b"a APPEND INBOX {%d+}\r\n" % len(raw) + raw + b"\r\n")
    tagged, others = c.read_tagged("a")
    assert tagged.startswith(b"a OK"), tagged
    assert not any(o.startswith(b"+") for o in others), others
    assert count(c) == 1
    c.close()


def test_rfc7888_4_over_4096_bytes_is_bad_toobig_and_skipped(env, minus):
    """The refused literal's data holds what looks like commands: they are
    discarded with it, never run; the next command is answered."""
    user = env.new_user("lit")
    c = login(minus.imap_port, user)
    inner = b"\r\nx1 LOGOUT\r\nx2 CREATE Injected\r\n"
    raw = message(LIMIT + 1 - len(inner)) + inner
    assert len(raw) == LIMIT + 1
    c.send(b"a APPEND INBOX {%d+}\r\n" % len(raw) + raw + b" {3+}\r\nabc\r\nb NOOP\r\n")
    tagged, others = c.read_tagged("a")
    assert tagged.startswith(b"a BAD [TOOBIG]"), tagged
    tagged, others = c.read_tagged("b")
    assert tagged.startswith(b"b OK"), (tagged, others)
    assert not any(o.startswith(b"* BYE") or o.startswith(b"x") for o in others), others
    assert count(c) == 0
    assert ok(c, 'LIST "" "Injected"') == []
    # The same message goes in with a synchronising literal.
    c.send(b"s APPEND INBOX {%d}\r\n" % len(raw))
    c.expect_continuation()
    c.send(raw + b"\r\n")
    tagged, _ = c.read_tagged("s")
    assert tagged.startswith(b"s OK"), tagged
    assert count(c) == 1
    c.close()


def test_rfc7888_4_limit_applies_before_login(env, minus):
    user = env.new_user("lit")
    with connect(minus.imap_port) as c:
        c.send(b"a LOGIN {%d+}\r\n" % (LIMIT + 1) + b"u" * (LIMIT + 1) + b" secret\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a BAD [TOOBIG]"), tagged
        c.send(b"b LOGIN {%d+}\r\n" % len(user) + user.encode() + b" {6+}\r\nsecret\r\n")
        tagged, _ = c.read_tagged("b")
        assert tagged.startswith(b"b OK"), tagged


def test_rfc7888_literal_plus_when_configured(env):
    """literal_plus = yes (the shared test kairand): LITERAL+ alone, and a
    {n+} of any size up to max_literal_size."""
    user = env.new_user("lit")
    c = login(env.imap_port, user)
    assert b"LITERAL+" in caps(c) and b"LITERAL-" not in caps(c)
    raw = message(3 * LIMIT)
    c.send(b"a APPEND INBOX {%d+}\r\n" % len(raw) + raw + b"\r\n")
    tagged, _ = c.read_tagged("a")
    assert tagged.startswith(b"a OK"), tagged
    c.close()
