"""The command pipeline (dispatch.c) for the message commands: APPEND,
COPY, MOVE, FETCH and SEARCH name their rights in the command table, and
their arguments are checked before any SQL runs.

The rights are RFC 4314 §4's:

    "Before performing a COPY/APPEND command, the server MUST check if
    the user has "i" right for the target mailbox.  If the user doesn't
    have "i" right, the operation fails."

and RFC 6851 §4.2's:

    "The ACL rights [RFC4314] required for MOVE and UID MOVE are the union
    of the ACL rights required for UID STORE, UID COPY, and UID EXPUNGE."

(UID EXPUNGE needs "e", and the messages' \\Deleted, which a MOVE
implies, "t"). A refusal names what is missing.

The target that does not exist follows RFC 3501 §6.3.11:

    "If the destination mailbox does not exist, a server MUST return an
    error, and MUST NOT automatically create the mailbox.  Unless it is
    certain that the destination mailbox can not be created, the server
    MUST send the response code "[TRYCREATE]" as the prefix of the text
    of the tagged NO response."

A personal name can be created: TRYCREATE. A name under "Other Users/"
cannot (the caller creates nothing there), and RFC 4314 §4 asks that a
mailbox the caller may not see look like one that does not exist: both
are NO [NONEXISTENT], byte for byte the same.

"Before any SQL" is seen from outside this way: once the caller's rights
on the selected mailbox are withdrawn, every command on its messages is
refused with NO [NOPERM] by the rights re-read that dispatch does in the
store; a malformed command is still answered BAD, so its arguments were
checked before that query ran."""

import re

import pytest

# The shared-folder scenarios' helpers: log in, expect OK, APPEND one
# message with a non-synchronising literal, quote a name.
from test_shared_folders import MSG, append, login, ok, quote


def messages(c, mailbox):
    _, u = c.cmd("st", f"STATUS {quote(mailbox)} (MESSAGES)")
    m = re.search(rb"MESSAGES (\d+)", b"".join(u))
    assert m, u
    return int(m.group(1))


@pytest.fixture
def pair(env):
    """alice owns the mailboxes, bob is given rights on them; both have
    a message in their INBOX."""
    alice, bob = env.new_user("pipea"), env.new_user("pipeb")
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    for c in (a, b):
        assert append(c, "INBOX").startswith(b"ap OK [APPENDUID ")
    yield alice, bob, a, b
    a.close()
    b.close()


def shared(a, alice, name, bob, rights):
    """alice's mailbox <name> with one message, bob given <rights>; the
    name bob uses for it."""
    ok(a, f"CREATE {name}")
    assert append(a, name).startswith(b"ap OK")
    ok(a, f"SETACL {name} {bob} {rights}")
    return f"Other Users/{alice}/{name}"


# -- (1) the rights in the table, and refusals that name them ---------------


def test_copy_into_a_mailbox_without_i_names_the_i_right(pair):
    alice, bob, a, b = pair
    target = shared(a, alice, "Drop", bob, "lr")
    ok(b, "SELECT INBOX")
    for tag, name, cmd in (("c1", "COPY", "COPY 1"), ("c2", "UID COPY", "UID COPY 1:*")):
        tagged, _ = b.cmd(tag, f"{cmd} {quote(target)}")
        assert tagged == f"{tag} NO [NOPERM] {name} in {target} needs the i right".encode(), \
            tagged
    assert messages(a, "Drop") == 1
    # With "i" the same COPY goes through (the refusal was about "i" only).
    ok(a, f"SETACL Drop {bob} +i")
    tagged, _ = b.cmd("c3", f"COPY 1 {quote(target)}")
    assert tagged.startswith(b"c3 OK [COPYUID "), tagged
    assert messages(a, "Drop") == 2


