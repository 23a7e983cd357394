"""IMAP4rev2 (RFC 9051) beside IMAP4rev1: a session that sent `ENABLE
IMAP4rev2` (RFC 9051 §6.3.1) against one that did not, for each difference
of RFC 9051 Appendix E that Kairan implements (docs/protocol.md,
"IMAP4rev2"). Each test makes its own account."""

import re

import pytest

from imapclient import append_circulars as append, login, ok


def rev2(c):
    """Enables IMAP4rev2 on c; returns c."""
    assert ok(c, "ENABLE IMAP4rev2") == [b"* ENABLED IMAP4rev2"]
    return c


def bad(c, text):
    tagged, untagged = c.cmd("b", text)
    assert tagged.startswith(b"b BAD "), (text, tagged, untagged)
    return untagged


def has_recent(untagged):
    return any(re.match(rb"\* \d+ RECENT$", line) for line in untagged)


@pytest.fixture
def user(env):
    """An account with "Box" of 3 new messages (\\Recent, none \\Seen),
    nobody has selected yet."""
    name = env.new_user("rv")
    c = login(env.imap_port, name)
    ok(c, "CREATE Box")
    append(c, "Box", 3)
    c.close()
    return name


@pytest.fixture
def sessions(env, user):
    """(IMAP4rev1 session, IMAP4rev2 session) of the same account."""
    one, two = login(env.imap_port, user), rev2(login(env.imap_port, user))
    yield one, two
    one.close()
    two.close()


def test_rfc9051_7_2_2_capability_lists_imap4rev2_beside_imap4rev1(env, user):
    c = login(env.imap_port, user)
    caps = ok(c, "CAPABILITY")[0].split()
    assert b"IMAP4rev1" in caps and b"IMAP4rev2" in caps, caps
    # The extensions RFC 9051 folds in, which a client may use at once
    # (LITERAL- is another change's).
    for cap in (b"IDLE", b"NAMESPACE", b"UNSELECT", b"UIDPLUS", b"ESEARCH", b"SEARCHRES",
                b"ENABLE", b"SASL-IR", b"MOVE", b"STATUS=SIZE", b"BINARY", b"SPECIAL-USE"):
        assert cap in caps, (cap, caps)
    c.close()


def test_rfc9051_6_3_1_enable_imap4rev2_names_it_once(env, user):
    c = login(env.imap_port, user)
    assert ok(c, "ENABLE imap4rev2") == [b"* ENABLED IMAP4rev2"]
    # RFC 5161 §3.2: only what was not enabled already.
    assert ok(c, "ENABLE IMAP4rev2 CONDSTORE") == [b"* ENABLED CONDSTORE"]
    c.close()


def test_rfc9051_6_3_2_select_has_list_and_no_recent_or_unseen(sessions):
    one, two = sessions
    u1 = ok(one, "EXAMINE Box")
    assert has_recent(u1) and any(b"[UNSEEN 1]" in line for line in u1), u1
    assert not any(line.startswith(b"* LIST") for line in u1), u1
    u2 = ok(two, "SELECT Box")
    assert not has_recent(u2), u2
    assert not any(b"UNSEEN" in line for line in u2), u2
    assert b'* LIST (\\HasNoChildren) "/" Box' in u2, u2
    assert b"* 3 EXISTS" in u2, u2
    assert any(line.startswith(b"* OK [UIDVALIDITY ") for line in u2), u2
    assert any(line.startswith(b"* OK [UIDNEXT 4]") for line in u2), u2


def test_rfc9051_6_3_2_list_response_attributes_are_accurate(sessions):
    _, two = sessions
    ok(two, "CREATE Box/Inner")
    assert b'* LIST (\\HasChildren) "/" Box' in ok(two, "SELECT Box")
    assert b'* LIST (\\HasNoChildren \\Sent) "/" Sent' in ok(two, "EXAMINE Sent")
    # The canonical name, whatever case the client gave INBOX.
    u = ok(two, "SELECT inbox")
    assert any(re.match(rb'\* LIST \([^)]*\) "/" INBOX$', line) for line in u), u


