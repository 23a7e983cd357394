"""The mailbox commands of the authenticated state: CREATE, DELETE, RENAME,
SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS (RFC 3501 §6.3.3-6.3.10), with
the CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes, response
codes from RFC 5530, and mailbox names in modified UTF-7 (§5.1.3).

Every test that changes mailboxes uses an account of its own
(env.new_user), so each starts from the default folders of a new account.
Assertions are on the exact bytes a client receives.
"""

import re
import threading

import pytest

from imapclient import connect, quote

MSG = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n"
       b"Date: Wed, 25 Nov 2026 10:00:00 +0100\r\n\r\nbody\r\n")

DEFAULT_LIST = [
    b'* LIST (\\HasNoChildren) "/" INBOX',
    b'* LIST (\\HasNoChildren \\Archive) "/" Archive',
    b'* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
    b'* LIST (\\HasNoChildren \\Junk) "/" Junk',
    b'* LIST (\\HasNoChildren \\Sent) "/" Sent',
    b'* LIST (\\HasNoChildren \\Trash) "/" Trash',
]


def login(env, user):
    c = connect(env.imap_port)
    tagged, _ = c.cmd("l", f"LOGIN {user} secret")
    assert tagged.startswith(b"l OK"), tagged
    return c


def ok(c, command, tag="t"):
    """Runs a command that must succeed; returns its untagged responses."""
    tagged, untagged = c.cmd(tag, command)
    assert tagged.startswith(tag.encode() + b" OK"), (command, tagged)
    return untagged


def fails(c, command, prefix, tag="t"):
    """Runs a command whose tagged response must start with prefix
    ("NO [NONEXISTENT]", "BAD", ...); returns the tagged line."""
    tagged, _ = c.cmd(tag, command)
    assert tagged.startswith(tag.encode() + b" " + prefix.encode()), (command, tagged)
    return tagged


def listing(c, ref, pattern, cmd="LIST"):
    """The untagged LIST/LSUB lines, exactly as received."""
    ref = ref if isinstance(ref, bytes) else quote(ref)
    pattern = pattern if isinstance(pattern, bytes) else quote(pattern)
    return ok(c, cmd.encode() + b" " + ref + b" " + pattern)


LIST_RE = re.compile(rb'^\* (?:LIST|LSUB) \(([^)]*)\) "/" (.*)$', re.S)


def parse_name(raw):
    if raw.startswith(b'"'):
        return re.sub(rb'\\(.)', rb'\1', raw[1:-1])
    if raw.startswith(b"{"):
        return raw[raw.index(b"\r\n") + 2:]
    return raw


def names(lines):
    """(attributes, name) of each LIST/LSUB line, in order."""
    out = []
    for line in lines:
        m = LIST_RE.match(line)
        assert m, line
        out.append((m.group(1), parse_name(m.group(2))))
    return out


def just_names(lines):
    return [n for _, n in names(lines)]


DEFAULT_NAMES = {b"INBOX", b"Archive", b"Drafts", b"Junk", b"Sent", b"Trash"}


def own(lines):
    """The lines of names other than a new account's folders."""
    return [line for line, (_, n) in zip(lines, names(lines)) if n not in DEFAULT_NAMES]


def status(c, mailbox, items):
    """The values of one STATUS response as a dict of ints."""
    untagged = ok(c, f"STATUS {mailbox} ({items})", tag="st")
    assert len(untagged) == 1, untagged
    m = re.match(rb"^\* STATUS .* \(([^)]*)\)$", untagged[0])
    assert m, untagged
    words = m.group(1).split()
    return {words[i].decode(): int(words[i + 1]) for i in range(0, len(words), 2)}


def append(c, mailbox, raw, flags=""):
    flags = f" ({flags})" if flags else ""
    c.send(f"ap APPEND {mailbox}{flags} {{{len(raw)}}}\r\n".encode())
    c.expect_continuation()
    c.send(raw + b"\r\n")
    tagged, _ = c.read_tagged("ap")
    assert tagged.startswith(b"ap OK"), tagged


@pytest.fixture
def user(env):
    return env.new_user("mbx")


# --------------------------------------------------------------------------
# A new account, capabilities


def test_rfc6154_new_account_has_special_use_folders(env, user):
    """RFC 6154 §2: a new account's folders carry their special-use
    attributes; RFC 3348: every name says whether it has children. INBOX
    comes first, then the names in order."""
    with login(env, user) as c:
        assert listing(c, "", "*") == DEFAULT_LIST
        # They are subscribed too: some clients show only subscribed folders.
        assert listing(c, "", "*", "LSUB") == [
            b'* LSUB () "/" INBOX', b'* LSUB () "/" Archive', b'* LSUB () "/" Drafts',
            b'* LSUB () "/" Junk', b'* LSUB () "/" Sent', b'* LSUB () "/" Trash']


