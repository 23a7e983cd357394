"""The extended LIST command (RFC 5258) with its SPECIAL-USE (RFC 6154 §3),
STATUS (RFC 5819) and MYRIGHTS (RFC 8440) options, CREATE-SPECIAL-USE
(RFC 6154 §3) and LITERAL- (RFC 7888).

Each test uses accounts of its own (env.new_user), so each starts from the
default folders of a new account (INBOX, Archive, Drafts, Junk, Sent,
Trash, all subscribed). Assertions are on the exact lines a client reads.
The RFC 5258 §5 examples are replayed where Kairan's hierarchy can hold
them (mailbox names are the RFC's; responses follow Kairan's documented
choices: \\HasChildren/\\HasNoChildren always given)."""

import subprocess
import time

import pytest

from imapclient import connect, login, ok

MSG = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n"
       b"Date: Wed, 25 Nov 2026 10:00:00 +0100\r\n\r\nbody\r\n")


def bad(c, text, tag="t"):
    tagged, untagged = c.cmd(tag, text)
    assert tagged.startswith(tag.encode() + b" BAD"), (text, tagged, untagged)
    return tagged


def lines(c, text, tag="t"):
    return ok(c, text, tag)


def append(c, mailbox, msg=MSG, flags=""):
    c.send(f'ap APPEND "{mailbox}" {flags}{{{len(msg)}+}}\r\n'.encode() + msg + b"\r\n")
    tagged, _ = c.read_tagged("ap")
    assert tagged.startswith(b"ap OK"), tagged


def new_login(env, prefix="lx"):
    name = env.new_user(prefix)
    return name, login(env.imap_port, name)


def make(c, *names):
    for n in names:
        ok(c, f'CREATE "{n}"')


