"""Team addresses and teams from the directory, over the wire: LMTP in,
IMAP out, kairanctl between (docs/delivery.md "Team addresses",
docs/acl.md "A team run from LDAP", docs/kairanctl.md).

RFC 2033 §4.2: one reply per accepted recipient after the final dot.
RFC 3463: X.1.1 unknown mailbox (permanent), X.4.3 directory failure
(temporary: an outage is never 5.x.x). RFC 5321 §2.4: the local part may
be case-sensitive; Kairan folds ASCII case (docs/delivery.md, "Address case
rules"). RFC 4314: group:NAME grants the team's members."""

import itertools
import os
import re
import smtplib

import pytest

from imapclient import login, ok
from test_kairanctl import ctl, fails, ok as ctl_ok, write_conf
from test_lmtp import body, codes, messages, rp, send_raw

_n = itertools.count()


def unique(prefix="tm"):
    return f"{prefix}{next(_n)}x{os.getpid()}"


def team(env, *extra, grant="group:sales=lrswipte"):
    """A new shared account granted to the sales group (alice, bob), with
    the address NAME@example.org."""
    name = unique()
    ctl_ok(env, "shared", "create", name, "--grant", grant, "--address", f"{name}@example.org",
           *extra)
    return name


def lmtp_to(port):
    """An LMTP session after LHLO and MAIL FROM, for RCPTs."""
    s = smtplib.LMTP("127.0.0.1", port)
    s.ehlo("x")
    s.mail("s@example.net")
    return s


def lmtp_port_of(k):
    return int(k.config["lmtp_listen"].rsplit(":", 1)[1])


def flags(env, user, mailbox):
    """{uid: flags} as user sees them in mailbox (EXAMINE: nothing changes)."""
    c = login(env.imap_port, user)
    ok(c, f'EXAMINE "{mailbox}"')
    out = {}
    for line in ok(c, "UID FETCH 1:* (FLAGS)"):
        uid, fl = re.search(rb"UID (\d+)", line), re.search(rb"FLAGS \(([^)]*)\)", line)
        if uid and fl:
            out[int(uid.group(1))] = [f for f in fl.group(1).split() if f != b"\\Recent"]
    c.close()
    return out


def rows_in(env, login_, name="INBOX"):
    return int(env.pg.psql(
        "SELECT count(*) FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id"
        f" JOIN accounts a ON a.id = m.owner_id WHERE a.login = '{login_}' AND m.name = '{name}'"))


# --- team addresses ---------------------------------------------------------

def test_team_address_delivers_once_unread_for_every_member(env):
    name = team(env)
    ctl_ok(env, "shared", "address", "add", name, f"{name}-alias@example.org")
    person = env.new_user("person")
    msg = body(unique("circ"))
    # Two addresses of the team (one in upper case) and a person: the team
    # gets one entry, everyone shares one stored copy.
    rc, out = send_raw(env, "s@example.net",
                       [f"{name.upper()}@EXAMPLE.ORG", f"{name}-alias@example.org",
                        f"{person}@example.org"], msg + b".\r\n")
    assert codes(rc) == ["250 2.1.5"] * 3
    assert codes(out) == ["250 2.1.5"] * 3
    for member in ("alice", "bob"):
        assert messages(env, member, f"Shared/{name}") == [rp("s@example.net") + msg]
        assert list(flags(env, member, f"Shared/{name}").values()) == [[]]   # unread
    assert rows_in(env, name) == 1
    assert env.pg.psql(
        "SELECT count(DISTINCT mm.message_id) FROM mailbox_messages mm"
        " JOIN mailboxes m ON m.id = mm.mailbox_id JOIN accounts a ON a.id = m.owner_id"
        f" WHERE a.login IN ('{name}', '{person}')").strip() == "1"
    # \Seen is per member: alice reading it leaves it unread for bob.
    c = login(env.imap_port, "alice")
    ok(c, f'SELECT "Shared/{name}"')
    ok(c, "UID STORE 1 +FLAGS (\\Seen)")
    c.close()
    assert list(flags(env, "alice", f"Shared/{name}").values()) == [[b"\\Seen"]]
    assert list(flags(env, "bob", f"Shared/{name}").values()) == [[]]


