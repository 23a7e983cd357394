"""OBJECTID (RFC 8474): MAILBOXID, EMAILID and THREADID, as a client sees
them (server/imap/objectid.h says how Kairan makes them).

Each test makes its own user and mailboxes."""

import re

import pytest

from imapclient import bad, login, ok

OBJECTID = rb"[A-Za-z0-9_-]{1,255}"
MSG = b"From: a@example.org\r\nSubject: object %d\r\n\r\nbody %d\r\n"


def append(c, mailbox, i=0, raw=None):
    raw = raw if raw is not None else MSG % (i, i)
    c.send(f"ap APPEND {mailbox} {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
    tagged, _ = c.read_tagged("ap")
    assert tagged.startswith(b"ap OK"), tagged


def created_id(c, name):
    """CREATE name; the MAILBOXID of its tagged OK (§4.1)."""
    tagged, _ = c.cmd("cr", f"CREATE {name}")
    m = re.match(rb"cr OK \[MAILBOXID \((" + OBJECTID + rb")\)\] ", tagged)
    assert m, tagged
    return m.group(1)


def selected_id(c, name, command="SELECT"):
    """The untagged OK [MAILBOXID (...)] of SELECT or EXAMINE (§4.2)."""
    ids = [m.group(1) for line in ok(c, f"{command} {name}")
           for m in [re.match(rb"\* OK \[MAILBOXID \((" + OBJECTID + rb")\)\] ", line)] if m]
    assert len(ids) == 1, ids
    return ids[0]


def status_id(c, name):
    """STATUS name (MAILBOXID) (§4.3)."""
    lines = ok(c, f"STATUS {name} (MAILBOXID)")
    assert len(lines) == 1, lines
    m = re.match(rb"\* STATUS \S+ \(MAILBOXID \((" + OBJECTID + rb")\)\)$", lines[0])
    assert m, lines
    return m.group(1)


def emailids(c, what="1:*", command="FETCH"):
    """{msn: EMAILID} of FETCH what (EMAILID) (§5.3)."""
    out = {}
    for line in ok(c, f"{command} {what} (EMAILID)"):
        m = re.match(rb"\* (\d+) FETCH \(.*EMAILID \((" + OBJECTID + rb")\)", line)
        assert m, line
        out[int(m.group(1))] = m.group(2)
    return out


def search(c, criteria):
    lines = [line for line in ok(c, f"SEARCH {criteria}") if line.startswith(b"* SEARCH")]
    assert len(lines) == 1, lines
    return [int(n) for n in lines[0].split()[2:]]


@pytest.fixture
def c(env):
    conn = login(env.imap_port, env.new_user("oid"))
    yield conn
    conn.close()


def test_rfc8474_3_capability(c):
    assert b"OBJECTID" in ok(c, "CAPABILITY")[0].split()


def test_rfc8474_4_mailboxid_same_in_create_select_examine_status(c):
    mid = created_id(c, "Projects")
    assert selected_id(c, "Projects") == mid
    assert selected_id(c, "Projects", "EXAMINE") == mid
    assert status_id(c, "Projects") == mid
    # Different mailboxes, different ids; INBOX has one too.
    assert created_id(c, "Other") != mid
    assert status_id(c, "INBOX") not in (mid, status_id(c, "Other"))


def test_rfc8474_4_mailboxid_survives_rename_with_its_children(c):
    parent, child = created_id(c, "Old"), created_id(c, "Old/Kid")
    ok(c, "RENAME Old New")
    assert status_id(c, "New") == parent and status_id(c, "New/Kid") == child
    assert selected_id(c, "New") == parent


def test_rfc8474_4_mailboxid_never_reused_after_delete_and_create(c):
    first = created_id(c, "Again")
    ok(c, "DELETE Again")
    second = created_id(c, "Again")
    assert second != first
    # A placeholder revived in place (DELETE of a mailbox with inferiors
    # keeps its row as \Noselect) is a new mailbox too.
    created_id(c, "Again/Kid")
    ok(c, "DELETE Again")
    third = created_id(c, "Again")
    assert third not in (first, second)


def test_rfc8474_4_rename_inbox_new_mailbox_gets_new_id(c):
    inbox = status_id(c, "INBOX")
    append(c, "INBOX")
    ok(c, "RENAME INBOX Saved")
    assert status_id(c, "INBOX") == inbox
    assert status_id(c, "Saved") != inbox


def test_rfc8474_5_1_emailid_stable_and_kept_by_copy_and_move(c):
    created_id(c, "Src")
    created_id(c, "Dst")
    for i in range(3):
        append(c, "Src", i)
    ok(c, "SELECT Src")
    ids = emailids(c)
    assert len(set(ids.values())) == 3
    assert emailids(c) == ids                      # stable
    assert emailids(c, "1:*", "UID FETCH") == ids  # UID FETCH too
    ok(c, "COPY 1 Dst")
    ok(c, "MOVE 2 Dst")
    ok(c, "SELECT Dst")
    # The content is stored once: the copy and the moved message keep
    # their EMAILID (§5.1: MOVE MUST, COPY may).
    assert set(emailids(c).values()) == {ids[1], ids[2]}


def test_rfc8474_5_1_emailid_differs_for_different_content(c):
    created_id(c, "Box")
    append(c, "Box", 1)
    append(c, "Box", 2)
    ok(c, "SELECT Box")
    ids = emailids(c)
    assert ids[1] != ids[2]


def test_rfc8474_5_2_threadid_is_nil(c):
    created_id(c, "Box")
    append(c, "Box")
    ok(c, "SELECT Box")
    lines = ok(c, "FETCH 1 (THREADID)")
    assert lines == [b"* 1 FETCH (THREADID NIL)"], lines
    lines = ok(c, "FETCH 1 (UID FLAGS THREADID EMAILID)")
    assert re.match(rb"\* 1 FETCH \(UID 1 FLAGS \([^)]*\) THREADID NIL EMAILID \(" + OBJECTID
                    + rb"\)\)$", lines[0]), lines


def test_rfc8474_6_search_emailid_and_threadid(c):
    created_id(c, "Box")
    for i in range(3):
        append(c, "Box", i)
    ok(c, "SELECT Box")
    ids = emailids(c)
    assert search(c, f"EMAILID {ids[2].decode()}") == [2]
    assert search(c, f"OR EMAILID {ids[1].decode()} EMAILID {ids[3].decode()}") == [1, 3]
    assert search(c, f"NOT EMAILID {ids[1].decode()}") == [2, 3]
    # Valid object ids that name nothing here match nothing.
    assert search(c, "EMAILID E0") == []
    assert search(c, "EMAILID Mnot_ours-1") == []
    assert search(c, "EMAILID E99999999999999999999999") == []
    # No threads: THREADID matches no message (§5.2).
    assert search(c, "THREADID T1") == []
    assert search(c, "NOT THREADID T1") == [1, 2, 3]


def test_rfc8474_6_emailid_only_finds_messages_of_this_mailbox(c):
    created_id(c, "A")
    created_id(c, "B")
    append(c, "A", 1)
    append(c, "B", 2)
    ok(c, "SELECT A")
    a_id = emailids(c)[1]
    ok(c, "SELECT B")
    assert search(c, f"EMAILID {a_id.decode()}") == []


@pytest.mark.parametrize("criteria", [
    "EMAILID",                         # missing
    "EMAILID E1.2",                    # not in the objectid alphabet
    "EMAILID E+1",
    'EMAILID ""',                      # empty
    "EMAILID " + "E" * 256,            # over 255 characters
    "THREADID (T1)",
    "THREADID T1*",
])
def test_rfc8474_7_bad_objectid_in_search_is_bad(c, criteria):
    created_id(c, "Box")
    ok(c, "SELECT Box")
    bad(c, f"SEARCH {criteria}")


def test_rfc8474_7_longest_objectid_accepted(c):
    created_id(c, "Box")
    ok(c, "SELECT Box")
    assert search(c, "EMAILID " + "E" * 255) == []


def test_rfc8474_4_3_status_mailboxid_with_other_items(c):
    mid = created_id(c, "Box")
    lines = ok(c, "STATUS Box (MESSAGES MAILBOXID UIDNEXT)")
    assert lines == [b"* STATUS Box (MESSAGES 0 UIDNEXT 1 MAILBOXID (" + mid + b"))"], lines


def test_rfc8474_4_3_list_status_mailboxid(c):
    """LIST-STATUS (RFC 5819) answers any STATUS item, MAILBOXID too."""
    mid = created_id(c, "Listed")
    lines = ok(c, 'LIST "" "Listed" RETURN (STATUS (MAILBOXID))')
    assert b"* STATUS Listed (MAILBOXID (" + mid + b"))" in lines, lines