def new_shared_account(env, name, grants):
    args = [env.kairand.kairanctl, "-c", env.kairand.conf_path, "shared", "create", name]
    for ident, rights in grants.items():
        args += ["--grant", f"{ident}={rights}"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (args, r.stdout, r.stderr)


# --- capabilities ---------------------------------------------------------

def test_capability_lists_the_list_extensions(env):
    _, c = new_login(env)
    caps = lines(c, "CAPABILITY")[0].split()
    for cap in (b"LIST-EXTENDED", b"LIST-STATUS", b"LIST-MYRIGHTS", b"SPECIAL-USE",
                b"CREATE-SPECIAL-USE"):
        assert cap in caps, caps
    c.close()


# --- RFC 5258 §3: syntax ----------------------------------------------------

def test_rfc5258_3_empty_options_are_the_basic_list(env):
    _, c = new_login(env)
    make(c, "Fruit/Banana")
    basic = lines(c, 'LIST "" "*"')
    assert lines(c, 'LIST () "" "*"') == basic
    assert lines(c, 'LIST () "" "*" RETURN ()') == basic
    assert lines(c, 'LIST "" "*" RETURN (CHILDREN)') == basic
    # Option names are case-insensitive atoms.
    assert lines(c, 'list () "" "*" return (children)') == basic
    c.close()


def test_rfc5258_3_unknown_options_and_bad_shapes_are_bad(env):
    _, c = new_login(env)
    bad(c, 'LIST (FOO) "" "*"')                        # unknown selection option
    bad(c, 'LIST () "" "*" RETURN (FOO)')              # unknown return option
    bad(c, 'LIST "" "*" RETURN')                       # RETURN without its list
    bad(c, 'LIST "" "*" RETURN CHILDREN')
    bad(c, 'LIST "" "*" RETURN (CHILDREN) extra')
    bad(c, 'LIST "" "*" RETURNS (CHILDREN)')
    bad(c, 'LIST ("SUBSCRIBED") "" "*"')               # options are atoms
    bad(c, 'LIST (SUBSCRIBED) ""')                     # no pattern
    bad(c, 'LIST "" ()')                               # empty pattern list
    bad(c, 'LIST "" ("a" ("b"))')                      # nested pattern list
    bad(c, 'LIST (SUBSCRIBED (X)) "" "*"')             # nested option
    bad(c, 'LIST "" "*" RETURN (STATUS)')              # RFC 5819: STATUS needs items
    bad(c, 'LIST "" "*" RETURN (STATUS ())')
    bad(c, 'LIST "" "*" RETURN (STATUS (MESSAGES BOGUS))')
    bad(c, 'LIST "" "*" RETURN (STATUS MESSAGES)')
    bad(c, 'LSUB () "" "*"')                            # LSUB is unchanged
    bad(c, 'LSUB "" ("*")')
    c.close()


def test_rfc5258_3_1_recursivematch_alone_is_bad(env):
    """§3.1: RECURSIVEMATCH MUST NOT be the only selection option, or be
    given with REMOTE only: BAD."""
    _, c = new_login(env)
    bad(c, 'LIST (RECURSIVEMATCH) "" "*"')
    bad(c, 'LIST (RECURSIVEMATCH REMOTE) "" "*"')
    bad(c, 'LIST (REMOTE RECURSIVEMATCH) "" "%" RETURN (CHILDREN)')
    ok(c, 'LIST (RECURSIVEMATCH SUBSCRIBED) "" "*"')
    ok(c, 'LIST (RECURSIVEMATCH SPECIAL-USE) "" "*"')
    c.close()


def test_rfc5258_3_empty_pattern(env):
    """The empty pattern asks for the delimiter only as the one pattern of
    a LIST without selection options; elsewhere it matches no name."""
    _, c = new_login(env)
    assert lines(c, 'LIST "" ""') == [b'* LIST (\\Noselect) "/" ""']
    assert lines(c, 'LIST () "" "" RETURN (CHILDREN)') == [b'* LIST (\\Noselect) "/" ""']
    assert lines(c, 'LIST (SUBSCRIBED) "" ""') == []
    assert lines(c, 'LIST "" ("" "INBOX")') == [b'* LIST (\\HasNoChildren) "/" INBOX']
    # A pattern that is not modified UTF-7 names nothing that can exist.
    assert lines(c, 'LIST "" ("&Jjo" "INBOX")') == [b'* LIST (\\HasNoChildren) "/" INBOX']
    assert lines(c, 'LIST (SUBSCRIBED) "" "&Jjo"') == []
    c.close()


def test_parser_limits_patterns_and_options(env):
    _, c = new_login(env)
    pats = " ".join(f'"p{i}"' for i in range(64))
    ok(c, f'LIST "" ({pats})')
    pats = " ".join(f'"p{i}"' for i in range(65))
    assert b"Too many LIST patterns" in bad(c, f'LIST "" ({pats})')
    opts = " ".join(["SUBSCRIBED"] * 16)
    ok(c, f'LIST ({opts}) "" "x"')
    opts = " ".join(["SUBSCRIBED"] * 17)
    bad(c, f'LIST ({opts}) "" "x"')
    bad(c, 'LIST "" "*" RETURN (' + " ".join(["CHILDREN"] * 17) + ")")
    # The connection is still usable.
    ok(c, "NOOP")
    c.close()


def test_rfc5258_5_example_1_and_remote_is_accepted(env):
    """§5 example 1 (the basic LIST) and the REMOTE option of examples 5-6:
    Kairan has no remote mailboxes, so REMOTE changes nothing."""
    _, c = new_login(env)
    assert lines(c, 'LIST (REMOTE) "" "%"') == lines(c, 'LIST "" "%"')
    c.close()


# --- several patterns ---------------------------------------------------------

def test_rfc5258_5_example_7_several_patterns(env):
    """§5 example 7: LIST "" ("INBOX" "Drafts" "Sent/%")."""
    _, c = new_login(env)
    make(c, "Sent/March2004", "Sent/August2004", "Sent/August2004/Day1")
    got = lines(c, 'LIST "" ("INBOX" "Drafts" "Sent/%")')
    assert got == [
        b'* LIST (\\HasNoChildren) "/" INBOX',
        b'* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
        b'* LIST (\\HasChildren) "/" Sent/August2004',
        b'* LIST (\\HasNoChildren) "/" Sent/March2004',
    ], got
    # A name matched by two patterns is listed once.
    assert lines(c, 'LIST "" (INBOX "INBOX" "I*")') == [b'* LIST (\\HasNoChildren) "/" INBOX']
    c.close()


def test_several_patterns_across_namespaces(env):
    """LIST "" ("INBOX" "Shared/*"): a team's mailboxes beside one's INBOX."""
    user = env.new_user("lxs")
    login(env.imap_port, user).close()
    team = f"team{env._n}"
    new_shared_account(env, team, {user: "lrs"})
    c = login(env.imap_port, user)
    got = lines(c, 'LIST "" ("INBOX" "Shared/*")')
    assert got == [
        b'* LIST (\\HasNoChildren) "/" INBOX',
        f'* LIST (\\HasNoChildren) "/" Shared/{team}'.encode(),
    ], got
    c.close()


# --- SUBSCRIBED ------------------------------------------------------------

def fruit_tree(env):
    """The hierarchy of RFC 5258 §5 example 2: Fruit/Peach is subscribed
    but does not exist; Fruit/Apple exists but is not subscribed."""
    user, c = new_login(env)
    make(c, "Fruit/Apple", "Fruit/Banana", "Vegetable/Broccoli", "Vegetable/Corn")
    ok(c, "UNSUBSCRIBE Fruit")
    for name in ("Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"):
        ok(c, f"SUBSCRIBE {name}")
    return user, c


def test_rfc5258_5_example_2_subscribed_selection(env):
    _, c = fruit_tree(env)
    got = lines(c, 'LIST (SUBSCRIBED) "" "*"')
    assert got == [
        b'* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
        b'* LIST (\\HasNoChildren \\Subscribed \\Archive) "/" Archive',
        b'* LIST (\\HasNoChildren \\Subscribed \\Drafts) "/" Drafts',
        b'* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
        b'* LIST (\\NonExistent \\Subscribed) "/" Fruit/Peach',
        b'* LIST (\\HasNoChildren \\Subscribed \\Junk) "/" Junk',
        b'* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" Sent',
        b'* LIST (\\HasNoChildren \\Subscribed \\Trash) "/" Trash',
        b'* LIST (\\HasChildren \\Subscribed) "/" Vegetable',
        b'* LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli',
    ], got
    c.close()


def test_rfc5258_5_example_3_return_subscribed(env):
    """§5 example 3: RETURN (SUBSCRIBED) marks the subscribed names among
    all the mailboxes; a subscribed name that does not exist is not one
    of them."""
    _, c = fruit_tree(env)
    got = lines(c, 'LIST "" "%" RETURN (SUBSCRIBED)')
    assert b'* LIST (\\HasChildren) "/" Fruit' in got, got
    assert b'* LIST (\\HasChildren \\Subscribed) "/" Vegetable' in got, got
    got = lines(c, 'LIST "" "Fruit/*" RETURN (SUBSCRIBED CHILDREN)')
    assert got == [
        b'* LIST (\\HasNoChildren) "/" Fruit/Apple',
        b'* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
    ], got
    c.close()


def test_lsub_is_unchanged(env):
    _, c = fruit_tree(env)
    got = lines(c, 'LSUB "" "Fruit/*"')
    assert got == [b'* LSUB () "/" Fruit/Banana', b'* LSUB (\\Noselect) "/" Fruit/Peach'], got
    c.close()


def test_rfc5258_5_example_9_recursivematch(env):
    """§5 example 9, with the RFC's names: Foo2 and Foo2/Bar2 subscribed;
    Baz2 subscribed, its child not; Qux2 not subscribed, its child is;
    Eps2 does not exist, a name below it is subscribed. CHILDINFO names
    the criterion a descendant meets, whether or not that descendant
    matches the pattern (§3.5)."""
    _, c = new_login(env)
    make(c, "Foo2/Bar2", "Baz2/Bar2", "Qux2/Bar2")
    for name in ("Foo2", "Foo2/Bar2", "Baz2", "Qux2/Bar2", "Eps2/Mumble"):
        ok(c, f"SUBSCRIBE {name}")
    got = lines(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%2"')
    assert got == [
        b'* LIST (\\HasChildren \\Subscribed) "/" Baz2',
        b'* LIST (\\NonExistent) "/" Eps2 ("CHILDINFO" ("SUBSCRIBED"))',
        b'* LIST (\\HasChildren \\Subscribed) "/" Foo2 ("CHILDINFO" ("SUBSCRIBED"))',
        b'* LIST (\\HasChildren) "/" Qux2 ("CHILDINFO" ("SUBSCRIBED"))',
    ], got
    # Without RECURSIVEMATCH only the subscribed names themselves.
    got = lines(c, 'LIST (SUBSCRIBED) "" "%2"')
    assert got == [
        b'* LIST (\\HasChildren \\Subscribed) "/" Baz2',
        b'* LIST (\\HasChildren \\Subscribed) "/" Foo2',
    ], got
    c.close()


# --- SPECIAL-USE (RFC 6154 §3) ------------------------------------------------

def test_rfc6154_3_special_use_selection(env):
    _, c = new_login(env)
    make(c, "Projects/Done")
    got = lines(c, 'LIST (SPECIAL-USE) "" "*"')
    assert got == [
        b'* LIST (\\HasNoChildren \\Archive) "/" Archive',
        b'* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
        b'* LIST (\\HasNoChildren \\Junk) "/" Junk',
        b'* LIST (\\HasNoChildren \\Sent) "/" Sent',
        b'* LIST (\\HasNoChildren \\Trash) "/" Trash',
    ], got
    assert lines(c, 'LIST "" "*" RETURN (SPECIAL-USE)') == lines(c, 'LIST "" "*"')
    c.close()


# --- ACL visibility (RFC 4314 §4) -----------------------------------------------

def test_rfc4314_4_extended_list_never_reveals_an_invisible_mailbox(env):
    """alice shares Projects/Open with bob, not Projects nor Projects/Hidden.
    Whatever bob asks, Projects/Hidden looks exactly like a name that does
    not exist, even when he subscribes to it by guessing its name, and no
    attribute, CHILDINFO, STATUS or MYRIGHTS of another name gives it
    away."""
    alice, a = new_login(env, "lxa")
    bob, b = new_login(env, "lxb")
    make(a, "Projects/Open", "Projects/Hidden/Deep")
    ok(a, f"SETACL Projects/Open {bob} lr")
    root = f"Other Users/{alice}"
    for name in ("Projects/Hidden", "Projects/Hidden/Deep", "Projects/Nope"):
        ok(b, f'SUBSCRIBE "{root}/{name}"')

    got = lines(b, f'LIST "" "{root}/*" RETURN (CHILDREN MYRIGHTS STATUS (MESSAGES))')
    assert got == [
        f'* LIST (\\NonExistent \\HasChildren) "/" "{root}/Projects"'.encode(),
        f'* LIST (\\HasNoChildren) "/" "{root}/Projects/Open"'.encode(),
        f'* STATUS "{root}/Projects/Open" (MESSAGES 0)'.encode(),
        f'* MYRIGHTS "{root}/Projects/Open" lr'.encode(),
    ], got

    got = lines(b, f'LIST (SUBSCRIBED) "" "{root}/*" RETURN (MYRIGHTS STATUS (MESSAGES))')
    hidden = [ln for ln in got if b"Hidden" in ln]
    nope = [ln for ln in got if b"Nope" in ln]
    assert hidden == [
        f'* LIST (\\NonExistent \\Subscribed) "/" "{root}/Projects/Hidden"'.encode(),
        f'* LIST (\\NonExistent \\Subscribed) "/" "{root}/Projects/Hidden/Deep"'.encode(),
    ], got
    assert nope == [f'* LIST (\\NonExistent \\Subscribed) "/" "{root}/Projects/Nope"'.encode()]

    got = lines(b, f'LIST (SUBSCRIBED RECURSIVEMATCH) "" "{root}/%"')
    assert got == [
        f'* LIST (\\NonExistent \\HasChildren) "/" "{root}/Projects" '
        '("CHILDINFO" ("SUBSCRIBED"))'.encode()], got
    # The subscribed hidden mailbox's parent, Projects/Hidden, has children
    # in alice's store; to bob it has none.
    got = lines(b, f'LIST (SUBSCRIBED RECURSIVEMATCH) "" "{root}/Projects/%"')
    assert got == [
        f'* LIST (\\NonExistent \\Subscribed) "/" "{root}/Projects/Hidden" '
        '("CHILDINFO" ("SUBSCRIBED"))'.encode(),
        f'* LIST (\\NonExistent \\Subscribed) "/" "{root}/Projects/Nope"'.encode(),
        # Offered to bob and so subscribed for him (auto_subscribe_shared).
        f'* LIST (\\HasNoChildren \\Subscribed) "/" "{root}/Projects/Open"'.encode(),
    ], got
    a.close()
    b.close()


# --- LIST-STATUS (RFC 5819) ---------------------------------------------------

def status_of(c, name, items):
    out = lines(c, f'STATUS "{name}" ({items})')
    assert len(out) == 1, out
    return out[0].split(b" (", 1)[1]


def test_rfc5819_status_follows_each_selectable_mailbox(env):
    _, c = new_login(env)
    make(c, "Work/Reports")
    ok(c, "DELETE Work")          # Work stays as a \Noselect placeholder
    for _ in range(3):
        append(c, "Work/Reports")
    append(c, "INBOX", flags="(\\Seen) ")
    ok(c, "SELECT Work/Reports")
    ok(c, "STORE 1 +FLAGS (\\Seen)")
    items = "MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT DELETED SIZE HIGHESTMODSEQ"
    got = lines(c, f'LIST "" "*" RETURN (STATUS ({items}))')
    i = got.index(b'* LIST (\\Noselect \\HasChildren) "/" Work')
    assert not got[i + 1].startswith(b"* STATUS"), got     # no STATUS for \Noselect
    for name in ("INBOX", "Drafts", "Work/Reports"):
        j = got.index(next(ln for ln in got if ln.startswith(b"* LIST") and
                           ln.endswith(b' "/" ' + name.encode())))
        assert got[j + 1] == f"* STATUS {name} (".encode() + status_of(c, name, items), got
    i = got.index(b'* STATUS Work/Reports (' + status_of(c, "Work/Reports", items))
    assert b"MESSAGES 3 " in got[i] and b"UNSEEN 2 " in got[i], got[i]
    assert sum(ln.startswith(b"* STATUS") for ln in got) == 7, got   # 6 defaults + Reports
    c.close()


def test_rfc5819_status_only_where_the_status_command_is_allowed(env):
    """STATUS needs "r" (RFC 4314 §4): with "l" only the mailbox is listed
    without a STATUS; MYRIGHTS shows why."""
    alice, a = new_login(env, "lxa")
    bob, b = new_login(env, "lxb")
    make(a, "Look", "Read")
    append(a, "Read")
    ok(a, f"SETACL Look {bob} l")
    ok(a, f"SETACL Read {bob} lr")
    root = f"Other Users/{alice}"
    got = lines(b, f'LIST "" "{root}/*" RETURN (STATUS (MESSAGES) MYRIGHTS)')
    assert got == [
        f'* LIST (\\HasNoChildren) "/" "{root}/Look"'.encode(),
        f'* MYRIGHTS "{root}/Look" l'.encode(),
        f'* LIST (\\HasNoChildren) "/" "{root}/Read"'.encode(),
        f'* STATUS "{root}/Read" (MESSAGES 1)'.encode(),
        f'* MYRIGHTS "{root}/Read" lr'.encode(),
    ], got
    a.close()
    b.close()


def test_rfc5819_unseen_is_per_user_in_a_shared_mailbox(env):
    """A team mailbox keeps \\Seen per user: alice reading a message changes
    her UNSEEN, not bob's."""
    alice, a = new_login(env, "lxa")
    bob, b = new_login(env, "lxb")
    team = f"team{env._n}"
    new_shared_account(env, team, {alice: "lrswi", bob: "lrswi"})
    a.close()
    a = login(env.imap_port, alice)
    append(a, f"Shared/{team}")
    append(a, f"Shared/{team}")
    ok(a, f'SELECT "Shared/{team}"')
    ok(a, "FETCH 1 BODY[]")
    q = f'LIST "" "Shared/{team}" RETURN (STATUS (MESSAGES UNSEEN))'
    assert lines(a, q)[1] == f"* STATUS Shared/{team} (MESSAGES 2 UNSEEN 1)".encode()
    assert lines(b, q)[1] == f"* STATUS Shared/{team} (MESSAGES 2 UNSEEN 2)".encode()
    a.close()
    b.close()


def test_rfc5819_many_mailboxes_cost_one_status_query(env):
    """200 mailboxes: LIST-STATUS answers them all with what 200 STATUS
    commands answer, and takes no longer (one query for all, not one per
    mailbox; the times are printed for docs/protocol.md)."""
    _, c = new_login(env)
    names = [f"Many/m{i:03d}" for i in range(200)]
    for i, n in enumerate(names):
        ok(c, f"CREATE {n}")
        if i % 20 == 0:
            append(c, n)
    t0 = time.monotonic()
    got = lines(c, 'LIST "" "Many/*" RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))')
    t_list = time.monotonic() - t0
    t0 = time.monotonic()
    one_by_one = [status_of(c, n, "MESSAGES UNSEEN UIDNEXT") for n in names]
    t_status = time.monotonic() - t0
    statuses = [ln.split(b" (", 1)[1] for ln in got if ln.startswith(b"* STATUS")]
    assert statuses == one_by_one
    print(f"LIST-STATUS of 200 mailboxes: {t_list * 1000:.1f} ms; "
          f"200 STATUS commands: {t_status * 1000:.1f} ms")
    c.close()


# --- LIST-MYRIGHTS (RFC 8440) -------------------------------------------------

def test_rfc8440_myrights_as_the_myrights_command(env):
    alice, a = new_login(env, "lxa")
    make(a, "Mine/Sub")
    ok(a, f"SETACL Mine {alice} lrs")      # the owner narrowed their own rights
    got = lines(a, 'LIST "" "*" RETURN (MYRIGHTS)')
    for name in ("INBOX", "Mine", "Mine/Sub"):
        mine = lines(a, f"MYRIGHTS {name}")
        i = got.index(next(ln for ln in got if ln.startswith(b"* LIST") and
                           ln.endswith(b' "/" ' + name.encode())))
        assert got[i + 1] == mine[0], (name, got, mine)
    assert b"* MYRIGHTS Mine lrsa" in got, got   # "l" and "a" are the owner's floor
    # Names without a mailbox get no MYRIGHTS.
    ok(a, "CREATE Gap/Child")
    env.pg.psql(f"DELETE FROM mailboxes WHERE name = 'Gap' AND owner_id ="
                f" (SELECT id FROM accounts WHERE login = '{alice}')")
    got = lines(a, 'LIST () "" "Gap*" RETURN (MYRIGHTS)')
    assert got[0] == b'* LIST (\\NonExistent \\HasChildren) "/" Gap', got
    assert got[1] == b'* LIST (\\HasNoChildren) "/" Gap/Child', got
    assert got[2].startswith(b"* MYRIGHTS Gap/Child "), got
    assert len(got) == 3, got
    a.close()


# --- CREATE-SPECIAL-USE (RFC 6154 §3) -------------------------------------------

def test_rfc6154_3_create_with_use(env):
    _, c = new_login(env)
    ok(c, "CREATE Outbox (USE (\\Sent \\Archive))")
    ok(c, "CREATE Old/Bin (use (\\trash \\Trash))")       # any case, once each
    ok(c, "CREATE Plain (USE ())")
    assert lines(c, 'LIST "" "Outbox"') == [b'* LIST (\\HasNoChildren \\Sent \\Archive) "/" Outbox']
    assert lines(c, 'LIST "" "Old/Bin"') == [b'* LIST (\\HasNoChildren \\Trash) "/" Old/Bin']
    assert lines(c, 'LIST "" "Plain"') == [b'* LIST (\\HasNoChildren) "/" Plain']
    # The SPECIAL-USE selection finds them; with RECURSIVEMATCH, the level
    # above one says so (RFC 5258 §3.5).
    got = lines(c, 'LIST (SPECIAL-USE RECURSIVEMATCH) "" "%"')
    assert b'* LIST (\\HasChildren) "/" Old ("CHILDINFO" ("SPECIAL-USE"))' in got, got
    assert b'* LIST (\\HasNoChildren \\Sent \\Archive) "/" Outbox' in got, got
    assert not any(b"Plain" in ln for ln in got), got
    c.close()


def test_rfc6154_3_unknown_use_is_useattr_and_creates_nothing(env):
    _, c = new_login(env)
    for use in ("\\All", "\\Flagged", "\\Important", "\\Sent \\Bogus"):
        tagged, _ = c.cmd("t", f"CREATE New ({'USE'} ({use}))")
        assert tagged.startswith(b"t NO [USEATTR]"), (use, tagged)
    assert lines(c, 'LIST "" "New"') == []
    bad(c, "CREATE New (USE (Sent))")            # not a flag
    bad(c, 'CREATE New (USE ("\\Sent"))')        # a string, not an atom
    bad(c, "CREATE New (USE \\Sent)")            # not a list
    bad(c, "CREATE New (USE)")
    bad(c, "CREATE New (FOO (\\Sent))")          # RFC 4466: unknown parameter
    bad(c, "CREATE New (USE (\\Sent) USE (\\Trash))")
    bad(c, "CREATE New ()")
    bad(c, "CREATE New (USE (" + " ".join(["\\Sent"] * 9) + "))")
    bad(c, "CREATE New (USE (\\Sent)) extra")
    assert lines(c, 'LIST "" "New"') == []
    c.close()


def test_rfc6154_3_use_only_in_the_personal_namespace(env):
    user = env.new_user("lxs")
    login(env.imap_port, user).close()
    team = f"team{env._n}"
    new_shared_account(env, team, {user: "lrswipkxtea"})
    c = login(env.imap_port, user)
    tagged, _ = c.cmd("t", f'CREATE "Shared/{team}/Sent" (USE (\\Sent))')
    assert tagged.startswith(b"t NO [USEATTR]"), tagged
    ok(c, f'CREATE "Shared/{team}/Sent"')
    c.close()