def test_team_detail_folder_else_inbox(env):
    name = team(env, "--grant", "alice=lrswipkxte")
    c = login(env.imap_port, "alice")
    ok(c, f'CREATE "Shared/{name}/Lists"')
    c.close()
    send_raw(env, "s@example.net", [f"{name}+Lists@example.org"], body("tdet") + b".\r\n")
    send_raw(env, "s@example.net", [f"{name}+nosuch@example.org"], body("tmiss") + b".\r\n")
    assert messages(env, "bob", f"Shared/{name}/Lists") == [rp("s@example.net") + body("tdet")]
    assert messages(env, "bob", f"Shared/{name}") == [rp("s@example.net") + body("tmiss")]


def test_unknown_recipient_is_550_at_rcpt(env):
    with lmtp_to(env.lmtp_port) as s:
        code, text = s.rcpt(f"{unique('nobody')}@example.org")
    assert code == 550 and text.startswith(b"5.1.1")


def test_team_address_needs_no_directory(env):
    """A team address is the database's: it is delivered through a
    directory outage, while a person's address gets 451 4.4.3 (never
    5.x.x: the MTA retries)."""
    name = team(env)
    k = env.start_kairand(ldap_uri="ldap://127.0.0.1:1", ldap_timeout="1")
    with lmtp_to(lmtp_port_of(k)) as s:
        assert s.rcpt(f"{name}@example.org")[0] == 250
        code, text = s.rcpt("alice@example.org")
        assert code == 451 and text.startswith(b"4.4.3")
        s.data(body("outage"))
    k.stop()
    assert messages(env, "alice", f"Shared/{name}") == [rp("s@example.net") + body("outage")]


# --- kairanctl shared address -----------------------------------------------

def test_address_add_remove_list(env):
    name = team(env)
    extra = f"{name}-x@example.org"
    assert ctl_ok(env, "shared", "address", "add", name, extra.upper()).splitlines() == [
        f"Shared/{name}\t{extra}\tadded"]
    assert ctl_ok(env, "shared", "address", "add", name, extra).splitlines() == [
        f"Shared/{name}\t{extra}\talready there"]
    assert ctl_ok(env, "shared", "address", "list", name).splitlines() == [
        f"Shared/{name}\t{name}-x@example.org\tadmin",
        f"Shared/{name}\t{name}@example.org\tadmin"]
    assert f"Shared/{name}\t{extra}\tadmin" in ctl_ok(env, "shared", "address", "list")
    assert ctl_ok(env, "shared", "address", "remove", name, extra).splitlines() == [
        f"Shared/{name}\t{extra}\tremoved"]
    assert "has no address" in fails(env, 1, "shared", "address", "remove", name, extra)
    assert ctl_ok(env, "shared", "address", "list", name).splitlines() == [
        f"Shared/{name}\t{name}@example.org\tadmin"]
    # Mail to the removed address is refused again.
    rc, _ = send_raw(env, "s@example.net", [extra, f"{name}@example.org"], body("rm") + b".\r\n")
    assert codes(rc) == ["550 5.1.1", "250 2.1.5"]


def test_address_held_by_another_team_is_refused(env):
    a, b = team(env), team(env)
    assert f"belongs to Shared/{a}" in fails(env, 1, "shared", "address", "add", b,
                                               f"{a}@example.org")
    assert f"belongs to Shared/{a}" in fails(env, 1, "shared", "create", unique(), "--address",
                                               f"{a}@example.org")


def test_address_of_a_person_is_refused(env):
    """A clash with a person's mail in the directory is refused when the
    address is added: one of the two would never get mail."""
    name = team(env)
    assert "is the address of the person alice" in fails(
        env, 1, "shared", "address", "add", name, "Alice@example.org")
    other = unique()
    assert "is the address of the person bob" in fails(
        env, 1, "shared", "create", other, "--address", "bob@example.org")
    assert env.pg.psql(f"SELECT count(*) FROM accounts WHERE login = '{other}'").strip() == "0"