def test_rfc9051_7_1_closed_marks_the_end_of_the_previous_mailbox(sessions):
    one, two = sessions
    ok(two, "SELECT Box")
    u = ok(two, "EXAMINE INBOX")
    assert u[0] == b"* OK [CLOSED] Previous mailbox closed", u
    ok(one, "SELECT Box")
    assert not any(b"CLOSED" in line for line in ok(one, "EXAMINE INBOX"))
    # Nothing was selected: nothing closed.
    ok(two, "UNSELECT")
    assert not any(b"CLOSED" in line for line in ok(two, "SELECT Box"))


def test_rfc9051_2_3_2_no_recent_flag_and_recent_left_to_imap4rev1(env, sessions, user):
    one, two = sessions
    # The IMAP4rev2 session neither shows nor takes \Recent ...
    ok(two, "SELECT Box")
    flags = ok(two, "FETCH 1:* (FLAGS)")
    assert len(flags) == 3 and not any(b"\\Recent" in line for line in flags), flags
    # ... so the first IMAP4rev1 session to select still gets it.
    u = ok(one, "SELECT Box")
    assert b"* 3 RECENT" in u, u
    assert all(b"\\Recent" in line for line in ok(one, "FETCH 1:* (FLAGS)"))


def test_rfc9051_7_4_no_recent_response_for_new_mail(env, sessions, user):
    one, two = sessions
    ok(one, "SELECT Box")
    ok(two, "SELECT Box")
    other = login(env.imap_port, user)
    append(other, "Box", 1)
    other.close()
    u2 = ok(two, "NOOP")
    assert b"* 4 EXISTS" in u2 and not has_recent(u2), u2
    assert not any(b"\\Recent" in line for line in ok(two, "FETCH 4 (FLAGS)"))
    u1 = ok(one, "NOOP")
    # RECENT counts all of the session's recent messages: 3 + 1.
    assert b"* 4 EXISTS" in u1 and b"* 4 RECENT" in u1, u1


def test_rfc9051_6_3_1_enable_while_selected_drops_recent(sessions):
    one, _ = sessions
    assert b"* 3 RECENT" in ok(one, "SELECT Box")
    rev2(one)
    flags = ok(one, "FETCH 1:* (FLAGS)")
    assert not any(b"\\Recent" in line for line in flags), flags
    bad(one, "SEARCH RECENT")


def test_rfc9051_6_4_4_search_answers_esearch(sessions):
    one, two = sessions
    for c in sessions:
        ok(c, "SELECT Box")
    assert ok(one, "SEARCH ALL", tag="s1") == [b"* SEARCH 1 2 3"]
    assert ok(two, "SEARCH ALL", tag="s1") == [b'* ESEARCH (TAG "s1") ALL 1:3']
    assert ok(two, "UID SEARCH 2:3", tag="s2") == [b'* ESEARCH (TAG "s2") UID ALL 2:3']
    # No match: the ESEARCH response without ALL (RFC 4731 §3.1).
    assert ok(two, "SEARCH DELETED", tag="s3") == [b'* ESEARCH (TAG "s3")']
    assert ok(one, "SEARCH DELETED", tag="s3") == [b"* SEARCH"]
    # RETURN works as before.
    assert ok(two, "SEARCH RETURN (COUNT) ALL", tag="s4") == [b'* ESEARCH (TAG "s4") COUNT 3']
    assert ok(two, "SEARCH RETURN (SAVE) 2", tag="s5") == []
    assert ok(two, "UID SEARCH $", tag="s6") == [b'* ESEARCH (TAG "s6") UID ALL 2']


