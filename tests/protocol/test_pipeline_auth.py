"""The command pipeline for LOGIN and the ACL commands (issue 10, item 1):
the login's steps run in order, so a login refused by the per-user
connection limit provisions nothing; the rights the command table names
(RFC 4314 §4) are checked before the handler, the refusal naming the
missing right; and the check step answers BAD before any SQL or rights
lookup."""

import base64
import time
from contextlib import ExitStack

from imapclient import connect


def login(port, user):
    c = connect(port)
    tagged, _ = c.cmd("l", f"LOGIN {user} secret")
    assert tagged.startswith(b"l OK [CAPABILITY "), tagged
    return c


def account_rows(env, login):
    return int(env.pg.psql(f"SELECT count(*) FROM accounts WHERE login = '{login}'"))


def test_login_refused_by_the_user_limit_provisions_nothing(env):
    """RFC 3501 §6.2.3 lists for LOGIN "NO - login failure: user name or
    password rejected": a login refused, here with NO [LIMIT], leaves no
    trace: no accounts row (and so no default mailboxes), no slot taken.

    The limit can only refuse a user who already holds a session, and that
    first session created the row. So the row is moved aside (renamed)
    while the session is open: for the store the user has then never
    logged in, and a login that provisions before it checks the limit
    would insert a new row."""
    user = env.new_user("limit")
    k = env.start_kairand(max_connections_per_user="1")
    moved = f"{user}-moved"
    with ExitStack() as stack:
        stack.callback(k.stop)
        first = login(k.imap_port, user)
        stack.callback(first.close)
        assert account_rows(env, user) == 1
        env.pg.psql(f"UPDATE accounts SET login = '{moved}' WHERE login = '{user}'")
        # Put back, unless a refused login provisioned a new row (the bug).
        stack.callback(env.pg.psql,
                       f"UPDATE accounts SET login = '{user}' WHERE login = '{moved}'"
                       f" AND NOT EXISTS (SELECT 1 FROM accounts WHERE login = '{user}')")
        assert account_rows(env, user) == 0

        with connect(k.imap_port) as second:
            tagged, _ = second.cmd("a", f"LOGIN {user} secret")
            assert tagged.startswith(b"a NO [LIMIT]"), tagged
            # Still not authenticated: the refusal changed no state.
            tagged, _ = second.cmd("b", "MYRIGHTS INBOX")
            assert tagged.startswith(b"b BAD"), tagged
        assert account_rows(env, user) == 0
        # The same through AUTHENTICATE, which shares the login steps.
        with connect(k.imap_port) as third:
            ir = base64.b64encode(f"\0{user}\0secret".encode()).decode()
            tagged, _ = third.cmd("a", f"AUTHENTICATE PLAIN {ir}")
            assert tagged.startswith(b"a NO [LIMIT]"), tagged
        assert account_rows(env, user) == 0

        # The refusals took no slot: once the first session ends (and the
        # row is back), the one slot is free again.
        env.pg.psql(f"UPDATE accounts SET login = '{user}' WHERE login = '{moved}'")
        first.cmd("z", "LOGOUT")
        time.sleep(0.2)
        login(k.imap_port, user).close()
        assert account_rows(env, user) == 1


def test_rfc4314_4_acl_commands_need_a_and_say_so(env):
    """RFC 4314 §4: SETACL, DELETEACL, GETACL and LISTRIGHTS need "a".
    With "l" and "r" the caller may know the mailbox exists, so the
    refusal is NO [NOPERM] (RFC 5530), and its text names the right."""
    owner, reader = env.new_user("owner"), env.new_user("reader")
    with login(env.imap_port, owner) as o, login(env.imap_port, reader) as r:
        assert o.cmd("g", f"SETACL INBOX {reader} lr")[0].startswith(b"g OK")
        box = f'"Other Users/{owner}"'   # the owner's INBOX (docs/acl.md)
        _, u = r.cmd("m", f"MYRIGHTS {box}")
        assert u == [f"* MYRIGHTS {box} lr".encode()], u
        for i, text in enumerate([f"GETACL {box}", f"SETACL {box} {reader} lra",
                                  f"DELETEACL {box} {reader}",
                                  f"LISTRIGHTS {box} {owner}"]):
            tag = f"n{i}"
            tagged, _ = r.cmd(tag, text)
            assert tagged.startswith(tag.encode() + b" NO [NOPERM]"), (text, tagged)
            assert tagged.rstrip().endswith(b"needs the a right"), (text, tagged)
        # Nothing changed: the reader still has exactly "lr".
        _, u = o.cmd("a", "GETACL INBOX")
        assert f" {reader} lr".encode() in u[0], u


