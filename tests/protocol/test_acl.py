"""RFC 4314 ACL commands on the caller's own mailboxes, and the rights they
grant or take away (RFC 4314 §3, §4). Other users' and shared namespaces
come with shared folders; NAMESPACE (RFC 2342) lists the personal one."""

import pytest

from imapclient import connect


@pytest.fixture
def session(env):
    user = env.new_user("acl")
    c = connect(env.imap_port)
    assert c.cmd("l", f"LOGIN {user} secret")[0].startswith(b"l OK")
    yield user, c
    c.close()


def test_capabilities_and_namespace(env, session):
    user, c = session
    _, u = c.cmd("c", "CAPABILITY")
    for cap in (b"ACL", b"RIGHTS=texk", b"NAMESPACE"):
        assert cap in u[0].split(), u
    tagged, u = c.cmd("n", "NAMESPACE")
    assert tagged.startswith(b"n OK") and u == [
        b'* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared/" "/"))']


def test_rfc4314_3_5_myrights_and_3_3_getacl_of_own_mailbox(env, session):
    user, c = session
    _, u = c.cmd("m", "MYRIGHTS INBOX")
    assert u == [b"* MYRIGHTS INBOX lrswipkxteacd"], u
    _, u = c.cmd("g", "GETACL INBOX")
    assert u == [f"* ACL INBOX {user} lrswipkxtea".encode()], u


def test_rfc4314_3_1_setacl_modifiers_and_3_2_deleteacl(env, session):
    user, c = session
    assert c.cmd("a", "SETACL INBOX bob lr")[0].startswith(b"a OK")
    _, u = c.cmd("g1", "GETACL INBOX")
    assert b" bob lr" in u[0], u
    c.cmd("b", "SETACL INBOX bob +w")
    _, u = c.cmd("g2", "GETACL INBOX")
    assert b" bob lrw" in u[0], u
    c.cmd("c", "SETACL INBOX bob -r")
    _, u = c.cmd("g3", "GETACL INBOX")
    assert b" bob lw" in u[0], u
    assert c.cmd("d", "SETACL INBOX group:sales lrs")[0].startswith(b"d OK")
    assert c.cmd("e", "SETACL INBOX -anyone w")[0].startswith(b"e OK")
    _, u = c.cmd("g4", "GETACL INBOX")
    assert b" group:sales lrs" in u[0] and b" -anyone w" in u[0], u
    assert c.cmd("f", "DELETEACL INBOX bob")[0].startswith(b"f OK")
    _, u = c.cmd("g5", "GETACL INBOX")
    assert b" bob " not in u[0], u
    # An identifier typed in another case is the directory's canonical login.
    c.cmd("h", "SETACL INBOX BOB l")
    _, u = c.cmd("g6", "GETACL INBOX")
    assert b" bob l" in u[0], u


def test_rfc4314_3_4_listrights(env, session):
    user, c = session
    _, u = c.cmd("a", "LISTRIGHTS INBOX bob")
    assert u == [b'* LISTRIGHTS INBOX bob "" l r s w i p k x t e c d a'], u
    _, u = c.cmd("b", f"LISTRIGHTS INBOX {user}")
    assert u == [f"* LISTRIGHTS INBOX {user} la r s w i p k x t e c d".encode()], u


@pytest.mark.parametrize("text, want", [
    ("SETACL INBOX nobody-there lr", b"NO [NONEXISTENT]"),     # unknown user
    ("SETACL INBOX bob lz", b"BAD"),                           # not a right
    ("SETACL INBOX \"bo b\" lr", b"BAD"),                      # not an identifier
    ("SETACL INBOX \"group:\" lr", b"BAD"),
    ("SETACL INBOX Anyone lr", b"BAD"),                        # reserved spelling
    ("SETACL NoSuchBox bob lr", b"NO [NONEXISTENT]"),
    ("GETACL NoSuchBox", b"NO [NONEXISTENT]"),
    ("MYRIGHTS NoSuchBox", b"NO [NONEXISTENT]"),
    ("LISTRIGHTS NoSuchBox bob", b"NO [NONEXISTENT]"),
    ("DELETEACL NoSuchBox bob", b"NO [NONEXISTENT]"),
    ("SETACL INBOX bob", b"BAD"),
    ("GETACL", b"BAD"),
    ("MYRIGHTS INBOX extra", b"BAD"),
    ("NAMESPACE x", b"BAD"),
])
def test_acl_command_errors(env, session, text, want):
    user, c = session
    tagged, _ = c.cmd("x", text)
    assert tagged.startswith(b"x " + want), (text, tagged)


