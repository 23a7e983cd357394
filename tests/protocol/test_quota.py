"""RFC 9208 QUOTA over the wire: GETQUOTA, GETQUOTAROOT, SETQUOTA, the
OVERQUOTA response code on APPEND, COPY and MOVE, STATUS DELETED and
DELETED-STORAGE, LMTP delivery over quota, and kairanctl quota
(docs/protocol.md "QUOTA", docs/delivery.md "Quotas").

RFC 9208 §3.1: STORAGE counts units of 1024 octets; §3.2: MESSAGE counts
messages. §4.1.1 GETQUOTA, §4.1.2 GETQUOTAROOT, §4.1.3 SETQUOTA; §4.2 the
STATUS items DELETED and DELETED-STORAGE; §4.3 OVERQUOTA; §5.1 "Resources
not named in the list are not limited". RFC 3463: X.2.2 "mailbox full"."""

import itertools
import os
import re

import pytest

from imapclient import bad, login, ok
from test_kairanctl import ctl, fails, ok as ctl_ok
from test_lmtp import body, codes, messages, send_raw
from test_teams import lmtp_port_of, team

SUPPORT_GROUP = "cn=support,ou=groups,dc=example,dc=org"   # carol
_n = itertools.count()


def msg(size=200, tag=None):
    """A message of exactly `size` octets."""
    tag = tag or f"q{next(_n)}x{os.getpid()}"
    head = f"From: a@example.net\r\nSubject: {tag}\r\nMessage-ID: <{tag}@x>\r\n\r\n".encode()
    return head + b"x" * (size - len(head) - 2) + b"\r\n"


def quote(s):
    """A quoted string (the names here have no quote or backslash)."""
    return f'"{s}"'


