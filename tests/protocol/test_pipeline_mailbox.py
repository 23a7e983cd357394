"""The command pipeline (server/imap/dispatch.c) as the mailbox commands
see it: the rights the table names are checked before the handler runs,
a refusal names the right that is missing when the caller may know the
mailbox exists and is the missing mailbox's answer, byte for byte, when it
may not (RFC 4314 §4, RFC 5530 NOPERM and NONEXISTENT), and arguments are
refused with BAD before the mailbox is looked at (the check step).

Two people, alice and bob: alice shares folders with bob through SETACL
(RFC 4314 §3.1) and bob works on them under "Other Users/<alice>/"
(RFC 2342). Effects are checked through alice's own session."""

import pytest

from test_shared_folders import listed, login, ok, quote


@pytest.fixture
def pair(env):
    """alice and bob, logged in; alice has Lr (bob: "lr"), Hidden (bob:
    nothing) and Lr/Sub (bob: "lrx")."""
    alice, bob = env.new_user("alice"), env.new_user("bob")
    a, b = login(env.imap_port, alice), login(env.imap_port, bob)
    ok(a, "CREATE Lr")
    ok(a, "CREATE Lr/Sub")
    ok(a, "CREATE Hidden")
    ok(a, f"SETACL Lr {bob} lr")
    ok(a, f"SETACL Lr/Sub {bob} lrx")
    yield alice, a, b
    a.close()
    b.close()


def test_rfc4314_4_delete_without_x_names_the_missing_right(pair):
    """§4: DELETE needs "x" on the mailbox. bob sees Lr ("l" and "r"), so
    the refusal may say what is missing (RFC 5530 NOPERM)."""
    alice, a, b = pair
    tagged, _ = b.cmd("d", f'DELETE "Other Users/{alice}/Lr"')
    assert tagged == (f"d NO [NOPERM] DELETE in Other Users/{alice}/Lr needs the x right"
                      .encode()), tagged
    assert "Lr" in listed(a)


def test_rfc4314_4_rename_source_without_x_names_the_missing_right(pair):
    """§4: RENAME needs "x" on the old name (checked by the table) ..."""
    alice, a, b = pair
    tagged, _ = b.cmd("r", f'RENAME "Other Users/{alice}/Lr" "Other Users/{alice}/Lr2"')
    assert tagged == (f"r NO [NOPERM] RENAME in Other Users/{alice}/Lr needs the x right"
                      .encode()), tagged
    assert "Lr" in listed(a) and "Lr2" not in listed(a)


def test_rfc4314_4_new_name_needs_k_on_a_parent_the_caller_sees(pair):
    """... and "k" on the new name's nearest existing parent, as CREATE
    does. bob sees Lr, so the refusal names the "k" it lacks there."""
    alice, a, b = pair
    tagged, _ = b.cmd("c", f'CREATE "Other Users/{alice}/Lr/New"')
    assert tagged == (f"c NO [NOPERM] CREATE in Other Users/{alice}/Lr needs the k right"
                      .encode()), tagged
    tagged, _ = b.cmd("r", f'RENAME "Other Users/{alice}/Lr/Sub" "Other Users/{alice}/Lr/Sub2"')
    assert tagged == (f"r NO [NOPERM] RENAME in Other Users/{alice}/Lr needs the k right"
                      .encode()), tagged
    assert {"Lr/Sub"} <= set(listed(a)) and not {"Lr/New", "Lr/Sub2"} & set(listed(a))


def test_rfc4314_4_parent_the_caller_cannot_see_is_a_missing_parent(pair):
    """The parent is a mailbox the client did not name: refusing "k" on
    one bob cannot see must read exactly as a parent that does not exist,
    or CREATE would probe for names."""
    alice, a, b = pair
    hidden, _ = b.cmd("c", f'CREATE "Other Users/{alice}/Hidden/New"')
    missing, _ = b.cmd("c", f'CREATE "Other Users/{alice}/Nothing/New"')
    assert hidden.startswith(b"c NO [NOPERM]") and hidden == missing, (hidden, missing)
    assert "Hidden/New" not in listed(a)


