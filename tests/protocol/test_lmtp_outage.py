"""LMTP when the database or the directory is down (docs/delivery.md,
"Outages"): every reply is a temporary 4.x.x (RFC 5321 §4.2.1: the MTA
keeps the message and tries again), never a 5.x.x that would bounce it,
and never a 250 for what was not committed. Once the service is back,
the same session delivers.

Each test stops one of the shared services (as test_durability.py does)
and starts it again before it ends, whatever happens."""

import time

from lmtpclient import Raw, body, codes, messages, rp


def open_transaction(env, rcpts):
    r = Raw(env, timeout=60)
    r.send(b"LHLO x\r\nMAIL FROM:<s@example.net>\r\n"
           + b"".join(f"RCPT TO:<{a}>\r\n".encode() for a in rcpts))
    r.reply()
    assert r.reply()[-1].startswith(b"250 2.1.0")
    return r, r.replies(len(rcpts))


def retry_until(fn, timeout=30):
    """fn() until it returns true (the services need a moment to be back)."""
    deadline = time.monotonic() + timeout
    while True:
        if fn() or time.monotonic() > deadline:
            return
        time.sleep(0.5)


def test_postgresql_down_at_rcpt_and_at_delivery(env):
    """RCPT needs the database (team addresses, provisioning): 451 4.3.0.
    A transaction whose recipients were accepted before the outage gets
    451 4.3.0 for each of them after the final dot (RFC 2033 §4.2), and
    nothing is stored."""
    u1, u2, u3 = env.new_user("pgdown"), env.new_user("pgdown"), env.new_user("pgdown")
    r, rc = open_transaction(env, [f"{u1}@example.org", f"{u2}@example.org"])
    assert codes(rc) == ["250 2.1.5", "250 2.1.5"]
    env.pg.stop()
    try:
        r.send(b"DATA\r\n")
        assert r.reply()[-1].startswith(b"354")
        r.send(body("pgdown") + b".\r\n")
        assert codes(r.replies(2)) == ["451 4.3.0", "451 4.3.0"]
        r.send(b"MAIL FROM:<s@example.net>\r\n" + f"RCPT TO:<{u3}@example.org>\r\n".encode())
        got = r.replies(2)
        assert codes(got) == ["250 2.1.0", "451 4.3.0"], got
        r.send(b"RSET\r\n")
        assert codes(r.replies(1)) == ["250 2.0.0"]
    finally:
        env.pg.start()
    # The same session, once PostgreSQL is back: delivered.
    state = {}

    def deliver():
        r.send(b"MAIL FROM:<s@example.net>\r\n" + f"RCPT TO:<{u3}@example.org>\r\n".encode())
        got = r.replies(2)
        if not got[1].startswith(b"250"):
            r.send(b"RSET\r\n")
            r.replies(1)
            return False
        r.send(b"BDAT %d LAST\r\n" % len(body("back")) + body("back"))
        state["reply"] = r.replies(1)
        return True
    retry_until(deliver)
    assert codes(state["reply"]) == ["250 2.1.5"]
    r.close()
    assert messages(env, u1) == messages(env, u2) == []
    assert messages(env, u3) == [rp("s@example.net") + body("back")]


def test_directory_down_at_rcpt(env):
    """A person's address needs the directory: slapd stopped, 451 4.4.3
    (RFC 3463 X.4.3, directory server failure), never 550 5.1.1 (which
    would bounce mail for a person who exists). A team address does not
    need it (docs/delivery.md, "Team addresses")."""
    user = env.new_user("ldapdown")
    env.slapd.stop()
    try:
        r, rc = open_transaction(env, [f"{user}@example.org", "nobody-ldap@example.org"])
        assert codes(rc) == ["451 4.4.3", "451 4.4.3"]
        r.send(b"DATA\r\n")
        assert codes(r.replies(1)) == ["503 5.5.1"]
        r.close()
    finally:
        env.slapd.start()
    state = {}

    def rcpt():
        r, rc = open_transaction(env, [f"{user}@example.org"])
        state["rc"] = rc
        r.close()
        return rc[0].startswith(b"250")
    retry_until(rcpt)
    assert codes(state["rc"]) == ["250 2.1.5"]