def test_capability_advertises_children_special_use_status_size(env, user):
    with login(env, user) as c:
        untagged = ok(c, "CAPABILITY")
        caps = untagged[0].upper().split()
        for cap in (b"CHILDREN", b"SPECIAL-USE", b"STATUS=SIZE"):
            assert cap in caps, untagged


def test_mailbox_commands_need_authentication(env):
    """RFC 3501 §6.3: these are commands of the authenticated state."""
    with connect(env.imap_port) as c:
        for command in ("CREATE x", "DELETE x", "RENAME x y", "SUBSCRIBE x",
                        "UNSUBSCRIBE x", 'LIST "" *', 'LSUB "" *', "STATUS x (MESSAGES)"):
            fails(c, command, "BAD")


# --------------------------------------------------------------------------
# CREATE (RFC 3501 §6.3.3)


def test_rfc3501_6_3_3_create_then_list(env, user):
    with login(env, user) as c:
        ok(c, "CREATE Projects")
        assert listing(c, "", "Projects") == [b'* LIST (\\HasNoChildren) "/" Projects']
        assert status(c, "Projects", "MESSAGES") == {"MESSAGES": 0}


def test_rfc3501_6_3_3_create_existing_is_alreadyexists(env, user):
    """RFC 5530 §3 ALREADYEXISTS, for a mailbox and for INBOX in any case."""
    with login(env, user) as c:
        ok(c, "CREATE Projects")
        fails(c, "CREATE Projects", "NO [ALREADYEXISTS]")
        for name in ("INBOX", "inbox", '"InBoX"', "INBOX/"):
            fails(c, f"CREATE {name}", "NO [ALREADYEXISTS]")
        fails(c, "CREATE Sent", "NO [ALREADYEXISTS]")


def test_rfc3501_6_3_3_create_makes_superior_levels(env, user):
    """"If the server's hierarchy delimiter character appears elsewhere in
    the name, the server SHOULD create any superior hierarchical names":
    here as real, selectable mailboxes."""
    with login(env, user) as c:
        ok(c, "CREATE a/b/c")
        assert listing(c, "", "a*") == [
            b'* LIST (\\HasChildren) "/" a',
            b'* LIST (\\HasChildren) "/" a/b',
            b'* LIST (\\HasNoChildren) "/" a/b/c']
        assert status(c, "a", "MESSAGES") == {"MESSAGES": 0}
        assert status(c, "a/b", "MESSAGES") == {"MESSAGES": 0}


def test_rfc3501_6_3_3_trailing_delimiter_is_dropped(env, user):
    """"If the mailbox name is suffixed with the server's hierarchy
    separator character ... the name created is without the trailing
    hierarchy delimiter"."""
    with login(env, user) as c:
        ok(c, "CREATE foo/")
        assert listing(c, "", "foo*") == [b'* LIST (\\HasNoChildren) "/" foo']
        fails(c, "CREATE foo/", "NO [ALREADYEXISTS]")


def test_inbox_children_and_inbox_case(env, user):
    """RFC 3501 §5.1: INBOX is case-insensitive, also as the prefix of its
    children; the store spells it INBOX."""
    with login(env, user) as c:
        ok(c, "CREATE inbox/Receipts")
        assert listing(c, "", "INBOX*") == [
            b'* LIST (\\HasChildren) "/" INBOX',
            b'* LIST (\\HasNoChildren) "/" INBOX/Receipts']
        fails(c, "CREATE Inbox/Receipts", "NO [ALREADYEXISTS]")
        assert status(c, "iNbOx/Receipts", "MESSAGES") == {"MESSAGES": 0}
        assert listing(c, "", "inbox") == [b'* LIST (\\HasChildren) "/" INBOX']


BAD_NAMES = [
    (b'""', "empty"),
    (b'"/a"', "leading delimiter"),
    (b'"a//b"', "empty level"),
    (b'"&Jjo"', "unterminated mUTF-7"),
    (b'"&AGE-"', "mUTF-7 for printable ASCII"),
    (b'"a&AOk-&AOk-"', "two adjacent mUTF-7 runs"),
    (b"{3}\r\n\xc3\xa9x", "raw 8-bit"),
    (b"{3}\r\na\tb", "control character"),
    (b"{3}\r\na\x00b", "NUL"),
    (b"x" * 1001, "over 1000 bytes"),
    (b"/".join([b"a"] * 33), "33 levels"),
]