MSG = b"From: a@example.org\r\nSubject: acl\r\n\r\nbody\r\n"


def test_rfc4314_4_rights_the_owner_takes_from_themselves_are_enforced(env, session):
    user, c = session
    c.send(f"ap APPEND INBOX {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
    assert c.read_tagged("ap")[0].startswith(b"ap OK")
    # Without "w", other flags cannot be stored, \Seen (right "s") still can.
    c.cmd("a", f"SETACL INBOX {user} -w")
    _, u = c.cmd("m", "MYRIGHTS INBOX")
    assert u == [b"* MYRIGHTS INBOX lrsipkxteacd"], u
    c.cmd("s", "SELECT INBOX")
    tagged, _ = c.cmd("f", "STORE 1 +FLAGS (\\Flagged)")
    assert tagged.startswith(b"f NO [NOPERM]"), tagged
    tagged, u = c.cmd("g", "STORE 1 +FLAGS (\\Seen \\Flagged)")
    assert tagged.startswith(b"g OK") and b"\\Seen" in u[0] and b"\\Flagged" not in u[0], u
    # Without "e", EXPUNGE is refused; without "i", APPEND.
    c.cmd("b", f"SETACL INBOX {user} -ei")
    tagged, _ = c.cmd("x", "EXPUNGE")
    assert tagged.startswith(b"x NO [NOPERM]"), tagged
    c.send(f"ap2 APPEND INBOX {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
    assert c.read_tagged("ap2")[0].startswith(b"ap2 NO [NOPERM]")
    # With only "l a r" the mailbox opens read-only (RFC 4314 §4).
    c.cmd("c", f"SETACL INBOX {user} lar")
    tagged, _ = c.cmd("s2", "SELECT INBOX")
    assert tagged.startswith(b"s2 OK [READ-ONLY]"), tagged
    # Without "r" it does not open at all; the owner keeps "l a" and so
    # may know it exists: NOPERM, not NONEXISTENT.
    c.cmd("d", f"SETACL INBOX {user} la")
    tagged, _ = c.cmd("s3", "SELECT INBOX")
    assert tagged.startswith(b"s3 NO [NOPERM]"), tagged
    tagged, _ = c.cmd("st", "STATUS INBOX (MESSAGES)")
    assert tagged.startswith(b"st NO [NOPERM]"), tagged
    # The owner can never lock themselves out of administering it.
    assert c.cmd("e", f"DELETEACL INBOX {user}")[0].startswith(b"e OK")
    tagged, _ = c.cmd("s4", "SELECT INBOX")
    assert tagged.startswith(b"s4 OK [READ-WRITE]"), tagged


def test_create_needs_k_on_the_parent(env, session):
    user, c = session
    assert c.cmd("a", "CREATE Team")[0].startswith(b"a OK")
    c.cmd("b", f"SETACL Team {user} -k")
    tagged, _ = c.cmd("c", "CREATE Team/Sub")
    assert tagged.startswith(b"c NO [NOPERM]"), tagged
    tagged, _ = c.cmd("d", "RENAME Archive Team/Old")
    assert tagged.startswith(b"d NO [NOPERM]"), tagged
    c.cmd("e", f"SETACL Team {user} -x")
    tagged, _ = c.cmd("f", "DELETE Team")
    assert tagged.startswith(b"f NO [NOPERM]"), tagged


def test_losing_r_closes_the_selected_mailbox_at_the_next_command(env, session):
    user, c = session
    c.send(f"ap APPEND INBOX {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
    c.read_tagged("ap")
    assert c.cmd("s", "SELECT INBOX")[0].startswith(b"s OK")
    c.cmd("a", f"SETACL INBOX {user} la")
    tagged, u = c.cmd("f", "FETCH 1 (FLAGS)")
    assert tagged.startswith(b"f NO [NOPERM]"), tagged
    assert b"* OK [CLOSED] Access to the mailbox was withdrawn" in u, u
    tagged, _ = c.cmd("g", "FETCH 1 (FLAGS)")
    assert tagged.startswith(b"g BAD"), tagged          # no longer selected
    c.cmd("b", f"DELETEACL INBOX {user}")