@pytest.mark.parametrize("args,reason", [
    (["shared", "address", "add", "x"], "takes NAME and ADDRESS"),
    (["shared", "address", "add", "x", "noat"], "is not an address"),
    (["shared", "address", "add", "x", "a b@example.org"], "is not an address"),
    (["shared", "address", "add", "x", "a@b@example.org"], "is not an address"),
    (["shared", "address", "add", "x", "\u00e9@example.org"], "is not an address"),
    (["shared", "address", "add", "x", "a" * 320 + "@example.org"], "is not an address"),
    (["shared", "address", "remove", "x"], "takes NAME and ADDRESS"),
    (["shared", "address", "list", "x", "y"], "at most a NAME"),
    (["shared", "create", "x", "--address"], "needs a value"),
    (["shared", "create", "x", "--address", "@example.org"], "is not an address"),
    (["shared", "sync", "x"], "takes no arguments"),
])
def test_usage_errors(env, args, reason):
    assert reason in fails(env, 2, *args)


def test_address_of_an_unknown_team(env):
    assert "no shared account" in fails(env, 1, "shared", "address", "add", unique(),
                                        f"{unique()}@example.org")
    assert "no shared account" in fails(env, 1, "shared", "address", "list", "alice")


# --- teams from the directory -----------------------------------------------

def ldap_team(env, name, *members, address=None):
    """An LDAP group with an address: groupOfNames has no mail attribute,
    so the entry is also an extensibleObject (tests/fixtures/demo.ldif)."""
    ldif = (f"dn: cn={name},ou=groups,dc=example,dc=org\nchangetype: add\n"
            "objectClass: groupOfNames\nobjectClass: extensibleObject\n"
            f"cn: {name}\nmail: {address or name + '@example.org'}\n")
    for m in members or ("alice",):
        ldif += f"member: uid={m},ou=people,dc=example,dc=org\n"
    env.slapd.ldapmodify(ldif)


def test_sync_makes_the_team_and_is_idempotent(env, tmp_path):
    # Fresh members: a session's groups are cached (ldap_cache_ttl), and
    # alice's were read before this group existed.
    name, member = unique("grp"), env.new_user("member")
    ldap_team(env, name, member)
    conf = write_conf(env, tmp_path, teams_from_directory=f"nosuchgroup, {name}")
    assert ctl_ok(env, "shared", "sync", conf=conf).splitlines() == [
        f"Shared/{name}\tcreated",
        f"Shared/{name}\tgranted\tgroup:{name}=lrswipte",
        f"Shared/{name}\taddress added\t{name}@example.org"]
    assert ctl_ok(env, "shared", "sync", conf=conf).splitlines() == [
        f"Shared/{name}\tup to date\t{name}@example.org"]
    assert ctl_ok(env, "shared", "address", "list", name).splitlines() == [
        f"Shared/{name}\t{name}@example.org\tdirectory"]
    # What an admin changes or adds stays: sync never takes anything away
    # nor puts back what was narrowed.
    ctl_ok(env, "acl", "set", f"Shared/{name}", f"group:{name}", "lr")
    ctl_ok(env, "shared", "address", "add", name, f"{name}-old@example.org")
    assert ctl_ok(env, "shared", "sync", conf=conf).splitlines() == [
        f"Shared/{name}\tup to date\t{name}@example.org"]
    assert f"group:{name}\tlr" in ctl_ok(env, "acl", "show", f"Shared/{name}")
    assert len(ctl_ok(env, "shared", "address", "list", name).splitlines()) == 2
    # Members read it at once; mail to the address lands there.
    send_raw(env, "s@example.net", [f"{name}@example.org"], body("synced") + b".\r\n")
    assert messages(env, member, f"Shared/{name}") == [rp("s@example.net") + body("synced")]


def test_sync_leaves_groups_not_listed_and_refuses_clashes(env, tmp_path):
    listed, unlisted, clash = unique("grp"), unique("grp"), unique("grp")
    ldap_team(env, listed)
    ldap_team(env, unlisted)
    ldap_team(env, clash, address="carol@example.org")   # a person's address
    conf = write_conf(env, tmp_path, teams_from_directory=f"{listed} {clash}")
    r = ctl(env, "shared", "sync", conf=conf)
    assert r.returncode == 0, r.stderr
    assert f"Shared/{listed}\tcreated" in r.stdout.splitlines()
    assert unlisted not in r.stdout and clash not in r.stdout
    assert f"LDAP group {clash} (carol@example.org) left alone" in r.stderr
    assert "is the address of the person carol" in r.stderr
    assert env.pg.psql(f"SELECT count(*) FROM accounts WHERE login IN ('{unlisted}', '{clash}')") \
        .strip() == "0"