@pytest.mark.parametrize("name,why", BAD_NAMES, ids=[w for _, w in BAD_NAMES])
def test_rfc3501_5_1_invalid_names_cannot_be_created(env, user, name, why):
    """Names that can never be valid are names no mailbox can have, not a
    syntax error: CREATE answers NO [CANNOT], and nothing is created."""
    with login(env, user) as c:
        if name.startswith(b"{"):
            head, data = name.split(b"\r\n", 1)
            c.send(b"t CREATE " + head + b"\r\n")
            c.expect_continuation()
            c.send(data + b"\r\n")
            tagged, _ = c.read_tagged("t")
        else:
            tagged, _ = c.cmd("t", b"CREATE " + name)
        assert tagged.startswith(b"t NO [CANNOT]"), tagged
        assert listing(c, "", "*") == DEFAULT_LIST


def test_limits_of_a_name(env, user):
    """1000 bytes and 32 levels are allowed."""
    with login(env, user) as c:
        ok(c, b"CREATE " + b"x" * 1000)
        ok(c, b"CREATE " + b"/".join([b"l"] * 32))
        fails(c, b"DELETE " + b"/".join([b"l"] * 33), "NO [NONEXISTENT]")
        fails(c, "DELETE foo/", "NO [NONEXISTENT]")   # only CREATE drops the delimiter


def test_rfc3501_5_1_3_modified_utf7_round_trip(env, user):
    """Names travel in modified UTF-7 and are stored in UTF-8."""
    with login(env, user) as c:
        ok(c, "CREATE Entw&APw-rfe")
        ok(c, "CREATE &ZeVnLIqe-/&U,BTFw-")
        assert listing(c, "", "Entw*") == [b'* LIST (\\HasNoChildren) "/" Entw&APw-rfe']
        assert listing(c, "", "&ZeVnLIqe-/%") == [b'* LIST (\\HasNoChildren) "/" &ZeVnLIqe-/&U,BTFw-']
        assert status(c, "Entw&APw-rfe", "MESSAGES") == {"MESSAGES": 0}
        fails(c, "CREATE Entw&APw-rfe", "NO [ALREADYEXISTS]")
    stored = env.pg.psql(
        "SELECT name FROM mailboxes m JOIN accounts a ON a.id = m.owner_id"
        f" WHERE a.login = '{user}' AND name LIKE 'Entw%'")
    assert stored.strip() == "Entwürfe"


def test_names_with_spaces_quotes_and_wildcards_are_quoted(env, user):
    """RFC 3501 §4.3, §5.1: such names need a quoted string both ways."""
    with login(env, user) as c:
        ok(c, b"CREATE " + quote(b'My "quoted" mail'))
        ok(c, b'CREATE "with space"')
        ok(c, b'CREATE "50% off*"')
        ok(c, b'CREATE "back\\\\slash"')
        assert own(listing(c, "", "*")) == [
            b'* LIST (\\HasNoChildren) "/" "50% off*"',
            b'* LIST (\\HasNoChildren) "/" "My \\"quoted\\" mail"',
            b'* LIST (\\HasNoChildren) "/" "back\\\\slash"',
            b'* LIST (\\HasNoChildren) "/" "with space"']
        assert status(c, quote(b'My "quoted" mail').decode(), "MESSAGES") == {"MESSAGES": 0}


# --------------------------------------------------------------------------
# DELETE (RFC 3501 §6.3.4)


def test_rfc3501_6_3_4_delete(env, user):
    with login(env, user) as c:
        ok(c, "CREATE gone")
        ok(c, "DELETE gone")
        assert listing(c, "", "gone") == []
        fails(c, "DELETE gone", "NO [NONEXISTENT]")
        fails(c, "STATUS gone (MESSAGES)", "NO [NONEXISTENT]")


def test_rfc3501_6_3_4_delete_inbox_is_refused(env, user):
    """"It is an error to attempt to delete INBOX" (in any case)."""
    with login(env, user) as c:
        fails(c, "DELETE INBOX", "NO [CANNOT]")
        fails(c, "DELETE inbox", "NO [CANNOT]")
        assert listing(c, "", "INBOX") == [b'* LIST (\\HasNoChildren) "/" INBOX']


def test_rfc3501_6_3_4_the_rfc_example(env, user):
    """The example of §6.3.4, step by step: a mailbox with inferiors
    becomes \\Noselect; deleting that placeholder while it has inferiors
    is an error; once they are gone it can be deleted."""
    with login(env, user) as c:
        ok(c, "CREATE blurdybloop")
        ok(c, "CREATE foo/bar")
        ok(c, "DELETE foo")      # foo had inferiors: it becomes \Noselect
        assert listing(c, "", "blurdybloop") + listing(c, "", "foo*") == [
            b'* LIST (\\HasNoChildren) "/" blurdybloop',
            b'* LIST (\\Noselect \\HasChildren) "/" foo',
            b'* LIST (\\HasNoChildren) "/" foo/bar']
        ok(c, "DELETE blurdybloop")
        fails(c, "DELETE foo", "NO [CANNOT]")
        ok(c, "DELETE foo/bar")
        assert listing(c, "", "foo*") == [b'* LIST (\\Noselect \\HasNoChildren) "/" foo']
        ok(c, "DELETE foo")
        assert listing(c, "", "foo*") == []