def test_rfc4314_4_myrights_on_a_mailbox_the_caller_cannot_see(env):
    """RFC 4314 §4 lists MYRIGHTS as needing any of "l r i k x a"; without
    them the mailbox must look exactly like one that does not exist."""
    owner, stranger = env.new_user("owner"), env.new_user("stranger")
    with login(env.imap_port, owner) as o, login(env.imap_port, stranger) as s:
        assert o.cmd("c", "CREATE Private")[0].startswith(b"c OK")
        hidden, missing = (s.cmd("a", f'MYRIGHTS "Other Users/{owner}/Private"')[0],
                           s.cmd("a", f'MYRIGHTS "Other Users/{owner}/NoSuchBox"')[0])
        assert hidden.startswith(b"a NO [NONEXISTENT]"), hidden
        assert hidden == missing, (hidden, missing)
        # "t" alone is a right, but not one that lets the caller know.
        assert o.cmd("g", f"SETACL Private {stranger} t")[0].startswith(b"g OK")
        tagged, _ = s.cmd("b", f'MYRIGHTS "Other Users/{owner}/Private"')
        assert tagged.startswith(b"b NO [NONEXISTENT]"), tagged
        # With "l" it becomes visible: the name above was the right one.
        assert o.cmd("h", f"SETACL Private {stranger} +l")[0].startswith(b"h OK")
        tagged, u = s.cmd("c", f'MYRIGHTS "Other Users/{owner}/Private"')
        assert tagged.startswith(b"c OK"), tagged
        # RFC 4314 §2.1.1: "t" is also reported as the obsolete "d".
        assert u == [f'* MYRIGHTS "Other Users/{owner}/Private" ltd'.encode()], u


def test_rfc4314_3_1_setacl_syntax_is_bad_before_the_mailbox_is_looked_up(env):
    """RFC 4314 §3.1: SETACL mailbox identifier mod-rights. A malformed
    identifier or rights string is a BAD (RFC 3501 §7.1.5), decided by the
    check step before the mailbox is resolved: the same answer for a
    mailbox that does not exist, one the caller cannot see, and one they
    may see but not administer."""
    owner, reader = env.new_user("owner"), env.new_user("reader")
    with login(env.imap_port, owner) as o, login(env.imap_port, reader) as r:
        assert o.cmd("g", f"SETACL INBOX {reader} lr")[0].startswith(b"g OK")
        assert o.cmd("c", "CREATE Private")[0].startswith(b"c OK")
        boxes = ["NoSuchBox", f'"Other Users/{owner}/NoSuchBox"',
                 f'"Other Users/{owner}/Private"',   # cannot see: NONEXISTENT otherwise
                 f'"Other Users/{owner}"']            # INBOX, "lr": NOPERM otherwise
        for i, box in enumerate(boxes):
            for j, args in enumerate([f"{owner} lz",          # "z" is not a right
                                      f"{owner} +-lr",
                                      '"bo b" lr',             # not an identifier
                                      "Anyone lr",             # reserved spelling
                                      f"{owner}"]):            # rights missing
                tag = f"b{i}{j}"
                tagged, _ = r.cmd(tag, f"SETACL {box} {args}")
                assert tagged.startswith(tag.encode() + b" BAD"), (box, args, tagged)
            # Under max_bad_commands consecutive BADs, which end the session.
            assert r.cmd("n", "NOOP")[0].startswith(b"n OK")
        # And the same for the identifier of DELETEACL and LISTRIGHTS.
        for cmd in ("DELETEACL", "LISTRIGHTS"):
            tagged, _ = r.cmd("d", f'{cmd} NoSuchBox "group:"')
            assert tagged.startswith(b"d BAD"), (cmd, tagged)
