"""Shared folders across the three namespaces (RFC 2342, RFC 4314 §4,
DESIGN.md "Namespaces and shared folders", docs/acl.md): a user's mailbox
shared with another user appears under "Other Users/<login>/", a shared
account's mailboxes under "Shared/<name>/", LIST shows them to whoever has
"l", and every command works on them with exactly the rights it needs.

Each test makes its own people and groups, so tests do not see each
other's shares."""

import subprocess
import time

import pytest

from imapclient import login, ok

MSG = (b"From: Alice <alice@example.org>\r\nTo: team@example.org\r\n"
       b"Subject: quarterly numbers\r\nMessage-ID: <q1@example.org>\r\n\r\n"
       b"The numbers are in.\r\n")


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def refused(c, text, code, tag="t"):
    tagged, untagged = c.cmd(tag, text)
    want = f"{tag} NO [{code}]".encode()
    assert tagged.startswith(want), (text, tagged, untagged)
    return untagged


def append(c, mailbox, msg=MSG, flags="", tag="ap"):
    c.send(f"{tag} APPEND {quote(mailbox)} {flags}{{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
    return c.read_tagged(tag)[0]


def listed(c, pattern="*", ref=""):
    """{name: attributes} from LIST."""
    out = {}
    for line in ok(c, f"LIST {quote(ref)} {quote(pattern)}", "li"):
        head, _, name = line.decode().partition(') "/" ')
        out[name.strip('"')] = head[len("* LIST ("):].split()
    return out


def lsubbed(c):
    names = set()
    for line in ok(c, 'LSUB "" "*"', "ls"):
        names.add(line.decode().partition(') "/" ')[2].strip('"'))
    return names


def new_group(env, prefix, members):
    """A groupOfNames with the given logins; returns its name."""
    env._n += 1
    name = f"{prefix}{env._n}g"
    lines = "".join(f"member: uid={m},ou=people,dc=example,dc=org\n" for m in members)
    env.slapd.ldapmodify(f"dn: cn={name},ou=groups,dc=example,dc=org\nchangetype: add\n"
                         f"objectClass: groupOfNames\ncn: {name}\n{lines}")
    return name


def set_members(env, group, members):
    lines = "".join(f"member: uid={m},ou=people,dc=example,dc=org\n" for m in members)
    env.slapd.ldapmodify(f"dn: cn={group},ou=groups,dc=example,dc=org\nchangetype: modify\n"
                         f"replace: member\n{lines}-\n")


def new_shared_account(env, name, grants):
    """A shared account with its INBOX (Shared/<name>), made as an admin
    makes it: kairanctl shared create, per-user \\Seen by default."""
    args = [env.kairand.kairanctl, "-c", env.kairand.conf_path, "shared", "create", name]
    for ident, rights in grants.items():
        args += ["--grant", f"{ident}={rights}"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (args, r.stdout, r.stderr)


@pytest.fixture
def people(env):
    """Three fresh people who have each logged in once (so their accounts
    exist), like alice, bob and carol of the issue."""
    users = [env.new_user(p) for p in ("alice", "bob", "carol")]
    for u in users:
        login(env.imap_port, u).close()
    return users


# --- Other Users/ ------------------------------------------------------

def test_rfc4314_setacl_shares_a_mailbox_as_other_users_read_only(env, people):
    alice, bob, _ = people
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    ok(a, "CREATE INBOX/Projects")
    assert append(a, "INBOX/Projects").startswith(b"ap OK")
    ok(a, f"SETACL INBOX/Projects {bob} lr")
    boxes = listed(b)
    assert f"Other Users/{alice}/Projects" in boxes, boxes
    # The owner's root is a level of hierarchy bob may not open.
    assert "\\Noselect" in boxes[f"Other Users/{alice}"], boxes
    assert "\\HasChildren" in boxes["Other Users"] and "\\Noselect" in boxes["Other Users"]
    # RFC 4314 §4: "r" without any write right: READ-ONLY.
    untagged = b.cmd("s", f'SELECT "Other Users/{alice}/Projects"')
    assert untagged[0].startswith(b"s OK [READ-ONLY]"), untagged
    assert b"* 1 EXISTS" in untagged[1]
    _, u = b.cmd("f", "FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    assert b"quarterly numbers" in b"".join(u)
    refused(b, "STORE 1 +FLAGS (\\Flagged)", "READ-ONLY")
    refused(b, "EXPUNGE", "READ-ONLY")
    assert append(b, f"Other Users/{alice}/Projects").startswith(b"ap NO [NOPERM]")
    _, u = b.cmd("m", f'MYRIGHTS "Other Users/{alice}/Projects"')
    assert u == [f'* MYRIGHTS "Other Users/{alice}/Projects" lr'.encode()], u
    a.close()
    b.close()


def test_rfc4314_4_no_existence_leak_for_mailboxes_without_l_or_r(env, people):
    alice, bob, carol = people
    a, c = login(env.imap_port, alice), login(env.imap_port, carol)
    ok(a, "CREATE Private")
    ok(a, f"SETACL Private {bob} lr")
    for name in (f"Other Users/{alice}/Private", f"Other Users/{alice}/Nothing",
                 f"Other Users/{alice}", "Other Users/nobody-here/x", "Other Users",
                 "Shared", "Shared/nosuchteam"):
        for cmd in (f"SELECT {quote(name)}", f"EXAMINE {quote(name)}",
                    f"STATUS {quote(name)} (MESSAGES)", f"GETACL {quote(name)}",
                    f"MYRIGHTS {quote(name)}", f"DELETE {quote(name)}"):
            tagged, _ = c.cmd("x", cmd)
            assert tagged.startswith(b"x NO [NONEXISTENT]") or (
                cmd.startswith("DELETE") and tagged.startswith(b"x NO [CANNOT]")), (cmd, tagged)
        assert append(c, name).startswith(b"ap NO [NONEXISTENT]"), name
    assert not any(n.startswith("Other Users") for n in listed(c)), listed(c)
    a.close()
    c.close()


def test_own_mailboxes_are_not_repeated_under_other_users(env, people):
    alice, bob, _ = people
    a = login(env.imap_port, alice)
    ok(a, f"SETACL INBOX {bob} lr")
    refused(a, f'SELECT "Other Users/{alice}"', "NONEXISTENT")
    assert not any(n.startswith("Other Users") for n in listed(a))
    a.close()


def test_shared_inbox_is_the_owners_root(env, people):
    alice, bob, _ = people
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    append(a, "INBOX")
    ok(a, f"SETACL INBOX {bob} lrs")
    refused(b, f'DELETE "Other Users/{alice}"', "NOPERM")
    ok(a, f"SETACL INBOX {bob} +x")
    boxes = listed(b, f"Other Users/{alice}")
    assert list(boxes) == [f"Other Users/{alice}"] and "\\Noselect" not in boxes[
        f"Other Users/{alice}"], boxes
    untagged = b.cmd("s", f'SELECT "Other Users/{alice}"')
    assert untagged[0].startswith(b"s OK [READ-WRITE]"), untagged
    refused(b, f'DELETE "Other Users/{alice}"', "CANNOT")
    a.close()
    b.close()


def test_rfc4314_4_create_delete_rename_in_another_users_namespace(env, people):
    alice, bob, _ = people
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    ok(a, "CREATE INBOX/Projects")
    ok(a, f"SETACL INBOX/Projects {bob} lr")
    # CREATE needs "k" on the parent.
    refused(b, f'CREATE "Other Users/{alice}/Projects/2025"', "NOPERM")
    refused(b, f'CREATE "Other Users/{alice}/Elsewhere"', "NOPERM")
    ok(a, f"SETACL INBOX/Projects {bob} +k")
    ok(b, f'CREATE "Other Users/{alice}/Projects/2025"')
    assert "INBOX/Projects/2025" in listed(a), listed(a)
    # The new mailbox is alice's, with its parent's ACL (RFC 4314 §4:
    # a new mailbox SHOULD inherit the parent's ACL).
    _, u = b.cmd("m", f'MYRIGHTS "Other Users/{alice}/Projects/2025"')
    assert u == [f'* MYRIGHTS "Other Users/{alice}/Projects/2025" lrkc'.encode()], u
    _, u = a.cmd("g", "GETACL INBOX/Projects/2025")
    assert f" {bob} lrk".encode() in u[0], u
    ok(a, f"SETACL INBOX/Projects/2025 {bob} lrx")
    # RENAME needs "x" on the source and "k" on the new parent; it cannot
    # move a mailbox to another owner.
    refused(b, f'RENAME "Other Users/{alice}/Projects/2025" "Mine2025"', "CANNOT")
    ok(b, f'RENAME "Other Users/{alice}/Projects/2025" "Other Users/{alice}/Projects/FY25"')
    assert "INBOX/Projects/FY25" in listed(a), listed(a)
    ok(b, f'DELETE "Other Users/{alice}/Projects/FY25"')
    assert "INBOX/Projects/FY25" not in listed(a)
    refused(b, f'DELETE "Other Users/{alice}/Projects"', "NOPERM")
    a.close()
    b.close()


def test_personal_names_keep_clear_of_namespaces_and_of_each_other(env, people):
    alice, _, _ = people
    a = login(env.imap_port, alice)
    refused(a, "CREATE Shared", "CANNOT")
    refused(a, 'CREATE "Other Users"', "CANNOT")
    # "Other Users/x" and "Shared/x" are never personal names; those two
    # are roots of other owners, made by kairanctl, not by CREATE.
    refused(a, 'CREATE "Shared/mine"', "CANNOT")
    refused(a, 'CREATE "Shared/mine/x"', "NOPERM")
    # Others see INBOX/Projects and Projects under one name, so an owner
    # cannot have both.
    ok(a, "CREATE INBOX/Projects")
    refused(a, "CREATE Projects", "ALREADYEXISTS")
    ok(a, "CREATE Plans")
    refused(a, "RENAME Plans Projects", "ALREADYEXISTS")
    ok(a, "RENAME Plans INBOX/Plans")       # the same name for others: fine
    a.close()


# --- Shared/ and the sales-team scenario of the issue ------------------

def test_sales_team_scenario(env, people):
    """LDAP group sales = {alice, bob}; Shared/sales granted to the group;
    mail circulates; carol is kept out until the admin adds her; bob loses
    access in his open session when removed (ldap_cache_ttl 1 s)."""
    alice, bob, carol = people
    k = env.start_kairand(ldap_cache_ttl="1")
    port = k.imap_port
    group = new_group(env, "sales", [alice, bob])
    team = f"sales{group}"
    new_shared_account(env, team, {f"group:{group}": "lrswipte"})
    a, b, c = login(port, alice), login(port, bob), login(port, carol)

    assert append(a, f"Shared/{team}").startswith(b"ap OK [APPENDUID")
    assert f"Shared/{team}" in listed(b)
    untagged = b.cmd("s", f'SELECT "Shared/{team}"')
    assert untagged[0].startswith(b"s OK [READ-WRITE]"), untagged
    _, u = b.cmd("f", "FETCH 1 BODY[]")
    assert b"The numbers are in." in b"".join(u) and b"\\Seen" in b"".join(u)
    # Per-user \Seen: bob reading it does not make it read for alice.
    ok(a, f'SELECT "Shared/{team}"')
    _, u = a.cmd("f", "FETCH 1 FLAGS")
    assert b"\\Seen" not in b"".join(u), u
    _, u = a.cmd("st", f'STATUS "Shared/{team}" (UNSEEN)')
    assert b"UNSEEN 1" in u[0], u

    for cmd in (f'SELECT "Shared/{team}"', f'EXAMINE "Shared/{team}"',
                f'STATUS "Shared/{team}" (MESSAGES)', f'GETACL "Shared/{team}"'):
        tagged, _ = c.cmd("x", cmd)
        assert tagged.startswith(b"x NO [NONEXISTENT]"), (cmd, tagged)
    assert f"Shared/{team}" not in listed(c)

    # The admin adds carol with ldapmodify: within the TTL she is in.
    set_members(env, group, [alice, bob, carol])
    time.sleep(1.5)
    assert f"Shared/{team}" in listed(c)
    assert c.cmd("s", f'SELECT "Shared/{team}"')[0].startswith(b"s OK")
    # ... and subscribed, for clients that show only subscribed folders.
    assert f"Shared/{team}" in lsubbed(c)

    # Bob is removed: his open session loses the mailbox at its next
    # command once the TTL has passed.
    set_members(env, group, [alice, carol])
    time.sleep(1.5)
    tagged, u = b.cmd("f", "FETCH 1 FLAGS")
    assert tagged.startswith(b"f NO [NOPERM]"), tagged
    assert b"* OK [CLOSED] Access to the mailbox was withdrawn" in u, u
    assert f"Shared/{team}" not in listed(b)
    refused(b, f'SELECT "Shared/{team}"', "NONEXISTENT")
    for s in (a, b, c):
        s.close()


def test_copy_and_move_between_namespaces(env, people):
    alice, bob, _ = people
    group = new_group(env, "ops", [alice, bob])
    team = f"ops{group}"
    new_shared_account(env, team, {f"group:{group}": "lrswipte"})
    b = login(env.imap_port, bob)
    append(b, "INBOX")
    ok(b, "SELECT INBOX")
    _, u = b.cmd("c", f'COPY 1 "Shared/{team}"')
    tagged, _ = b.cmd("c2", f'COPY 1 "Shared/{team}"')
    assert tagged.startswith(b"c2 OK [COPYUID "), tagged
    ok(b, f'SELECT "Shared/{team}"')
    tagged, u = b.cmd("m", "MOVE 1 Archive")
    assert tagged.startswith(b"m OK"), tagged
    assert any(b"[COPYUID " in line for line in u), u
    _, u = b.cmd("st", f'STATUS "Shared/{team}" (MESSAGES)')
    assert b"MESSAGES 1" in u[0], u
    b.close()


def test_negative_rights_and_anyone(env, people):
    alice, bob, carol = people
    group = new_group(env, "neg", [bob, carol])
    a, b, c = (login(env.imap_port, u) for u in people)
    ok(a, "CREATE Board")
    ok(a, f"SETACL Board group:{group} lr")
    ok(a, f"SETACL Board -{bob} r")
    # bob keeps "l" (sees it) but not "r": NOPERM, not NONEXISTENT.
    assert f"Other Users/{alice}/Board" in listed(b)
    refused(b, f'SELECT "Other Users/{alice}/Board"', "NOPERM")
    assert c.cmd("s", f'EXAMINE "Other Users/{alice}/Board"')[0].startswith(b"s OK")
    ok(a, "CREATE Notices")
    # "anyone" reaches every account of the shared test instance: taken
    # away again at once, so other tests' LIST output stays their own.
    ok(a, "SETACL Notices anyone lr")
    try:
        assert f"Other Users/{alice}/Notices" in listed(b)
    finally:
        ok(a, "DELETEACL Notices anyone")
    for s in (a, b, c):
        s.close()


def test_auto_subscribe_once_and_unsubscribe_sticks(env, people):
    alice, bob, _ = people
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    ok(a, "CREATE Sub")
    ok(a, f"SETACL Sub {bob} lr")
    listed(b)
    assert f"Other Users/{alice}/Sub" in lsubbed(b)
    ok(b, f'UNSUBSCRIBE "Other Users/{alice}/Sub"')
    listed(b)
    assert f"Other Users/{alice}/Sub" not in lsubbed(b)
    a.close()
    b.close()


def test_auto_subscribe_can_be_turned_off(env, people):
    alice, bob, _ = people
    k = env.start_kairand(auto_subscribe_shared="no")
    a, b = login(k.imap_port, alice), login(k.imap_port, bob)
    ok(a, "CREATE NoSub")
    ok(a, f"SETACL NoSub {bob} lr")
    assert f"Other Users/{alice}/NoSub" in listed(b)
    assert f"Other Users/{alice}/NoSub" not in lsubbed(b)
    a.close()
    b.close()


def test_rfc4314_3_acl_commands_name_the_real_owner(env, people):
    """GETACL lists the owner's implicit rights under the owner's login,
    not the caller's; LISTRIGHTS and SETACL treat that login as the owner;
    a shared account, which is nobody, is not listed."""
    alice, bob, _ = people
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    ok(a, "CREATE Admin")
    ok(a, f"SETACL Admin {bob} lra")
    _, u = b.cmd("g", f'GETACL "Other Users/{alice}/Admin"')
    assert u == [f'* ACL "Other Users/{alice}/Admin" {alice} lrswipkxtea {bob} lra'.encode()], u
    _, u = b.cmd("r", f'LISTRIGHTS "Other Users/{alice}/Admin" {alice}')
    assert u[0].endswith(b" la r s w i p k x t e c d"), u      # §3.4: owner keeps l a
    ok(b, f'SETACL "Other Users/{alice}/Admin" {alice} r')
    _, u = a.cmd("m", "MYRIGHTS Admin")
    assert u == [b"* MYRIGHTS Admin lra"], u
    team = f"adm{alice}"
    new_shared_account(env, team, {bob: "lra"})
    _, u = b.cmd("g2", f'GETACL "Shared/{team}"')
    assert u == [f'* ACL Shared/{team} {bob} lra'.encode()], u
    a.close()
    b.close()


def test_per_user_seen_with_two_real_readers(env, people):
    """Two members of a team mailbox, each with their own \\Seen: STORE,
    SEARCH, STATUS, SELECT's [UNSEEN n] and COPY out all use the caller's
    own; \\Flagged is common to both."""
    alice, bob, _ = people
    group = new_group(env, "two", [alice, bob])
    team = f"two{group}"
    new_shared_account(env, team, {f"group:{group}": "lrswipte"})
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    for _ in range(3):
        assert append(a, f"Shared/{team}").startswith(b"ap OK")
    ok(b, f'SELECT "Shared/{team}"')
    ok(b, "STORE 1:2 +FLAGS.SILENT (\\Seen)")
    ok(b, "STORE 3 +FLAGS.SILENT (\\Flagged)")
    _, u = b.cmd("se", "SEARCH UNSEEN")
    assert u == [b"* SEARCH 3"], u
    _, u = a.cmd("st", f'STATUS "Shared/{team}" (UNSEEN)')
    assert b"UNSEEN 3" in u[0], u
    untagged = a.cmd("s", f'SELECT "Shared/{team}"')[1]
    assert b"* OK [UNSEEN 1] First unseen message" in untagged, untagged
    _, u = a.cmd("se", "SEARCH SEEN")
    assert u == [b"* SEARCH"], u
    _, u = a.cmd("fl", "FETCH 3 FLAGS")
    assert u == [b"* 3 FETCH (FLAGS (\\Flagged))"], u
    _, u = b.cmd("st2", f'STATUS "Shared/{team}" (UNSEEN)')
    assert b"UNSEEN 1" in u[0], u
    # bob copies his read message out: it is read in his own INBOX.
    ok(b, "COPY 1 INBOX")
    ok(b, "EXAMINE INBOX")
    _, u = b.cmd("f", "FETCH * FLAGS")
    assert b"\\Seen" in u[-1], u
    a.close()
    b.close()