def test_delete_with_children_removes_its_messages(env, user):
    """§6.3.4: the messages of a mailbox that keeps its name for its
    inferiors are removed; it cannot be opened, and CREATE makes it an
    ordinary, empty mailbox again with a new UIDVALIDITY."""
    with login(env, user) as c:
        ok(c, "CREATE box/child")
        append(c, "box", MSG)
        before = status(c, "box", "MESSAGES UIDVALIDITY")
        assert before["MESSAGES"] == 1
        ok(c, "DELETE box")
        fails(c, "STATUS box (MESSAGES)", "NO [NONEXISTENT]")
        fails(c, "SELECT box", "NO")
        ok(c, "CREATE box")
        assert listing(c, "", "box") == [b'* LIST (\\HasChildren) "/" box']
        after = status(c, "box", "MESSAGES UIDVALIDITY")
        assert after["MESSAGES"] == 0
        assert after["UIDVALIDITY"] != before["UIDVALIDITY"]


def test_rfc3501_2_3_1_1_uidvalidity_changes_after_delete_and_create(env, user):
    """A mailbox deleted and created again under the same name must get a
    new UIDVALIDITY, so that no client trusts its cached UIDs."""
    with login(env, user) as c:
        ok(c, "CREATE again")
        first = status(c, "again", "UIDVALIDITY")["UIDVALIDITY"]
        ok(c, "DELETE again")
        ok(c, "CREATE again")
        second = status(c, "again", "UIDVALIDITY")["UIDVALIDITY"]
        assert second != first and 0 < second < 2 ** 32


def test_delete_selected_mailbox_deselects_it(env, user):
    """The session's own mailbox went away: RFC 9051 §7.1 CLOSED tells the
    client it is back in the authenticated state."""
    with login(env, user) as c:
        ok(c, "CREATE current")
        ok(c, "SELECT current")
        untagged = ok(c, "DELETE current")
        assert b"* OK [CLOSED]" in b"\n".join(untagged), untagged
        fails(c, "FETCH 1 FLAGS", "BAD")


# --------------------------------------------------------------------------
# RENAME (RFC 3501 §6.3.5)


def test_rfc3501_6_3_5_rename_moves_inferiors(env, user):
    with login(env, user) as c:
        ok(c, "CREATE old/sub/leaf")
        validity = status(c, "old/sub", "UIDVALIDITY")["UIDVALIDITY"]
        ok(c, "RENAME old new")
        assert listing(c, "", "old*") == []
        assert listing(c, "", "new*") == [
            b'* LIST (\\HasChildren) "/" new',
            b'* LIST (\\HasChildren) "/" new/sub',
            b'* LIST (\\HasNoChildren) "/" new/sub/leaf']
        # UIDVALIDITY values are never shared, so a renamed mailbox keeps its own.
        assert status(c, "new/sub", "UIDVALIDITY")["UIDVALIDITY"] == validity


def test_rfc3501_6_3_5_rename_creates_superior_levels(env, user):
    with login(env, user) as c:
        ok(c, "CREATE leaf")
        ok(c, "RENAME leaf x/y/leaf")
        assert listing(c, "", "x*") == [
            b'* LIST (\\HasChildren) "/" x',
            b'* LIST (\\HasChildren) "/" x/y',
            b'* LIST (\\HasNoChildren) "/" x/y/leaf']
        assert status(c, "x/y", "MESSAGES") == {"MESSAGES": 0}


def test_rfc3501_6_3_5_rename_errors(env, user):
    """Renaming a name that does not exist, or onto one that does
    (INBOX included), or below itself."""
    with login(env, user) as c:
        ok(c, "CREATE a/b")
        ok(c, "CREATE z")
        fails(c, "RENAME nosuch y", "NO [NONEXISTENT]")
        fails(c, "RENAME a z", "NO [ALREADYEXISTS]")
        fails(c, "RENAME a a", "NO [ALREADYEXISTS]")
        fails(c, "RENAME z a/b", "NO [ALREADYEXISTS]")
        fails(c, "RENAME z inbox", "NO [ALREADYEXISTS]")
        fails(c, "RENAME a a/b/c", "NO [CANNOT]")
        fails(c, "RENAME a", "BAD")
        fails(c, 'RENAME a ""', "NO [CANNOT]")
        assert just_names(own(listing(c, "", "*"))) == [b"a", b"a/b", b"z"]


def test_rename_onto_name_below_target_is_alreadyexists(env, user):
    """The target's own inferiors count: renaming onto a \\Noselect
    placeholder that still has children would merge two hierarchies."""
    with login(env, user) as c:
        ok(c, "CREATE p/q")
        ok(c, "DELETE p")
        ok(c, "CREATE src")
        fails(c, "RENAME src p", "NO [ALREADYEXISTS]")