def test_sync_when_off(env, tmp_path):
    assert "teams_from_directory is no" in fails(env, 1, "shared", "sync")
    conf = write_conf(env, tmp_path, teams_from_directory="yes", team_rights="lrz!")
    assert "team_rights" in fails(env, 1, "shared", "sync", conf=conf)


def test_first_delivery_makes_the_team(env):
    name, m1, m2 = unique("grp"), env.new_user("member"), env.new_user("member")
    ldap_team(env, name, m1, m2)
    k = env.start_kairand(teams_from_directory="yes", team_rights="lrs")
    with lmtp_to(lmtp_port_of(k)) as s:
        assert s.rcpt(f"{name}@example.org")[0] == 250
        s.data(body("first"))
    # The second delivery finds the team address.
    rc, out = send_raw(env, "s@example.net", [f"{name}@example.org"], body("second") + b".\r\n")
    assert codes(out) == ["250 2.1.5"]
    k.stop()
    assert messages(env, m1, f"Shared/{name}") == [
        rp("s@example.net") + body("first"), rp("s@example.net") + body("second")]
    assert list(flags(env, m2, f"Shared/{name}").values()) == [[], []]
    assert f"group:{name}\tlrs" in ctl_ok(env, "acl", "show", f"Shared/{name}")
    assert ctl_ok(env, "shared", "address", "list", name).splitlines() == [
        f"Shared/{name}\t{name}@example.org\tdirectory"]


def test_group_address_not_a_team_unless_allowed(env):
    """Off by default, and only the listed groups when given a list: an
    LDAP group's address is then an unknown recipient."""
    name = unique("grp")
    ldap_team(env, name)
    k = env.start_kairand(teams_from_directory="someothergroup")
    for p in (env.lmtp_port, lmtp_port_of(k)):
        with lmtp_to(p) as s:
            code, text = s.rcpt(f"{name}@example.org")
            assert code == 550 and text.startswith(b"5.1.1")
    k.stop()
    assert env.pg.psql(f"SELECT count(*) FROM accounts WHERE login = '{name}'").strip() == "0"


def test_filter_metacharacters_match_no_group(env):
    """RFC 4515 §3: the address is escaped in the team filter, so "*" or
    parentheses in a recipient match no group (a wildcard would make any
    group's team, or fail the search)."""
    name = unique("grp")
    ldap_team(env, name)
    k = env.start_kairand(teams_from_directory="yes")
    with lmtp_to(lmtp_port_of(k)) as s:
        for rcpt in ("*@example.org", f"{name[:3]}*@example.org", "*", f"{name})(cn=*@x"):
            code, text = s.rcpt(f"{rcpt}" if "@" in rcpt else f"{rcpt}@example.org")
            assert code == 550 and text.startswith(b"5.1.1"), (rcpt, code, text)
    k.stop()
    assert env.pg.psql(f"SELECT count(*) FROM accounts WHERE login = '{name}'").strip() == "0"


def test_directory_outage_is_temporary_with_teams_on(env):
    k = env.start_kairand(teams_from_directory="yes", ldap_uri="ldap://127.0.0.1:1",
                          ldap_timeout="1")
    with lmtp_to(lmtp_port_of(k)) as s:
        code, text = s.rcpt(f"{unique('grp')}@example.org")
    k.stop()
    assert code == 451 and text.startswith(b"4.4.3")


def test_bad_team_config_refused_at_start(env):
    status, err = env.kairand_must_fail(team_rights="xyz!")
    assert status not in (None, 0) and "team_rights" in err, err
    status, err = env.kairand_must_fail(ldap_team_filter="objectClass=x")
    assert status not in (None, 0) and "team filter" in err, err
    status, err = env.kairand_must_fail(teams_from_directory=" , ")
    assert status not in (None, 0) and "teams_from_directory" in err, err
    status, err = env.kairand_must_fail(ldap_team_mail_attribute="mail attr")
    assert status not in (None, 0) and "team mail attribute" in err, err