def append(c, mailbox, raw, tag="ap"):
    """APPEND with a LITERAL+ literal; returns the tagged response."""
    c.send(f"{tag} APPEND {quote(mailbox)} {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
    tagged, _ = c.read_tagged(tag)
    return tagged


def person(env):
    """A new person whose account exists (it is made at first login)."""
    user = env.new_user("qt")
    login(env.imap_port, user).close()
    return user


def quota_lines(untagged):
    return [u for u in untagged if u.startswith(b"* QUOTA ")]


def status(c, mailbox, items):
    for u in ok(c, f"STATUS {quote(mailbox)} ({items})"):
        if u.startswith(b"* STATUS"):
            return dict(re.findall(rb"([A-Z-]+) (\d+)", u.split(b"(", 1)[1]))
    raise AssertionError("no STATUS response")


@pytest.fixture(scope="module")
def admin_k(env):
    """A kairand where carol (group support) is an admin, and whose
    delivery defers over quota (452 4.2.2)."""
    k = env.start_kairand(auth_admin_group=SUPPORT_GROUP, lmtp_quota_defer="yes")
    yield k
    k.stop()


# --- capabilities, GETQUOTA, GETQUOTAROOT -----------------------------------

def test_capabilities_after_login(env):
    c = login(env.imap_port, person(env))
    caps = [u for u in ok(c, "CAPABILITY") if u.startswith(b"* CAPABILITY")][0].split()
    for cap in (b"QUOTA", b"QUOTA=RES-STORAGE", b"QUOTA=RES-MESSAGE", b"QUOTASET"):
        assert cap in caps
    c.close()


def test_no_limit_no_root(env):
    """§5.1: an unlimited mailbox has no quota root to show; GETQUOTA of
    the caller's root then answers NONEXISTENT."""
    c = login(env.imap_port, person(env))
    untagged = ok(c, "GETQUOTAROOT INBOX")
    assert b"* QUOTAROOT INBOX" in untagged and quota_lines(untagged) == []
    tagged, _ = c.cmd("g", 'GETQUOTA ""')
    assert tagged.startswith(b"g NO [NONEXISTENT]"), tagged
    c.close()


def test_limits_usage_and_units(env):
    """§3.1: STORAGE in 1024-octet units, rounded up; §3.2: MESSAGE exact."""
    user = person(env)
    ctl_ok(env, "quota", "set", user, "storage=10", "messages=5")
    c = login(env.imap_port, user)
    assert append(c, "INBOX", msg(1500)).startswith(b"ap OK")
    untagged = ok(c, "GETQUOTAROOT INBOX")
    assert b'* QUOTAROOT INBOX ""' in untagged
    assert quota_lines(untagged) == [b'* QUOTA "" (STORAGE 2 10 MESSAGE 1 5)']
    assert quota_lines(ok(c, 'GETQUOTA ""')) == [b'* QUOTA "" (STORAGE 2 10 MESSAGE 1 5)']
    # A folder of the same person has the same root.
    ok(c, "CREATE Work")
    assert b'* QUOTAROOT Work ""' in ok(c, "GETQUOTAROOT Work")
    c.close()


def test_only_limited_resources_listed(env):
    user = person(env)
    ctl_ok(env, "quota", "set", user, "messages=7")
    c = login(env.imap_port, user)
    assert quota_lines(ok(c, 'GETQUOTA ""')) == [b'* QUOTA "" (MESSAGE 0 7)']
    c.close()


def test_config_default_and_override(env):
    k = env.start_kairand(quota_messages_default="2")
    user = person(env)
    c = login(k.imap_port, user)
    assert quota_lines(ok(c, 'GETQUOTA ""')) == [b'* QUOTA "" (MESSAGE 0 2)']
    # "none" overrides the default: no limit at all.
    ctl_ok(env, "quota", "set", user, "messages=none")
    tagged, _ = c.cmd("g", 'GETQUOTA ""')
    assert tagged.startswith(b"g NO [NONEXISTENT]"), tagged
    # "default" gives the default back.
    ctl_ok(env, "quota", "set", user, "messages=default")
    assert quota_lines(ok(c, 'GETQUOTA ""')) == [b'* QUOTA "" (MESSAGE 0 2)']
    c.close()
    k.stop()


# --- OVERQUOTA (§4.3) -------------------------------------------------------

def test_append_refused_before_continuation(env):
    """The synchronising literal of an APPEND over quota is refused before
    the "+": the client never uploads the bytes."""
    k = env.start_kairand(literal_plus="no")
    user = person(env)
    ctl_ok(env, "quota", "set", user, "messages=1")
    c = login(k.imap_port, user)
    raw = msg(300)
    c.send(f"a1 APPEND INBOX {{{len(raw)}}}\r\n".encode())
    assert c.read_response().startswith(b"+")
    c.send(raw + b"\r\n")
    assert c.read_tagged("a1")[0].startswith(b"a1 OK")
    c.send(f"a2 APPEND INBOX {{{len(raw)}}}\r\n".encode())
    tagged = c.read_response()
    assert tagged.startswith(b"a2 NO [OVERQUOTA]"), tagged
    assert b"MESSAGE" in tagged
    ok(c, "NOOP")
    c.close()
    k.stop()


def test_storage_limit_counts_octets(env):
    user = person(env)
    ctl_ok(env, "quota", "set", user, "storage=1")
    c = login(env.imap_port, user)
    assert append(c, "INBOX", msg(600)).startswith(b"ap OK")
    tagged = append(c, "INBOX", msg(600))
    assert tagged.startswith(b"ap NO [OVERQUOTA]") and b"STORAGE" in tagged, tagged
    # 424 more octets still fit: exactly at the limit.
    assert append(c, "INBOX", msg(424)).startswith(b"ap OK")
    assert append(c, "INBOX", msg(30)).startswith(b"ap NO [OVERQUOTA]")
    c.close()


def test_multiappend_all_or_nothing(env):
    user = person(env)
    ctl_ok(env, "quota", "set", user, "messages=2")
    c = login(env.imap_port, user)
    a, b, d = msg(), msg(), msg()
    c.send(f"m APPEND INBOX {{{len(a)}+}}\r\n".encode() + a +
           f" {{{len(b)}+}}\r\n".encode() + b + f" {{{len(d)}+}}\r\n".encode() + d + b"\r\n")
    tagged, _ = c.read_tagged("m")
    assert tagged.startswith(b"m NO [OVERQUOTA]"), tagged
    assert status(c, "INBOX", "MESSAGES")[b"MESSAGES"] == b"0"
    c.close()


def test_copy_over_quota_move_and_expunge_at_limit(env):
    user = person(env)
    c = login(env.imap_port, user)
    ok(c, "CREATE Other")
    for _ in range(2):
        assert append(c, "INBOX", msg()).startswith(b"ap OK")
    ctl_ok(env, "quota", "set", user, "messages=2")
    ok(c, "SELECT INBOX")
    tagged, _ = c.cmd("c", "COPY 1 Other")
    assert tagged.startswith(b"c NO [OVERQUOTA]"), tagged
    tagged, _ = c.cmd("c", "UID COPY 1:* Other")
    assert tagged.startswith(b"c NO [OVERQUOTA]"), tagged
    # MOVE within the root and EXPUNGE still work at the limit.
    ok(c, "MOVE 1 Other")
    ok(c, "STORE 1 +FLAGS (\\Deleted)")
    ok(c, "EXPUNGE")
    assert status(c, "Other", "MESSAGES")[b"MESSAGES"] == b"1"
    assert quota_lines(ok(c, 'GETQUOTA ""')) == [b'* QUOTA "" (MESSAGE 1 2)']
    ok(c, "SELECT Other")
    ok(c, "COPY 1 INBOX")
    c.close()


def test_move_to_another_root_is_checked(env):
    """MOVE out of one root into a full one is refused: only a MOVE within
    one root frees what it takes."""
    name = team(env, grant="anyone=lrswipte")
    try:
        user = person(env)
        ctl_ok(env, "quota", "set", f"Shared/{name}", "messages=0")
        c = login(env.imap_port, user)
        assert append(c, "INBOX", msg()).startswith(b"ap OK")
        ok(c, "SELECT INBOX")
        tagged, _ = c.cmd("m", f"MOVE 1 Shared/{name}")
        assert tagged.startswith(b"m NO [OVERQUOTA]"), tagged
        assert status(c, "INBOX", "MESSAGES")[b"MESSAGES"] == b"1"
        c.close()
    finally:
        ctl_ok(env, "acl", "remove", f"Shared/{name}", "anyone")


# --- shared mailboxes --------------------------------------------------------

def test_shared_mailbox_root(env):
    """A shared account's subtree is one root, "Shared/<name>", which its
    members see."""
    name = team(env)          # granted to group sales: alice, bob
    ctl_ok(env, "quota", "set", f"Shared/{name}", "messages=1", "storage=100")
    c = login(env.imap_port, "alice")
    untagged = ok(c, f"GETQUOTAROOT Shared/{name}")
    assert f"* QUOTAROOT Shared/{name} Shared/{name}".encode() in untagged
    assert quota_lines(untagged) == [f"* QUOTA Shared/{name} (STORAGE 0 100 MESSAGE 0 1)".encode()]
    assert append(c, f"Shared/{name}", msg()).startswith(b"ap OK")
    assert append(c, f"Shared/{name}", msg()).startswith(b"ap NO [OVERQUOTA]")
    assert quota_lines(ok(c, f"GETQUOTA Shared/{name}")) == \
        [f"* QUOTA Shared/{name} (STORAGE 1 100 MESSAGE 1 1)".encode()]
    c.close()


def test_root_invisible_without_rights(env):
    """A user without rights on a root learns nothing of it: the same
    answer as for a root that does not exist."""
    name = team(env)
    ctl_ok(env, "quota", "set", f"Shared/{name}", "messages=10")
    other = person(env)
    ctl_ok(env, "quota", "set", other, "messages=10")
    c = login(env.imap_port, person(env))
    for root in (f"Shared/{name}", f"Other Users/{other}", "Shared/no-such-team",
                 "Other Users/nobody-at-all", "INBOX"):
        tagged, untagged = c.cmd("g", f"GETQUOTA {quote(root)}")
        assert tagged.startswith(b"g NO [NONEXISTENT]"), (root, tagged)
        assert quota_lines(untagged) == []
    tagged, untagged = c.cmd("r", f"GETQUOTAROOT Shared/{name}")
    assert tagged.startswith(b"r NO [NONEXISTENT]"), tagged
    assert untagged == []
    c.close()


def test_root_of_a_shared_folder_with_read_right_only_there(env):
    """Read access to a person's subfolder does not show their root."""
    owner, reader = person(env), person(env)
    ctl_ok(env, "quota", "set", owner, "messages=10")
    c = login(env.imap_port, owner)
    ok(c, "CREATE Shared1")
    ok(c, f"SETACL Shared1 {reader} lr")
    c.close()
    c = login(env.imap_port, reader)
    untagged = ok(c, f'GETQUOTAROOT "Other Users/{owner}/Shared1"')
    assert untagged[0] == f'* QUOTAROOT "Other Users/{owner}/Shared1"'.encode()
    assert quota_lines(untagged) == []
    c.close()


# --- SETQUOTA (§4.1.3) --------------------------------------------------------

def test_setquota_needs_admin(env):
    user = person(env)
    c = login(env.imap_port, user)
    tagged, _ = c.cmd("s", 'SETQUOTA "" (STORAGE 100)')
    assert tagged.startswith(b"s NO [NOPERM]"), tagged
    tagged, _ = c.cmd("s", "SETQUOTA Shared/no-such-team (STORAGE 100)")
    assert tagged.startswith(b"s NO [NONEXISTENT]"), tagged
    c.close()


def test_setquota_by_admin(env, admin_k):
    user = person(env)
    c = login(admin_k.imap_port, "carol")
    untagged = ok(c, f'SETQUOTA "Other Users/{user}" (STORAGE 512 MESSAGE 9)')
    assert quota_lines(untagged) == [f'* QUOTA "Other Users/{user}" (STORAGE 0 512 MESSAGE 0 9)'.encode()]
    # An admin sees any root.
    assert quota_lines(ok(c, f'GETQUOTA "Other Users/{user}"')) == \
        [f'* QUOTA "Other Users/{user}" (STORAGE 0 512 MESSAGE 0 9)'.encode()]
    u = login(admin_k.imap_port, user)
    assert quota_lines(ok(u, 'GETQUOTA ""')) == [b'* QUOTA "" (STORAGE 0 512 MESSAGE 0 9)']
    # "Any previous resource limits for the named quota root are
    # discarded": MESSAGE left out is no longer limited.
    ok(c, f'SETQUOTA "Other Users/{user}" (STORAGE 100)')
    assert quota_lines(ok(u, 'GETQUOTA ""')) == [b'* QUOTA "" (STORAGE 0 100)']
    ok(c, f'SETQUOTA "Other Users/{user}" ()')
    tagged, _ = u.cmd("g", 'GETQUOTA ""')
    assert tagged.startswith(b"g NO [NONEXISTENT]"), tagged
    # Its own root too, and lower case resource names (atoms, any case).
    ok(c, 'SETQUOTA "" (storage 64)')
    assert quota_lines(ok(c, 'GETQUOTA ""')) == [b'* QUOTA "" (STORAGE 0 64)']
    ok(c, 'SETQUOTA "" ()')
    c.close()
    u.close()


@pytest.mark.parametrize("command,text", [
    ("GETQUOTA", b"GETQUOTA expects one quota root name"),
    ('GETQUOTA "" ""', b"GETQUOTA expects one quota root name"),
    ("GETQUOTA (x)", b"GETQUOTA expects one quota root name"),
    ("GETQUOTAROOT", b"GETQUOTAROOT expects a mailbox"),
    ("GETQUOTAROOT INBOX INBOX", b"GETQUOTAROOT expects a mailbox"),
    ("SETQUOTA", b"SETQUOTA expects a quota root name and a list of limits"),
    ('SETQUOTA ""', b"SETQUOTA expects a quota root name and a list of limits"),
    ('SETQUOTA "" STORAGE 1', b"SETQUOTA expects a quota root name and a list of limits"),
    ('SETQUOTA () (STORAGE 1)', b"SETQUOTA expects a quota root name and a list of limits"),
    ('SETQUOTA "" (STORAGE)', b"SETQUOTA expects each resource name followed by its limit"),
    ('SETQUOTA "" (STORAGE 1 MESSAGE)', b"SETQUOTA expects each resource name followed by its limit"),
    ('SETQUOTA "" (STORAGE x)', b"Invalid limit for STORAGE: a number up to 2^63-1 expected"),
    ('SETQUOTA "" (STORAGE -1)', b"Invalid limit for STORAGE: a number up to 2^63-1 expected"),
    ('SETQUOTA "" (STORAGE 9223372036854775808)',
     b"Invalid limit for STORAGE: a number up to 2^63-1 expected"),
    ('SETQUOTA "" (STORAGE 99999999999999999999999)',
     b"Invalid limit for STORAGE: a number up to 2^63-1 expected"),
    ('SETQUOTA "" (STORAGE (1))', b"Invalid limit for STORAGE: a number up to 2^63-1 expected"),
    ('SETQUOTA "" ("STORAGE" 1)', b"SETQUOTA expects a resource name (an atom)"),
    ('SETQUOTA "" ((STORAGE) 1)', b"SETQUOTA expects a resource name (an atom)"),
    ('SETQUOTA "" (STORAGE 1 STORAGE 2)', b"Resource STORAGE given twice"),
    ('SETQUOTA "" (' + " ".join(["STORAGE 1"] * 17) + ")", b"SETQUOTA takes at most 16 resources"),
])
def test_hostile_arguments(env, command, text):
    c = login(env.imap_port, person(env))
    tagged = bad(c, command)
    assert tagged == b"b BAD " + text, tagged
    c.close()


def test_unknown_resource_is_no(env, admin_k):
    """A resource name is an atom: an unknown one is no syntax error."""
    c = login(admin_k.imap_port, "carol")
    tagged, _ = c.cmd("s", 'SETQUOTA "" (MAILBOX 10)')
    assert tagged == b"s NO Unsupported quota resource MAILBOX (STORAGE and MESSAGE are)", tagged
    c.close()


def test_bad_root_names(env):
    c = login(env.imap_port, person(env))
    # A name that cannot be a mailbox cannot be a root either.
    for root in ("Shared/a//b", "Shared/sales/sub", "Other Users"):
        tagged, _ = c.cmd("g", f"GETQUOTA {quote(root)}")
        assert tagged.startswith(b"g NO [NONEXISTENT]"), (root, tagged)
    c.close()


# --- STATUS (§4.2) -------------------------------------------------------------

def test_status_deleted_and_deleted_storage(env):
    user = person(env)
    c = login(env.imap_port, user)
    sizes = [300, 500, 700]
    for s in sizes:
        assert append(c, "INBOX", msg(s)).startswith(b"ap OK")
    ok(c, "SELECT INBOX")
    ok(c, "STORE 2:3 +FLAGS (\\Deleted)")
    st = status(c, "INBOX", "MESSAGES SIZE DELETED DELETED-STORAGE")
    assert st == {b"MESSAGES": b"3", b"SIZE": b"1500", b"DELETED": b"2",
                  b"DELETED-STORAGE": b"1200"}
    # The same items through LIST-STATUS (RFC 5819).
    listed = [u for u in ok(c, 'LIST "" INBOX RETURN (STATUS (SIZE DELETED-STORAGE))')
              if u.startswith(b"* STATUS")]
    assert listed == [b"* STATUS INBOX (SIZE 1500 DELETED-STORAGE 1200)"]
    ok(c, "EXPUNGE")
    st = status(c, "INBOX", "SIZE DELETED DELETED-STORAGE")
    assert st == {b"SIZE": b"300", b"DELETED": b"0", b"DELETED-STORAGE": b"0"}
    c.close()


# --- LMTP delivery -------------------------------------------------------------

def test_delivery_over_quota_552(env):
    full, free = person(env), person(env)
    ctl_ok(env, "quota", "set", full, "messages=0")
    rc, out = send_raw(env, "s@example.net", [f"{full}@example.org", f"{free}@example.org"],
                       body("over") + b".\r\n")
    assert codes(rc) == ["250 2.1.5", "250 2.1.5"]
    assert codes(out) == ["552 5.2.2", "250 2.1.5"]
    assert messages(env, full) == [] and len(messages(env, free)) == 1


def test_delivery_over_quota_deferred_452(env, admin_k):
    full = person(env)
    ctl_ok(env, "quota", "set", full, "storage=0")
    port = lmtp_port_of(admin_k)
    saved, env.lmtp_port = env.lmtp_port, port
    try:
        rc, out = send_raw(env, "s@example.net", [f"{full}@example.org"], body("defer") + b".\r\n")
    finally:
        env.lmtp_port = saved
    assert codes(out) == ["452 4.2.2"]
    assert messages(env, full) == []


def test_delivery_to_team_over_quota(env):
    name = team(env)
    ctl_ok(env, "quota", "set", f"Shared/{name}", "messages=1")
    rc, out = send_raw(env, "s@example.net", [f"{name}@example.org"], body("t1") + b".\r\n")
    assert codes(out) == ["250 2.1.5"]
    rc, out = send_raw(env, "s@example.net", [f"{name}@example.org"], body("t2") + b".\r\n")
    assert codes(out) == ["552 5.2.2"]


def test_single_instance_counts_for_each_mailbox(env):
    """One stored copy, delivered to two people: each root counts it in
    full (docs/delivery.md, "Quotas")."""
    a, b = person(env), person(env)
    ctl_ok(env, "quota", "set", a, "storage=100")
    ctl_ok(env, "quota", "set", b, "storage=100")
    m = body("si") + b"y" * 3000 + b"\r\n"
    rc, out = send_raw(env, "s@example.net", [f"{a}@example.org", f"{b}@example.org"], m + b".\r\n")
    assert codes(out) == ["250 2.1.5", "250 2.1.5"]
    for u in (a, b):
        c = login(env.imap_port, u)
        line = quota_lines(ok(c, 'GETQUOTA ""'))[0]
        assert line.startswith(b'* QUOTA "" (STORAGE 4 100'), line
        c.close()


# --- kairanctl quota -------------------------------------------------------------

def test_kairanctl_show_set_recalc(env):
    user = person(env)
    c = login(env.imap_port, user)
    assert append(c, "INBOX", msg(2048)).startswith(b"ap OK")
    c.close()
    out = ctl_ok(env, "quota", "set", user, "storage=10240", "messages=1000")
    assert out.splitlines() == [f"{user}\tSTORAGE\t2\t10240\t(set)",
                                f"{user}\tMESSAGE\t1\t1000\t(set)"]
    assert ctl_ok(env, "quota", "show", user) == out
    # A counter gone wrong (by hand) is recounted.
    env.pg.psql("UPDATE mailboxes SET message_count = 99, message_bytes = 7 FROM accounts a"
                f" WHERE a.id = owner_id AND a.login = '{user}' AND name = 'INBOX'")
    assert ctl_ok(env, "quota", "show", user).splitlines()[1] == f"{user}\tMESSAGE\t99\t1000\t(set)"
    assert ctl_ok(env, "quota", "recalc", user) == "recounted: 1 mailbox had wrong counters\n"
    assert ctl_ok(env, "quota", "show", user) == out
    assert ctl_ok(env, "quota", "recalc") == "recounted: 0 mailboxes had wrong counters\n"


def test_kairanctl_usage_errors(env):
    user = person(env)
    assert "quota show needs one quota root" in fails(env, 2, "quota", "show")
    assert "needs a quota root and at least one limit" in fails(env, 2, "quota", "set", user)
    for arg in ("storage=", "storage=-1", "storage=1x", "bytes=1", "storage=1 storage=2"):
        assert "is not storage=KIB" in fails(env, 2, "quota", "set", user, *arg.split())
    assert "no quota root 'nobody-here'" in fails(env, 1, "quota", "show", "nobody-here")
    assert "no quota root 'Shared/nobody-here'" in fails(env, 1, "quota", "show",
                                                         "Shared/nobody-here")
    assert "is not a quota root" in fails(env, 2, "quota", "show", "Shared/a/b")


def test_counters_exact_after_every_path(env):
    """The usage counters follow every writer (APPEND, MULTIAPPEND, a
    spooled big APPEND, COPY, MOVE, MOVE into the same mailbox, EXPUNGE,
    DELETE of a mailbox with children, RENAME INBOX, delivery): a recount
    finds nothing to fix (docs/schema.md, "Quotas")."""
    user = person(env)
    c = login(env.imap_port, user)
    ok(c, "CREATE A")
    ok(c, "CREATE A/B")
    for s in (300, 400, 500):
        assert append(c, "INBOX", msg(s)).startswith(b"ap OK")
    a, b = msg(222), msg(333)
    c.send(f"m APPEND A {{{len(a)}+}}\r\n".encode() + a + f" {{{len(b)}+}}\r\n".encode() + b +
           b"\r\n")
    assert c.read_tagged("m")[0].startswith(b"m OK")
    assert append(c, "A/B", msg(1_100_000)).startswith(b"ap OK")   # over the spool threshold
    ok(c, "SELECT INBOX")
    ok(c, "COPY 1:2 A")
    ok(c, "MOVE 3 A/B")
    ok(c, "MOVE 1 INBOX")
    ok(c, "STORE 1 +FLAGS (\\Deleted)")
    ok(c, "EXPUNGE")
    ok(c, "UNSELECT")
    ok(c, "DELETE A")                         # has a child: its messages go, it stays
    c.close()
    rc, out = send_raw(env, "s@example.net", [f"{user}@example.org"], body("cnt") + b".\r\n")
    assert codes(out) == ["250 2.1.5"]
    c = login(env.imap_port, user)
    ok(c, "RENAME INBOX Old")
    c.close()
    expected = env.pg.psql(
        "SELECT count(*), coalesce(sum(g.size), 0) FROM mailbox_messages mm"
        " JOIN mailboxes m ON m.id = mm.mailbox_id JOIN accounts a ON a.id = m.owner_id"
        f" JOIN messages g ON g.id = mm.message_id WHERE a.login = '{user}'").strip()
    kept = env.pg.psql("SELECT sum(m.message_count), sum(m.message_bytes) FROM mailboxes m"
                       f" JOIN accounts a ON a.id = m.owner_id WHERE a.login = '{user}'").strip()
    assert kept == expected
    assert ctl_ok(env, "quota", "recalc", user) == "recounted: 0 mailboxes had wrong counters\n"


def set_description(env, user, value):
    env.slapd.ldapmodify(f"dn: uid={user},ou=people,dc=example,dc=org\nchangetype: modify\n"
                         f"replace: description\ndescription: {value}\n")


def test_limits_from_the_directory(env):
    """ldap_quota_attribute: the directory's limits, read at each login,
    below an admin's and above kairan.conf's defaults."""
    k = env.start_kairand(ldap_quota_attribute="description", quota_storage_default="1000")
    user = env.new_user("qd")
    set_description(env, user, "storage=64 messages=5")

    def get():
        c = login(k.imap_port, user)
        tagged, untagged = c.cmd("g", 'GETQUOTA ""')
        c.close()
        return quota_lines(untagged)

    assert get() == [b'* QUOTA "" (STORAGE 0 64 MESSAGE 0 5)']
    assert ctl_ok(env, "quota", "show", user).splitlines()[0] == \
        f"{user}\tSTORAGE\t0\t64\t(directory)"
    # An admin's limit wins over the directory's, and the directory takes
    # back what it no longer gives (STORAGE: the default again).
    ctl_ok(env, "quota", "set", user, "messages=9")
    set_description(env, user, "messages=3")
    assert get() == [b'* QUOTA "" (STORAGE 0 1000 MESSAGE 0 9)']
    ctl_ok(env, "quota", "set", user, "messages=default")
    assert get() == [b'* QUOTA "" (STORAGE 0 1000 MESSAGE 0 3)']
    # A plain number is the STORAGE limit in KiB.
    set_description(env, user, "20")
    assert get() == [b'* QUOTA "" (STORAGE 0 20)']
    # Something else is logged and ignored: the directory's limits go.
    set_description(env, user, "lots")
    assert get() == [b'* QUOTA "" (STORAGE 0 1000)']
    k.stop()
    assert "is not a quota" in open(k.log_path).read()


def test_counters_exact_under_concurrent_writers(env):
    """Four sessions of one person write at once, each in its own mailbox
    and into a shared one (APPEND, COPY, MOVE, EXPUNGE): the counters are
    kept in each writer's transaction, so a recount finds nothing wrong."""
    import threading

    user = person(env)
    c = login(env.imap_port, user)
    for i in range(4):
        ok(c, f"CREATE W{i}")
    ok(c, "CREATE Common")
    c.close()
    errors = []

    def work(i):
        try:
            w = login(env.imap_port, user)
            for k in range(15):
                assert append(w, f"W{i}", msg(200 + k)).startswith(b"ap OK")
            ok(w, f"SELECT W{i}")
            ok(w, "COPY 1:5 Common")
            ok(w, "MOVE 6:10 Common")
            ok(w, "STORE 1:3 +FLAGS (\\Deleted)")
            ok(w, "EXPUNGE")
            w.close()
        except Exception as e:      # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    c = login(env.imap_port, user)
    # 4 x (15 appended + 5 copied - 3 expunged) messages.
    assert status(c, "Common", "MESSAGES")[b"MESSAGES"] == b"40"
    ctl_ok(env, "quota", "set", user, "messages=1000")
    assert quota_lines(ok(c, 'GETQUOTA ""'))[0].endswith(b"MESSAGE 68 1000)")
    c.close()
    assert ctl_ok(env, "quota", "recalc", user) == "recounted: 0 mailboxes had wrong counters\n"