def test_rename_names_with_like_wildcards(env, user):
    """'%', '_' and '\\' in a name are not patterns: renaming "a%" moves
    "a%" and its inferiors, and nothing that merely looks alike."""
    with login(env, user) as c:
        for name in ('"a%/c"', '"ab/c"', '"a_/c"', '"a\\\\/c"', "a/c"):
            ok(c, f"CREATE {name}")
        ok(c, 'RENAME "a%" r')
        ok(c, 'RENAME "a_" s')
        ok(c, 'RENAME "a\\\\" t')
        assert just_names(own(listing(c, "", "*"))) == [
            b"a", b"a/c", b"ab", b"ab/c", b"r", b"r/c", b"s", b"s/c", b"t", b"t/c"]


def test_rename_carries_subscriptions(env, user):
    with login(env, user) as c:
        ok(c, "CREATE proj/2024")
        ok(c, "SUBSCRIBE proj/2024")
        ok(c, "RENAME proj archive-proj")
        assert listing(c, "", "*proj*", "LSUB") == [b'* LSUB () "/" archive-proj/2024']


def test_rfc3501_6_3_5_rename_inbox(env, user):
    """"Renaming INBOX is permitted ... [it] moves all messages in INBOX to
    a new mailbox with the given name, leaving INBOX empty"; INBOX keeps
    its UIDVALIDITY and UIDNEXT (so no UID is used twice), and its
    inferiors stay where they are."""
    with login(env, user) as c:
        ok(c, "CREATE INBOX/keep")
        append(c, "INBOX", MSG)
        append(c, "INBOX", MSG, flags="\\Seen")
        before = status(c, "INBOX", "MESSAGES UIDNEXT UIDVALIDITY")
        assert before["MESSAGES"] == 2 and before["UIDNEXT"] == 3
        ok(c, "RENAME INBOX Old-Mail")
        after = status(c, "INBOX", "MESSAGES UIDNEXT UIDVALIDITY")
        assert after == {"MESSAGES": 0, "UIDNEXT": 3, "UIDVALIDITY": before["UIDVALIDITY"]}
        moved = status(c, "Old-Mail", "MESSAGES UIDNEXT UIDVALIDITY UNSEEN")
        assert moved["MESSAGES"] == 2 and moved["UIDNEXT"] == 3 and moved["UNSEEN"] == 1
        assert moved["UIDVALIDITY"] != before["UIDVALIDITY"]
        assert listing(c, "", "INBOX*") == [
            b'* LIST (\\HasChildren) "/" INBOX',
            b'* LIST (\\HasNoChildren) "/" INBOX/keep']
        # The next message in INBOX gets a UID never used there.
        append(c, "INBOX", MSG)
        assert status(c, "INBOX", "MESSAGES UIDNEXT") == {"MESSAGES": 1, "UIDNEXT": 4}
        # INBOX below itself is fine: its inferiors do not move.
        ok(c, "RENAME inbox INBOX/old")
        assert status(c, "INBOX/old", "MESSAGES") == {"MESSAGES": 1}
        fails(c, "RENAME INBOX Old-Mail", "NO [ALREADYEXISTS]")


# --------------------------------------------------------------------------
# SUBSCRIBE, UNSUBSCRIBE, LSUB (RFC 3501 §6.3.6, §6.3.7, §6.3.9)


def test_rfc3501_6_3_6_subscribe_and_lsub(env, user):
    with login(env, user) as c:
        ok(c, "CREATE Lists/kairan")
        ok(c, "SUBSCRIBE Lists/kairan")
        ok(c, "SUBSCRIBE Lists/kairan")            # twice is fine, listed once
        assert listing(c, "", "Lists/*", "LSUB") == [b'* LSUB () "/" Lists/kairan']
        assert listing(c, "", "Lists*", "LIST") == [
            b'* LIST (\\HasChildren) "/" Lists',
            b'* LIST (\\HasNoChildren) "/" Lists/kairan']


def test_rfc3501_6_3_6_subscribe_nonexistent_is_allowed(env, user):
    """The server MAY refuse; kairand accepts (like Dovecot), and LSUB
    shows the name as \\Noselect, since it cannot be selected. Deleting a
    mailbox does not unsubscribe it ("MUST NOT unilaterally remove")."""
    with login(env, user) as c:
        ok(c, "SUBSCRIBE Future")
        ok(c, "CREATE Past")
        ok(c, "SUBSCRIBE Past")
        ok(c, "DELETE Past")
        assert own(listing(c, "", "*", "LSUB")) == [
            b'* LSUB (\\Noselect) "/" Future', b'* LSUB (\\Noselect) "/" Past']
        ok(c, "CREATE Future")
        assert listing(c, "", "F*", "LSUB") == [b'* LSUB () "/" Future']