@pytest.mark.parametrize("key", ["RECENT", "NEW", "OLD", "NOT RECENT", "OR SEEN NEW"])
def test_rfc9051_6_4_4_recent_new_old_are_not_search_keys(sessions, key):
    one, two = sessions
    for c in sessions:
        ok(c, "SELECT Box")
    ok(one, f"SEARCH {key}")
    bad(two, f"SEARCH {key}")
    bad(two, f"UID SEARCH RETURN (COUNT) {key}")


def test_rfc9051_6_3_11_status_has_no_recent(sessions):
    one, two = sessions
    assert ok(one, "STATUS Box (RECENT)") == [b"* STATUS Box (RECENT 3)"]
    bad(two, "STATUS Box (MESSAGES RECENT)")
    u = ok(two, "STATUS Box (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE)")
    assert re.match(rb"\* STATUS Box \(MESSAGES 3 UIDNEXT 4 UIDVALIDITY \d+ UNSEEN 3 "
                    rb"DELETED 0 SIZE \d+\)$", u[0]), u


def test_rfc9051_appendix_e_lsub_and_check_are_gone(sessions):
    one, two = sessions
    ok(one, "LSUB \"\" *")
    bad(two, "LSUB \"\" *")
    ok(one, "SELECT Box")
    ok(two, "SELECT Box")
    ok(one, "CHECK")
    bad(two, "CHECK")
    # NOOP and LIST, which replace them, work; the session stays selected.
    ok(two, "NOOP")
    assert any(line.endswith(b'"/" Box') for line in ok(two, 'LIST "" Box'))
    ok(two, "FETCH 1 (UID)")


def test_rfc9051_appendix_e_rfc822_fetch_items_still_answered(sessions):
    """Deprecated by Appendix E, kept: a client that still asks is served."""
    _, two = sessions
    ok(two, "EXAMINE Box")
    u = ok(two, "FETCH 1 (RFC822.SIZE RFC822.HEADER)")
    assert b"RFC822.SIZE" in u[0] and b"RFC822.HEADER" in u[0], u


def test_rfc9051_7_1_haschildren_for_delete_of_a_placeholder_with_inferiors(sessions):
    one, two = sessions
    ok(two, "CREATE Top/Child")
    ok(two, "DELETE Top")           # leaves Top as a \Noselect placeholder
    tagged, _ = two.cmd("d", "DELETE Top")
    assert tagged.startswith(b"d NO [HASCHILDREN] "), tagged
    tagged, _ = one.cmd("d", "DELETE Top")
    assert tagged.startswith(b"d NO [CANNOT] "), tagged


def test_rfc9051_6_3_13_idle_reports_new_mail_without_recent(env, sessions, user):
    """IDLE (RFC 9051 §6.3.13) pushes what NOOP would: EXISTS, no RECENT."""
    from test_idle import done, quiet, start_idle, wait_for
    _, two = sessions
    ok(two, "SELECT Box")
    start_idle(two)
    other = login(env.imap_port, user)
    append(other, "Box", 1)
    other.close()
    wait_for(two, rb"^\* 4 EXISTS$", timeout=5)
    later = quiet(two, 0.3) + done(two)
    assert not has_recent(later), later


def test_rfc9051_6_3_2_list_response_says_nothing_of_anothers_inferiors(env):
    """bob may not learn that alice's shared "Team" has a child he cannot
    see: the LIST response of his SELECT carries no child attribute."""
    alice, bob = env.new_user("rva"), env.new_user("rvb")
    login(env.imap_port, bob).close()
    a = login(env.imap_port, alice)
    ok(a, "CREATE Team/Private")
    ok(a, f"SETACL Team {bob} lr")
    b = rev2(login(env.imap_port, bob))
    u = ok(b, f'EXAMINE "Other Users/{alice}/Team"')
    assert f'* LIST () "/" "Other Users/{alice}/Team"'.encode() in u, u
    assert b'* LIST (\\HasChildren) "/" Team' in ok(rev2(a), "EXAMINE Team")
    a.close()
    b.close()