@pytest.mark.parametrize("command", ["DELETE {}", "STATUS {} (MESSAGES)",
                                     "RENAME {} Elsewhere"])
def test_rfc4314_4_mailbox_without_l_or_r_answers_as_a_missing_one(pair, command):
    """§4: a caller with neither "l" nor "r" must not learn that the
    mailbox exists; the answer is NONEXISTENT, byte for byte that of a
    name nobody has."""
    alice, a, b = pair
    hidden = b.cmd("x", command.format(quote(f"Other Users/{alice}/Hidden")))
    missing = b.cmd("x", command.format(quote(f"Other Users/{alice}/Nothing")))
    assert hidden[0].startswith(b"x NO [NONEXISTENT]"), hidden
    assert hidden == missing, (hidden, missing)
    assert "Hidden" in listed(a)


@pytest.mark.parametrize("mailbox", ["INBOX", "NoSuchMailbox", "Other Users/{alice}/Hidden"])
def test_rfc3501_6_3_10_status_item_list_is_checked_before_the_mailbox(pair, mailbox):
    """RFC 3501 §6.3.10: STATUS answers "BAD - command unknown or
    arguments invalid". The item list is parsed in the check step, before
    the mailbox is looked up, so the BAD is the same whether the mailbox
    exists, does not, or may not be seen: a bad item never turns into NO
    [NONEXISTENT], and never tells the mailboxes apart."""
    alice, a, b = pair
    name = quote(mailbox.format(alice=alice))
    answers = {b.cmd("s", f"STATUS {name} {items}")[0]
               for items in ("(MESSAGES BOGUS)", "()")}
    for tagged in answers:
        assert tagged.startswith(b"s BAD"), tagged
    _, u = b.cmd("s", "STATUS INBOX (MESSAGES BOGUS)")
    assert u == [], u
    base = {b.cmd("s", f"STATUS INBOX {items}")[0] for items in ("(MESSAGES BOGUS)", "()")}
    assert answers == base, (answers, base)


def test_rfc3501_6_3_10_status_still_works(pair):
    """The converted STATUS: "r" granted, the untagged STATUS before the OK."""
    alice, a, b = pair
    tagged, u = b.cmd("s", f'STATUS "Other Users/{alice}/Lr" (MESSAGES UIDNEXT)')
    assert tagged == b"s OK STATUS completed", tagged
    assert u == [f'* STATUS "Other Users/{alice}/Lr" (MESSAGES 0 UIDNEXT 1)'.encode()], u


def test_rfc3501_6_3_3_7_names_are_checked_before_the_store(pair):
    """What can never succeed is refused by the check step, whatever the
    store holds: INBOX always exists (§6.3.3), cannot be deleted (§6.3.4),
    a mailbox cannot move below itself (§6.3.5), and the names of the
    namespaces (RFC 2342) are not mailboxes."""
    alice, a, b = pair
    for text, want in (("CREATE inbox", b"NO [ALREADYEXISTS]"),
                       ("DELETE Inbox", b"NO [CANNOT]"),
                       ("RENAME NoSuch INBOX", b"NO [ALREADYEXISTS]"),
                       ("RENAME NoSuch NoSuch/below", b"NO [CANNOT]"),
                       ('RENAME NoSuch "Other Users"', b"NO [CANNOT]"),
                       ('CREATE "Shared"', b"NO [CANNOT]"),
                       ("SUBSCRIBE", b"BAD"),
                       ("DELETE a b", b"BAD"),
                       ('DELETE "a//b"', b"NO [NONEXISTENT]"),
                       ('CREATE "a/../b"', b"NO [CANNOT]"),
                       ("RENAME Lr", b"BAD"),
                       ('LIST "" ', b"BAD")):
        tagged, _ = a.cmd("k", text)
        assert tagged.startswith(b"k " + want), (text, tagged)
    assert {"Lr", "Hidden"} <= set(listed(a))