def test_rfc9051_6_3_8_unsubscribe(env, user):
    """UNSUBSCRIBE removes the name; of a name not subscribed it is OK
    too (RFC 9051 §6.3.8)."""
    with login(env, user) as c:
        ok(c, "UNSUBSCRIBE Junk")
        assert b"Junk" not in b"".join(listing(c, "", "*", "LSUB"))
        ok(c, "UNSUBSCRIBE Junk")
        ok(c, "UNSUBSCRIBE never-subscribed")
        ok(c, "unsubscribe inbox")
        assert listing(c, "", "INBOX", "LSUB") == []
        fails(c, "UNSUBSCRIBE", "BAD")
        fails(c, 'SUBSCRIBE "a//b"', "NO [CANNOT]")
        ok(c, 'UNSUBSCRIBE "a//b"')     # cannot be subscribed: nothing to remove


def test_rfc3501_6_3_9_lsub_percent_shows_unsubscribed_parent_noselect(env, user):
    """"If "foo/bar" ... is subscribed but "foo" is not. A "%" wildcard to
    LSUB must return foo, not foo/bar, in the LSUB response, and it MUST
    be flagged with the \\Noselect attribute." """
    with login(env, user) as c:
        ok(c, "CREATE foo/bar")
        ok(c, "SUBSCRIBE foo/bar")
        lines = listing(c, "", "%", "LSUB")
        assert b'* LSUB (\\Noselect) "/" foo' in lines
        assert not [x for x in lines if b"foo/bar" in x]
        assert own(listing(c, "", "*", "LSUB")) == [b'* LSUB () "/" foo/bar']
        ok(c, "SUBSCRIBE foo")
        assert listing(c, "", "f%", "LSUB") == [b'* LSUB () "/" foo']


def test_lsub_of_inbox_any_case(env, user):
    with login(env, user) as c:
        ok(c, "UNSUBSCRIBE INBOX")
        ok(c, "SUBSCRIBE inbox")
        assert listing(c, "", "InBox", "LSUB") == [b'* LSUB () "/" INBOX']


# --------------------------------------------------------------------------
# LIST (RFC 3501 §6.3.8)


@pytest.fixture(scope="module")
def tree(env):
    """One account with a small hierarchy, for the read-only LIST cases."""
    login_name = env.new_user("tree")
    with login(env, login_name) as c:
        for name in ("INBOX/sub", "a/b/c", "a/bc", "ab", '"x y"', "Entw&APw-rfe"):
            ok(c, f"CREATE {name}")
    return login_name


TOP = [b"INBOX", b"a", b"ab", b"Archive", b"Drafts", b"Entw&APw-rfe", b"Junk", b"Sent",
       b"Trash", b"x y"]
TOP.sort(key=lambda n: (n != b"INBOX", n))

LIST_CASES = [
    # (reference, pattern, names in order)
    ("", "%", TOP),
    ("", "*", [b"INBOX", b"INBOX/sub", b"Archive", b"Drafts", b"Entw&APw-rfe", b"Junk",
               b"Sent", b"Trash", b"a", b"a/b", b"a/b/c", b"a/bc", b"ab", b"x y"]),
    ("", "a", [b"a"]),
    ("", "a/%", [b"a/b", b"a/bc"]),
    ("", "a/*", [b"a/b", b"a/b/c", b"a/bc"]),
    ("a/", "%", [b"a/b", b"a/bc"]),          # §6.3.8: the reference is prefixed
    ("a/", "*", [b"a/b", b"a/b/c", b"a/bc"]),
    ("a/", "b", [b"a/b"]),
    ("a", "b", [b"ab"]),                     # no delimiter is inserted
    ("a/", "/a", []),                        # a pattern from the root ignores the reference
    ("", "a*", [b"a", b"a/b", b"a/b/c", b"a/bc", b"ab"]),
    ("", "a%", [b"a", b"ab"]),
    ("", "%/%", [b"INBOX/sub", b"a/b", b"a/bc"]),
    ("", "*/*", [b"INBOX/sub", b"a/b", b"a/b/c", b"a/bc"]),
    ("", "%/%/%", [b"a/b/c"]),
    ("", "*c", [b"a/b/c", b"a/bc"]),
    ("", "%c", []),
    ("", "a/%c", [b"a/bc"]),
    ("", "inbox", [b"INBOX"]),               # §5.1: INBOX in any case
    ("", "Inbox/%", [b"INBOX/sub"]),
    ("inbox/", "*", [b"INBOX/sub"]),
    ("", "i*", [b"INBOX", b"INBOX/sub"]),
    ("", "x y", [b"x y"]),
    ("", "x%", [b"x y"]),
    ("", "Entw&APw-*", [b"Entw&APw-rfe"]),   # patterns are modified UTF-7 too
    ("", "*&APw-*", [b"Entw&APw-rfe"]),
    ("", "nosuch", []),
    ("", "archive", []),                     # other names are case-sensitive
]


