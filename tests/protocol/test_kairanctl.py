"""kairanctl's shared-folder and ACL commands (docs/kairanctl.md): shared
create/list, acl set/remove/show in both MAILBOX forms, who-can-access with
groups expanded through the directory, what-user-can-see, exit statuses and
messages, and agreement with what kairand answers over IMAP."""

import itertools
import os
import subprocess

import pytest

import kairan_env as ke
from imapclient import connect

_n = itertools.count()

SALES_DN = "cn=sales,ou=groups,dc=example,dc=org"


def unique(prefix="team"):
    """A name no other test (or earlier run on this database) uses."""
    return f"{prefix}{next(_n)}x{os.getpid()}"


def ctl(env, *args, conf=None):
    """Runs kairanctl with the shared instance's config (or `conf`)."""
    return subprocess.run([env.kairand.kairanctl, "-c", conf or env.kairand.conf_path, *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=60, env=ke._clean_env())


def ok(env, *args, conf=None):
    r = ctl(env, *args, conf=conf)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def fails(env, code, *args, conf=None):
    """Runs a command that must exit with `code` and one "kairanctl: ..."
    reason on stderr (a usage error may add its usage line); returns it."""
    r = ctl(env, *args, conf=conf)
    assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
    first = r.stderr.splitlines()[0]
    assert first.startswith("kairanctl: "), r.stderr
    if code == 1:
        assert r.stderr.count("\n") == 1, r.stderr
    return first


def rows(out):
    """Tab-separated lines as lists; the output is sorted bytewise."""
    lines = out.splitlines()
    assert lines == sorted(lines, key=lambda s: s.encode()), out
    return [line.split("\t") for line in lines]


def by_name(out):
    return {r[0]: r[1:] for r in rows(out)}


def login(env, user):
    c = connect(env.imap_port)
    assert c.cmd("l", f"LOGIN {user} secret")[0].startswith(b"l OK")
    return c


def write_conf(env, tmp_path, **overrides):
    path = str(tmp_path / "kairan.conf")
    ke.write_config(path, env.make_config(**overrides))
    return path


def mailbox_row(env, login_, name):
    return env.pg.psql(f"SELECT a.kind, m.seen_per_user, m.seen_fixed FROM accounts a"
                       f" JOIN mailboxes m ON m.owner_id = a.id"
                       f" WHERE a.login = '{login_}' AND m.name = '{name}'").strip()


@pytest.fixture(autouse=True)
def no_anyone_left(env):
    """Entries for "anyone" and "authenticated" reach every account of the
    shared test instance, and other tests compare exact LIST output: none
    may outlive the test that made it."""
    yield
    env.pg.psql("DELETE FROM acl WHERE identifier IN ('anyone', 'authenticated')")


@pytest.fixture(scope="module")
def team(env):
    name = unique()
    ok(env, "shared", "create", name)
    return name


# --- shared create / list ---------------------------------------------------

def test_shared_create_then_again_is_idempotent(env):
    name, user = unique(), env.new_user("kc")
    out = ok(env, "shared", "create", name, "--grant", "group:sales=lrswipte",
             "--grant", f"{user}=lr")
    assert out.splitlines() == [f"created shared account {name}: Shared/{name}",
                                f"Shared/{name}\tgroup:sales\tlrswipte",
                                f"Shared/{name}\t{user}\tlr"]
    # Members' mailboxes default to per-user \Seen, not fixed by an admin.
    assert mailbox_row(env, name, "INBOX") == "shared|t|f"

    out = ok(env, "shared", "create", name, "--grant", f"{user}=+w", "--seen", "shared")
    assert out.splitlines() == [f"shared account {name} exists: grants and settings updated",
                                f"Shared/{name}\tseen=shared",
                                f"Shared/{name}\t{user}\tlrw"]
    assert mailbox_row(env, name, "INBOX") == "shared|f|t"
    assert ok(env, "shared", "create", name).splitlines() == [
        f"shared account {name} exists: nothing to change"]
    assert env.pg.psql(f"SELECT count(*) FROM accounts WHERE login = '{name}'").strip() == "1"
    listing = ok(env, "shared", "list").splitlines()
    assert f"Shared/{name}\tseen=shared,fixed\tgroup:sales=lrswipte\t{user}=lrw" in listing


def test_shared_create_refused_for_a_person(env):
    user, person = env.new_user("kc"), env.new_user("kc")
    login(env, user).close()                # has an account of kind 'user'
    assert "is a user account" in fails(env, 1, "shared", "create", user)
    # In the directory but never logged in: their first login would fail.
    assert "is a person in the directory" in fails(env, 1, "shared", "create", person)
    assert env.pg.psql(f"SELECT count(*) FROM accounts WHERE kind = 'shared'"
                       f" AND login IN ('{user}', '{person}')").strip() == "0"


@pytest.mark.parametrize("name", ["a/b", "", "two words", "anyone", "group:x", "-x",
                                  "x" * 300, "tab\there", "st*r",
                                  "\udcff"])   # the byte 0xff: not UTF-8
def test_shared_create_refuses_bad_names(env, name):
    assert "invalid shared account name" in fails(env, 2, "shared", "create", name)


@pytest.mark.parametrize("args", [
    ["shared", "create"],
    ["shared", "create", "x", "--seen", "maybe"],
    ["shared", "create", "x", "--grant", "bob"],
    ["shared", "create", "x", "--grant"],
    ["shared", "create", "x", "y"],
    ["shared", "list", "x"],
    ["shared"],
    ["acl"],
    ["acl", "set", "Shared/x", "bob"],
    ["acl", "show"],
    ["who-can-access"],
    ["what-user-can-see", "a", "b"],
    ["frob"],
])
def test_usage_errors_exit_2(env, args):
    fails(env, 2, *args)


# --- acl set / remove / show ------------------------------------------------

def test_acl_on_shared_mailboxes_with_modifiers(env, team):
    box = f"Shared/{team}"
    # A login is stored as the directory spells it, as IMAP SETACL does.
    assert ok(env, "acl", "set", box, "BOB", "lr") == f"{box}\tbob\tlr\n"
    ok(env, "acl", "set", box, "bob", "+wc")          # c is k (RFC 4314 §2.1.1)
    assert ok(env, "acl", "show", box) == "bob\tlrwk\n"
    ok(env, "acl", "set", box, "bob", "-rd")          # d is x, t and e
    ok(env, "acl", "set", box, "-group:sales", "w")
    assert rows(ok(env, "acl", "show", box)) == [["-group:sales", "w"], ["bob", "lwk"]]
    assert ok(env, "acl", "remove", box, "BOB") == f"{box}\tbob\t-\n"
    assert "nothing removed" in ok(env, "acl", "remove", box, "bob")
    assert ok(env, "acl", "set", box, "-group:sales", "-w") == f"{box}\t-group:sales\t-\n"
    assert ok(env, "acl", "show", box) == ""

    # Shared/NAME/SUB is the shared account's mailbox whose shared_name is SUB,
    # the same mailbox as NAME:SUB.
    env.pg.psql(f"INSERT INTO mailboxes (owner_id, name, seen_per_user)"
                f" SELECT id, 'Archive', true FROM accounts WHERE login = '{team}'")
    assert ok(env, "acl", "set", f"{box}/Archive", "group:sales", "lr") == \
        f"{box}/Archive\tgroup:sales\tlr\n"
    assert ok(env, "acl", "show", f"{team}:Archive") == "group:sales\tlr\n"
    assert f"{box}/Archive\tseen=per-user\tgroup:sales=lr" in ok(env, "shared", "list").splitlines()


def test_acl_on_a_persons_mailbox_keeps_the_owners_l_and_a(env):
    user = env.new_user("kc")
    c = login(env, user)
    assert c.cmd("c", "CREATE INBOX/Projects")[0].startswith(b"c OK")
    c.close()
    box = f"{user}:INBOX/Projects"
    assert mailbox_row(env, user, "INBOX/Projects") == "user|f|f"
    # INBOX in any case, as in IMAP.
    assert ok(env, "acl", "set", f"{user}:inbox/Projects", "carol", "lr") == f"{box}\tcarol\tlr\n"
    # Sharing "r" with someone else makes \Seen per user (migration 0006).
    assert mailbox_row(env, user, "INBOX/Projects") == "user|t|f"
    assert rows(ok(env, "acl", "show", box)) == [["carol", "lr"],
                                                 [user, "lrswipkxtea", "(owner default)"]]
    assert ok(env, "acl", "set", box, user, "") == f"{box}\t{user}\tla\n"
    assert ok(env, "acl", "set", box, user, "-la") == f"{box}\t{user}\tla\n"
    assert ok(env, "acl", "set", box, user, "+r") == f"{box}\t{user}\tlra\n"
    ok(env, "acl", "remove", box, user)
    assert [user, "lrswipkxtea", "(owner default)"] in rows(ok(env, "acl", "show", box))


@pytest.mark.parametrize("ident, rights, code, reason", [
    ("bo b", "lr", 2, "invalid identifier 'bo b': character not allowed"),
    ("Anyone", "lr", 2, "invalid identifier 'Anyone': reserved identifier"),
    ("GROUP:sales", "lr", 2, "reserved identifier"),
    ("group:", "lr", 2, "group identifier without a name"),
    ("--bob", "lr", 2, "reserved identifier"),
    ("", "lr", 2, "empty identifier"),
    ("nobody-there", "lr", 1, "no user 'nobody-there' in the directory"),
    ("bob", "lz", 2, "invalid rights 'lz'"),
    ("bob", "+-l", 2, "invalid rights"),
    ("bob", "L", 2, "invalid rights"),
    ("bob", "l1", 2, "invalid rights"),
])
def test_acl_set_refuses_bad_identifiers_and_rights(env, team, ident, rights, code, reason):
    assert reason in fails(env, code, "acl", "set", f"Shared/{team}", ident, rights)
    assert "bo b" not in ok(env, "acl", "show", f"Shared/{team}")


@pytest.mark.parametrize("mailbox, code, reason", [
    ("INBOX", 2, "expected Shared/NAME[/SUB...] or LOGIN:NAME"),
    ("Shared/", 2, "no shared account after Shared/"),
    (":INBOX", 2, "no login before ':'"),
    ("alice:a//b", 2, "empty hierarchy level"),
    ("Shared/no-such-team", 1, "no shared account 'no-such-team'"),
    ("no-such-login:INBOX", 1, "no account 'no-such-login'"),
])
def test_bad_mailboxes(env, mailbox, code, reason):
    assert reason in fails(env, code, "acl", "show", mailbox)


# --- who-can-access / what-user-can-see ---------------------------------------

def sales_member(env, user, change):
    env.slapd.ldapmodify(f"dn: {SALES_DN}\nchangetype: modify\n{change}: member\n"
                         f"member: uid={user},ou=people,dc=example,dc=org\n")


def test_who_can_access_expands_groups_and_sees_directory_changes(env):
    name, user = unique(), env.new_user("kc")
    ok(env, "shared", "create", name, "--grant", "group:sales=lrs")
    who = by_name(ok(env, "who-can-access", f"Shared/{name}"))
    assert who == {"alice": ["lrs", "(via group:sales)"], "bob": ["lrs", "(via group:sales)"]}
    # kairanctl caches nothing: a new member shows at the next run.
    sales_member(env, user, "add")
    try:
        who = by_name(ok(env, "who-can-access", f"Shared/{name}"))
        assert who[user] == ["lrs", "(via group:sales)"]
        assert [f"Shared/{name}", "lrs", "(via group:sales)"] in \
            rows(ok(env, "what-user-can-see", user))
    finally:
        sales_member(env, user, "delete")
    assert user not in by_name(ok(env, "who-can-access", f"Shared/{name}"))


def test_negative_entry_takes_a_right_from_one_member(env):
    name = unique()
    ok(env, "shared", "create", name, "--grant", "group:sales=lrsw", "--grant", "-bob=w",
       "--grant", "anyone=l", "--grant", "authenticated=lr")
    assert rows(ok(env, "who-can-access", f"Shared/{name}")) == [
        ["alice", "lrsw", "(via anyone, authenticated, group:sales)"],
        ["anyone", "l", "(via anyone)"],
        ["authenticated", "lr", "(via anyone, authenticated)"],
        ["bob", "lrs", "(via -bob, anyone, authenticated, group:sales)"],
    ]


def test_who_can_access_a_persons_mailbox_lists_the_owner(env):
    user = env.new_user("kc")
    login(env, user).close()
    ok(env, "acl", "set", f"{user}:INBOX", user, "-x")
    ok(env, "acl", "set", f"{user}:INBOX", "carol", "lr")
    gone = env.new_user("kc")
    ok(env, "acl", "set", f"{user}:INBOX", gone, "lr")
    env.slapd.ldapmodify(f"dn: uid={gone},ou=people,dc=example,dc=org\nchangetype: delete\n")
    assert by_name(ok(env, "who-can-access", f"{user}:INBOX")) == {
        "carol": ["lr", "(via carol)"],
        gone: ["-", "(not in the directory: cannot log in)"],
        user: ["lrswipktea", f"(via owner, {user})"],
    }
    # The entry of someone who left is removed as stored, without the directory.
    assert ok(env, "acl", "remove", f"{user}:INBOX", gone) == f"{user}:INBOX\t{gone}\t-\n"


def test_what_user_can_see_lists_personal_and_shared_names(env):
    user, other, name = env.new_user("kc"), env.new_user("kc"), unique()
    login(env, user).close()
    c = login(env, other)
    for box in ("INBOX/Plans", "Notes"):
        assert c.cmd("c", f"CREATE {box}")[0].startswith(b"c OK")
    c.close()
    ok(env, "acl", "set", f"{other}:INBOX/Plans", user, "lr")
    ok(env, "acl", "set", f"{other}:INBOX", user, "l")
    ok(env, "acl", "set", f"{other}:Notes", "anyone", "lr")
    ok(env, "acl", "set", f"{other}:Notes", f"-{user}", "r")
    ok(env, "acl", "set", f"{other}:Sent", user, "w")           # no l or r: not seen
    ok(env, "shared", "create", name, "--grant", f"{user}=lrs")
    seen = by_name(ok(env, "what-user-can-see", user))
    mine = {k: v for k, v in seen.items() if "/" not in k}
    assert mine == {box: ["lrswipkxtea", "(via owner)"]
                    for box in ("Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash")}
    theirs = {k: v for k, v in seen.items() if other in k or name in k}
    assert theirs == {
        f"Other Users/{other}": ["l", f"(via {user})"],
        f"Other Users/{other}/Notes": ["l", f"(via -{user}, anyone)"],
        f"Other Users/{other}/Plans": ["lr", f"(via {user})"],
        f"Shared/{name}": ["lrs", f"(via {user})"],
    }
    assert "no user 'no-such-person' in the directory" in \
        fails(env, 1, "what-user-can-see", "no-such-person")


def test_imap_agrees_with_kairanctl(env):
    """MYRIGHTS and GETACL in the owner's session say what kairanctl printed
    (over IMAP the virtual rights c and d are added, RFC 4314 §2.1.1)."""
    user, name = env.new_user("kc"), unique()
    c = login(env, user)
    assert c.cmd("c", "CREATE INBOX/Reports")[0].startswith(b"c OK")
    ok(env, "shared", "create", name, "--grant", "group:sales=lr")
    box = f"{user}:INBOX/Reports"
    ok(env, "acl", "set", box, "group:sales", "lrs")
    ok(env, "acl", "set", box, user, "-xe")
    ok(env, "acl", "set", box, "-anyone", "w")
    shown = {r[0]: r[1] for r in rows(ok(env, "acl", "show", box))}
    who = by_name(ok(env, "who-can-access", box))

    def letters(b):
        return b.decode().replace("c", "").replace("d", "")

    _, u = c.cmd("g", "GETACL INBOX/Reports")
    words = u[0].split()[3:]
    assert {w.decode(): letters(r) for w, r in zip(words[::2], words[1::2])} == shown
    _, u = c.cmd("m", "MYRIGHTS INBOX/Reports")
    # The owner's entry without x and e, and "-anyone w" applies to the owner too.
    assert letters(u[0].split()[3]) == who[user][0] == "lrsipkta"
    c.close()


# --- configuration --------------------------------------------------------------

def test_admin_group_members_are_listed_and_noted(env, tmp_path):
    conf = write_conf(env, tmp_path, auth_admin_group="cn=support,ou=groups,dc=example,dc=org")
    name = unique()
    ok(env, "shared", "create", name, "--grant", "group:sales=lr")
    who = by_name(ok(env, "who-can-access", f"Shared/{name}", conf=conf))
    assert who["carol"] == ["la", "(via admin group)"]
    assert who["alice"] == ["lr", "(via group:sales)"]
    r = ctl(env, "what-user-can-see", "carol", conf=conf)
    assert r.returncode == 0 and "carol is in the admin group" in r.stderr


def test_commands_that_need_no_directory_work_without_it(env, tmp_path):
    team = unique()
    ok(env, "shared", "create", team, "--grant", "group:sales=lr")
    conf = write_conf(env, tmp_path, ldap_uri="ldap://127.0.0.1:1", ldap_timeout="1")
    box = f"Shared/{team}"
    ok(env, "acl", "set", box, "anyone", "l", conf=conf)
    assert ok(env, "acl", "show", box, conf=conf) == "anyone\tl\ngroup:sales\tlr\n"
    assert ok(env, "acl", "remove", box, "anyone", conf=conf) == f"{box}\tanyone\t-\n"
    assert f"Shared/{team}\t" in ok(env, "shared", "list", conf=conf)
    assert "directory unavailable" in fails(env, 1, "acl", "set", box, "bob", "l", conf=conf)
    assert "directory unavailable" in fails(env, 1, "who-can-access", box, conf=conf)
    # No usable LDAP settings at all: said once, clearly.
    conf = write_conf(env, tmp_path, ldap_base_dn="")
    assert "this command needs the directory" in \
        fails(env, 1, "what-user-can-see", "bob", conf=conf)
    # --dsn alone: no config file, no directory.
    r = subprocess.run([env.kairand.kairanctl, "--dsn", env.pg.dsn, "acl", "show", box],
                       capture_output=True, text=True, timeout=60, env=ke._clean_env())
    assert r.returncode == 0, r.stderr


def test_mailbox_seen_switches_and_is_remembered(env):
    """mailbox seen: per-user keeps the owner's read marks as theirs; the
    choice is fixed, so SETACL granting "r" later does not undo a common
    mode; shared marks read what any reader had read (docs/acl.md)."""
    owner, reader = env.new_user("seenowner"), env.new_user("seenreader")
    login(env, reader).close()
    c = login(env, owner)
    assert c.cmd("c", "CREATE Desk")[0].startswith(b"c OK")
    for i in range(3):
        m = f"Subject: {i}\r\n\r\nbody {i}\r\n".encode()
        c.send(f"a{i} APPEND Desk {{{len(m)}+}}\r\n".encode() + m + b"\r\n")
        assert c.read_tagged(f"a{i}")[0].startswith(f"a{i} OK".encode())
    c.cmd("s", "SELECT Desk")
    c.cmd("st", "STORE 2 +FLAGS.SILENT (\\Seen)")
    c.cmd("u", "UNSELECT")

    def seen():
        c.cmd("x", "EXAMINE Desk")
        _, u = c.cmd("q", "SEARCH SEEN")
        c.cmd("y", "UNSELECT")
        return u

    out = ok(env, "mailbox", "seen", f"{owner}:Desk", "per-user")
    assert out == f"{owner}:Desk\tseen=per-user,fixed\n", out
    assert mailbox_row(env, owner, "Desk") == "user|t|t"
    assert seen() == [b"* SEARCH 2"]
    out = ok(env, "mailbox", "seen", f"{owner}:Desk", "shared")
    assert mailbox_row(env, owner, "Desk") == "user|f|t"
    assert seen() == [b"* SEARCH 2"]
    # Fixed: a later grant of "r" leaves the common mode alone.
    assert c.cmd("g", f"SETACL Desk {reader} lr")[0].startswith(b"g OK")
    assert mailbox_row(env, owner, "Desk") == "user|f|t"
    fails(env, 2, "mailbox", "seen", f"{owner}:Desk", "sometimes")
    fails(env, 2, "mailbox", "seen", f"{owner}:Desk")
    fails(env, 1, "mailbox", "seen", f"{owner}:Nowhere", "shared")
    c.close()


def test_acl_set_makes_seen_per_user_and_keeps_the_owners_marks(env):
    owner, reader = env.new_user("aclseen"), env.new_user("aclseenr")
    login(env, reader).close()
    c = login(env, owner)
    m = b"Subject: x\r\n\r\nx\r\n"
    c.send(f"a APPEND INBOX (\\Seen) {{{len(m)}+}}\r\n".encode() + m + b"\r\n")
    c.read_tagged("a")
    ok(env, "acl", "set", f"{owner}:INBOX", reader, "lr")
    assert mailbox_row(env, owner, "INBOX") == "user|t|f"
    c.cmd("x", "EXAMINE INBOX")
    _, u = c.cmd("q", "SEARCH SEEN")
    assert u == [b"* SEARCH 1"], u
    c.close()