def test_move_out_of_a_mailbox_without_t_and_e_names_both(pair):
    alice, bob, a, b = pair
    source = shared(a, alice, "Src", bob, "lri")
    # "i" is a right to change the mailbox: it opens read-write (RFC 4314
    # §4), so the refusal is about the rights, not READ-ONLY.
    tagged, _ = b.cmd("s", f"SELECT {quote(source)}")
    assert tagged.startswith(b"s OK [READ-WRITE]"), tagged
    for tag, name, cmd in (("m1", "MOVE", "MOVE 1 INBOX"), ("m2", "UID MOVE", "UID MOVE 1:* INBOX")):
        tagged, untagged = b.cmd(tag, cmd)
        assert tagged == f"{tag} NO [NOPERM] {name} in the selected mailbox needs the t and e " \
                         "rights".encode(), tagged
        assert not any(b"EXPUNGE" in line for line in untagged), untagged
    # Nothing moved: still in the source, not in bob's INBOX.
    assert messages(a, "Src") == 1
    assert messages(b, "INBOX") == 1
    # With "t" but not "e" only "e" is missing.
    ok(a, f"SETACL Src {bob} +t")
    tagged, _ = b.cmd("m3", "MOVE 1 INBOX")
    assert tagged == b"m3 NO [NOPERM] MOVE in the selected mailbox needs the e right", tagged
    ok(a, f"SETACL Src {bob} +e")
    tagged, untagged = b.cmd("m4", "MOVE 1 INBOX")
    assert tagged.startswith(b"m4 OK"), tagged
    assert b"* 1 EXPUNGE" in untagged, untagged
    assert messages(a, "Src") == 0 and messages(b, "INBOX") == 2


def test_move_out_of_a_read_only_mailbox_is_read_only_first(pair):
    """"lr" opens read-only; MOVE is refused for that before its rights."""
    alice, bob, a, b = pair
    source = shared(a, alice, "Ro", bob, "lr")
    tagged, _ = b.cmd("s", f"SELECT {quote(source)}")
    assert tagged.startswith(b"s OK [READ-ONLY]"), tagged
    tagged, _ = b.cmd("m", "MOVE 1 INBOX")
    assert tagged.startswith(b"m NO [READ-ONLY]"), tagged
    # COPY out of it needs nothing more than "r".
    tagged, _ = b.cmd("c", "COPY 1 INBOX")
    assert tagged.startswith(b"c OK [COPYUID "), tagged


# -- (2) BAD before any SQL --------------------------------------------------


@pytest.mark.parametrize("text", [
    "FETCH 1 (FLAGS NOSUCHITEM)",
    "FETCH 1 (FLAGS BODY[1.X])",
    "UID FETCH 1:* ()",
    "FETCH 1",
    "SEARCH NOSUCHKEY",
    "UID SEARCH SINCE 32-Foo-2020",
    "SEARCH RETURN (NOSUCH) ALL",
    "COPY 1:x INBOX",
    "MOVE 1",
    "STORE 1 +FLAGS (\\Recent)",
])
def test_malformed_arguments_are_bad_before_the_rights_are_read(pair, text):
    alice, bob, a, b = pair
    source = shared(a, alice, "Gone", bob, "lrswite")
    ok(b, f"SELECT {quote(source)}")
    # Access withdrawn: the next command that reaches the store is refused.
    ok(a, f"DELETEACL Gone {bob}")
    tagged, untagged = b.cmd("x", text)
    assert tagged.startswith(b"x BAD "), (text, tagged)
    assert not any(b"CLOSED" in line for line in untagged), untagged
    # The same session, a well-formed command: now the rights are read.
    tagged, untagged = b.cmd("y", "FETCH 1 (FLAGS)")
    assert tagged.startswith(b"y NO [NOPERM]"), tagged
    assert b"* OK [CLOSED] Access to the mailbox was withdrawn" in untagged, untagged