@pytest.mark.parametrize("ref,pattern,expected", LIST_CASES,
                         ids=[f"{r!r}+{p!r}" for r, p, _ in LIST_CASES])
def test_rfc3501_6_3_8_list_reference_and_wildcards(env, tree, ref, pattern, expected):
    with login(env, tree) as c:
        assert just_names(listing(c, ref, pattern)) == expected


def test_rfc3501_6_3_8_list_attributes(env, tree):
    with login(env, tree) as c:
        assert listing(c, "", "a*") == [
            b'* LIST (\\HasChildren) "/" a',
            b'* LIST (\\HasChildren) "/" a/b',
            b'* LIST (\\HasNoChildren) "/" a/b/c',
            b'* LIST (\\HasNoChildren) "/" a/bc',
            b'* LIST (\\HasNoChildren) "/" ab']


def test_rfc3501_6_3_8_empty_pattern_gives_delimiter(env, tree):
    """"An empty ("" string) mailbox name argument is a special request to
    return the hierarchy delimiter and the root name of the name given in
    the reference." """
    with login(env, tree) as c:
        assert listing(c, "", "") == [b'* LIST (\\Noselect) "/" ""']
        assert listing(c, "a/b", "") == [b'* LIST (\\Noselect) "/" ""']


def test_list_atoms_and_literals(env, tree):
    """list-mailbox may be an atom holding wildcards, or a literal."""
    with login(env, tree) as c:
        assert just_names(ok(c, 'LIST "" a/%')) == [b"a/b", b"a/bc"]
        assert just_names(ok(c, "LIST a/ *")) == [b"a/b", b"a/b/c", b"a/bc"]
        c.send(b't LIST "" {3}\r\n')
        c.expect_continuation()
        c.send(b"x y\r\n")
        tagged, untagged = c.read_tagged("t")
        assert tagged.startswith(b"t OK") and just_names(untagged) == [b"x y"]


def test_list_syntax_errors_are_bad(env, tree):
    with login(env, tree) as c:
        fails(c, "LIST", "BAD")
        fails(c, 'LIST ""', "BAD")
        fails(c, 'LIST "" * extra', "BAD")
        # not modified UTF-7: names that cannot exist, so none is listed
        assert ok(c, 'LIST "" "&Jjo"') == []
        assert ok(c, 'LIST "&Jjo" *') == []
        fails(c, 'LIST "" ()', "BAD")   # RFC 5258: a pattern list is not empty
        fails(c, 'LSUB "" (a)', "BAD")  # LSUB has no extended form


def test_list_missing_superior_is_noselect(env, user):
    """§6.3.8: levels of hierarchy that are not mailboxes are returned with
    \\Noselect. The store keeps superiors, but a child can lose its parent
    in a race of DELETE and CREATE; simulated here in SQL."""
    with login(env, user) as c:
        ok(c, "CREATE orphan/child")
        env.pg.psql("DELETE FROM mailboxes WHERE name = 'orphan' AND owner_id ="
                    f" (SELECT id FROM accounts WHERE login = '{user}')")
        assert listing(c, "", "%")[-1] == b'* LIST (\\Noselect \\HasChildren) "/" orphan'
        assert listing(c, "", "orphan*") == [
            b'* LIST (\\Noselect \\HasChildren) "/" orphan',
            b'* LIST (\\HasNoChildren) "/" orphan/child']


def test_many_mailboxes_and_the_account_limit(env, user):
    """10,000 mailboxes (made in SQL for speed) list in one go; CREATE
    beyond the limit is NO [LIMIT] (RFC 5530), and an existing name is
    still ALREADYEXISTS."""
    with login(env, user) as c:
        env.pg.psql("INSERT INTO mailboxes (owner_id, name) SELECT id, 'bulk/' || g"
                    " FROM accounts, generate_series(1, 9993) g"
                    f" WHERE login = '{user}'")
        lines = listing(c, "", "*")
        assert len(lines) == 6 + 1 + 9993
        assert lines[6] == b'* LIST (\\Noselect \\HasChildren) "/" bulk'
        assert listing(c, "", "bulk/9") == [b'* LIST (\\HasNoChildren) "/" bulk/9']
        assert listing(c, "", "*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%z") == []
        ok(c, "CREATE bulk")                  # the 10,000th: the placeholder becomes real
        fails(c, "CREATE one-too-many", "NO [LIMIT]")
        fails(c, "CREATE Sent", "NO [ALREADYEXISTS]")


# --------------------------------------------------------------------------
# STATUS (RFC 3501 §6.3.10)


def test_rfc3501_6_3_10_status_every_item(env, user):
    """MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN (RFC 3501), DELETED
    and SIZE (RFC 9051 §6.3.11, RFC 8438), in one response; RECENT counts
    the messages that no SELECT has claimed as \\Recent yet."""
    with login(env, user) as c:
        ok(c, "CREATE counted")
        append(c, "counted", MSG, flags="\\Seen")
        append(c, "counted", MSG + b"more\r\n", flags="\\Deleted")
        append(c, "counted", MSG, flags="\\Flagged")
        validity = status(c, "counted", "UIDVALIDITY")["UIDVALIDITY"]
        untagged = ok(c, "STATUS counted (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE)")
        size = 3 * len(MSG) + len(b"more\r\n")
        assert untagged == [
            f"* STATUS counted (MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY {validity} "
            f"UNSEEN 2 DELETED 1 SIZE {size})".encode()]
        with login(env, user) as other:
            ok(other, "SELECT counted")     # takes the \Recent messages
        assert status(c, "counted", "RECENT MESSAGES") == {"MESSAGES": 3, "RECENT": 0}


def test_status_of_empty_mailbox_and_item_order(env, user):
    """Items come in one fixed order whatever the request's; the name
    comes back as the client spelled it."""
    with login(env, user) as c:
        validity = status(c, "INBOX", "UIDVALIDITY")["UIDVALIDITY"]
        assert ok(c, "STATUS inbox (UNSEEN uidvalidity MESSAGES SIZE DELETED RECENT UIDNEXT)") == [
            f"* STATUS inbox (MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY {validity} UNSEEN 0 "
            f"DELETED 0 SIZE 0)".encode()]


def test_rfc3501_6_3_10_status_errors(env, user):
    with login(env, user) as c:
        fails(c, "STATUS nosuch (MESSAGES)", "NO [NONEXISTENT]")
        fails(c, "STATUS INBOX ()", "BAD")
        fails(c, "STATUS INBOX (MESSAGES BOGUS)", "BAD")
        fails(c, "STATUS INBOX MESSAGES", "BAD")
        fails(c, "STATUS INBOX", "BAD")
        fails(c, "STATUS (MESSAGES)", "BAD")
        fails(c, 'STATUS "" (MESSAGES)', "NO [NONEXISTENT]")
        ok(c, "CREATE holder/inside")
        ok(c, "DELETE holder")
        fails(c, "STATUS holder (MESSAGES)", "NO [NONEXISTENT]")


# --------------------------------------------------------------------------
# Several sessions


def test_two_sessions_see_each_others_mailboxes(env, user):
    """All state is in the store: what one session creates, renames or
    deletes, another lists at once."""
    with login(env, user) as a, login(env, user) as b:
        ok(a, "CREATE shared-view")
        assert listing(b, "", "shared*") == [b'* LIST (\\HasNoChildren) "/" shared-view']
        ok(b, "RENAME shared-view seen-by-a")
        assert listing(a, "", "s*") == [b'* LIST (\\HasNoChildren) "/" seen-by-a']
        ok(a, "DELETE seen-by-a")
        assert listing(b, "", "s*") == []


def test_concurrent_creates_of_one_hierarchy(env, user):
    """Eight sessions create siblings under one new parent at once: every
    CREATE succeeds, and the parent exists once."""
    clients = [login(env, user) for _ in range(8)]
    results = [None] * len(clients)

    def run(i):
        results[i] = clients[i].cmd("c", f"CREATE team/member{i}")[0]

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.startswith(b"c OK") for r in results), results
        lines = listing(clients[0], "", "team*")
        assert lines[0] == b'* LIST (\\HasChildren) "/" team'
        assert just_names(lines[1:]) == [f"team/member{i}".encode() for i in range(8)]
    finally:
        for c in clients:
            c.close()


def test_concurrent_creates_racing_on_every_superior(env, user):
    """Eight sessions each create a child in twenty new hierarchies at
    once, so they race to create the same superiors twenty times: a
    superior that another session inserted first (on any unique index,
    migration 0006 has two) is no error, and every CREATE succeeds."""
    clients = [login(env, user) for _ in range(8)]
    results = [[] for _ in clients]

    def run(i):
        for k in range(20):
            results[i].append(clients[i].cmd("c", f"CREATE race{k}/level/m{i}")[0])

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bad = [r for rs in results for r in rs if not r.startswith(b"c OK")]
        assert bad == [], bad
    finally:
        for c in clients:
            c.close()


def test_accounts_do_not_see_each_other(env, user):
    other = env.new_user("mbx")
    with login(env, user) as a, login(env, other) as b:
        ok(a, "CREATE private")
        assert listing(b, "", "private") == []
        fails(b, "STATUS private (MESSAGES)", "NO [NONEXISTENT]")
        fails(b, "DELETE private", "NO [NONEXISTENT]")