def test_malformed_append_is_bad_before_the_target_is_looked_up(pair):
    """A mailbox that does not exist would be NO [NONEXISTENT] from the
    store; a bad flag, date or message count is BAD first."""
    alice, bob, a, b = pair
    target = "Other Users/nobody-such/X"
    assert append(b, target, flags="(\\Bogus) ").startswith(b"ap BAD "), target
    assert append(b, target, flags='"31-Feb-2020 99:00:00 +0000" ').startswith(b"ap BAD ")
    tagged, _ = b.cmd("a2", f"APPEND {quote(target)} (\\Seen)")
    assert tagged.startswith(b"a2 BAD "), tagged


# -- (3) a missing target: TRYCREATE only where it can be created -----------


def test_append_to_a_missing_target(pair):
    alice, bob, a, b = pair
    tagged = append(b, "Other Users/nobody-such/X")
    assert tagged == b"ap NO [NONEXISTENT] No such mailbox", tagged
    # alice's mailbox bob has no right on looks exactly the same.
    ok(a, "CREATE Private")
    tagged = append(b, f"Other Users/{alice}/Private")
    assert tagged == b"ap NO [NONEXISTENT] No such mailbox", tagged
    # A personal name can be created: the client may CREATE and retry.
    tagged = append(b, "NoSuchFolder")
    assert tagged.startswith(b"ap NO [TRYCREATE]"), tagged
    ok(b, "CREATE NoSuchFolder")
    assert append(b, "NoSuchFolder").startswith(b"ap OK [APPENDUID ")
    # And nothing was put anywhere by the refused ones.
    assert messages(a, "Private") == 0


def test_copy_and_move_to_a_missing_target(pair):
    """RFC 3501 §6.4.7 has the same TRYCREATE rule for COPY, and MOVE
    follows COPY (RFC 6851 §3.1)."""
    alice, bob, a, b = pair
    ok(b, "SELECT INBOX")
    for tag, cmd in (("c", "COPY"), ("m", "MOVE"), ("uc", "UID COPY"), ("um", "UID MOVE")):
        tagged, _ = b.cmd(tag, f'{cmd} 1:* "Other Users/nobody-such/X"')
        assert tagged == f"{tag} NO [NONEXISTENT] No such mailbox".encode(), tagged
        tagged, untagged = b.cmd(tag, f"{cmd} 1:* NoSuchFolder")
        assert tagged.startswith(f"{tag} NO [TRYCREATE]".encode()), tagged
        assert not any(b"EXPUNGE" in line for line in untagged), untagged
    assert messages(b, "INBOX") == 1


def test_multiappend_with_flags_the_caller_may_not_set(pair):
    """RFC 4314 §4: "Only when the user has a particular right are the
    corresponding flags stored for the newly created message.  The server
    MUST NOT fail a COPY/APPEND if the user has no rights to set a
    particular flag." Three messages, one APPEND, one transaction."""
    alice, bob, a, b = pair
    target = shared(a, alice, "In", bob, "lrsi")
    b.send(f"ma APPEND {quote(target)} (\\Seen \\Flagged $Kw) {{{len(MSG)}+}}\r\n".encode() +
           MSG + f" (\\Deleted) {{{len(MSG)}+}}\r\n".encode() + MSG +
           f" {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
    tagged = b.read_tagged("ma")[0]
    m = re.match(rb"ma OK \[APPENDUID \d+ (\d+):(\d+)\]", tagged)
    assert m and int(m.group(2)) == int(m.group(1)) + 2, tagged
    ok(a, "SELECT In")
    untagged = ok(a, "UID FETCH 1:* (FLAGS)", "f")
    flags = [line.split(b"FLAGS (")[1].split(b")")[0] for line in untagged if b" FETCH " in line]
    # bob's \Seen ("s") may be his alone (per-user \Seen), so alice's view
    # shows only that \Flagged and $Kw ("w") and \Deleted ("t") were dropped
    # and the messages stored all the same.
    assert len(flags) == 4, untagged
    for f in flags[1:]:
        assert b"\\Flagged" not in f and b"$Kw" not in f and b"\\Deleted" not in f, flags
