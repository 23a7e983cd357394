"""SAVEDATE (RFC 8514): when a message was saved into its mailbox, as a
client sees it (migrations/0017).

A save date in the past cannot be made over the wire, so some tests set
one with SQL and then check what COPY, MOVE and RENAME do with it."""

import re
import smtplib
from datetime import datetime, timedelta, timezone

import pytest

from imapclient import bad, login, ok

MSG = b"From: a@example.org\r\nSubject: saved %d\r\n\r\nbody %d\r\n"
OLD = "2001-02-03 04:05:06+00"        # set with SQL
SHOWN = " 3-Feb-2001 04:05:06 +0000"  # date-day-fixed (RFC 3501 §9)


def append(c, mailbox, i=0, date=None):
    raw = MSG % (i, i)
    date = f'"{date}" ' if date else ""
    c.send(f"ap APPEND {mailbox} {date}{{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
    tagged, _ = c.read_tagged("ap")
    assert tagged.startswith(b"ap OK"), tagged


def fetch_dates(c, what="1:*"):
    """{msn: (INTERNALDATE, SAVEDATE)} as strings; SAVEDATE None for NIL."""
    out = {}
    for line in ok(c, f"FETCH {what} (INTERNALDATE SAVEDATE)"):
        m = re.match(rb'\* (\d+) FETCH \(INTERNALDATE "([^"]+)" SAVEDATE (?:"([^"]+)"|NIL)\)$', line)
        assert m, line
        out[int(m.group(1))] = (m.group(2).decode(), m.group(3) and m.group(3).decode())
    return out


def parse(date):
    return datetime.strptime(date.strip(), "%d-%b-%Y %H:%M:%S %z")


def is_now(date):
    return abs(parse(date) - datetime.now(timezone.utc)) < timedelta(minutes=5)


def search(c, criteria):
    lines = [line for line in ok(c, f"SEARCH {criteria}") if line.startswith(b"* SEARCH")]
    assert len(lines) == 1, lines
    return [int(n) for n in lines[0].split()[2:]]


def set_saved(env, user, mailbox, uid, value):
    """Sets a row's saved_at: a timestamp literal, or NULL (a row saved
    before migration 0017)."""
    env.pg.psql(
        f"UPDATE mailbox_messages SET saved_at = {value} WHERE uid = {uid} AND mailbox_id ="
        f" (SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.owner_id"
        f"  WHERE a.login = '{user}' AND m.name = '{mailbox}')")


@pytest.fixture
def user(env):
    return env.new_user("sd")


@pytest.fixture
def c(env, user):
    conn = login(env.imap_port, user)
    yield conn
    conn.close()


def test_rfc8514_4_1_capability(c):
    assert b"SAVEDATE" in ok(c, "CAPABILITY")[0].split()


def test_rfc8514_3_append_saves_now_whatever_its_internaldate(c):
    ok(c, "CREATE Box")
    append(c, "Box", 1, date="01-Jan-2000 10:00:00 +0100")
    ok(c, "SELECT Box")
    internal, saved = fetch_dates(c)[1]
    assert parse(internal.strip()) == parse("01-Jan-2000 10:00:00 +0100"), internal
    assert saved is not None and is_now(saved), saved
    # UID FETCH too, and SAVEDATE alone.
    lines = ok(c, "UID FETCH 1 (SAVEDATE)")
    assert re.match(rb'\* 1 FETCH \(UID 1 SAVEDATE "[^"]+"\)$', lines[0]), lines


def test_rfc8514_3_copy_and_move_save_anew_keeping_internaldate(env, user, c):
    ok(c, "CREATE Src")
    ok(c, "CREATE Dst")
    append(c, "Src", 1, date="01-Jan-2000 10:00:00 +0000")
    append(c, "Src", 2, date="01-Jan-2000 10:00:00 +0000")
    set_saved(env, user, "Src", 1, f"'{OLD}'")
    set_saved(env, user, "Src", 2, f"'{OLD}'")
    ok(c, "SELECT Src")
    assert fetch_dates(c)[1] == (" 1-Jan-2000 10:00:00 +0000", SHOWN)
    ok(c, "COPY 1 Dst")
    ok(c, "MOVE 2 Dst")
    ok(c, "SELECT Dst")
    for internal, saved in fetch_dates(c).values():
        assert internal == " 1-Jan-2000 10:00:00 +0000"
        assert is_now(saved), saved
    ok(c, "SELECT Src")
    assert fetch_dates(c)[1] == (" 1-Jan-2000 10:00:00 +0000", SHOWN)   # the source keeps its own


@pytest.mark.parametrize("source", ["Old", "INBOX"])
def test_rfc8514_3_rename_keeps_the_save_date(env, user, c, source):
    """RENAME INBOX moves the messages to a new mailbox; they keep their
    save date as they keep their UIDs and flags (docs/protocol.md)."""
    if source != "INBOX":
        ok(c, f"CREATE {source}")
    append(c, source, 1)
    set_saved(env, user, source, 1, f"'{OLD}'")
    ok(c, f"RENAME {source} New")
    ok(c, "SELECT New")
    assert fetch_dates(c)[1][1] == SHOWN


def test_rfc8514_3_delivery_saves_now(env, user, c):
    with smtplib.LMTP("127.0.0.1", env.lmtp_port) as s:
        assert s.sendmail("s@example.net", [f"{user}@example.org"], MSG % (5, 5)) == {}
    ok(c, "SELECT INBOX")
    assert is_now(fetch_dates(c)[1][1])


def test_rfc8514_4_2_no_save_date_is_nil(env, user, c):
    ok(c, "CREATE Box")
    append(c, "Box", 1)
    append(c, "Box", 2)
    set_saved(env, user, "Box", 1, "NULL")      # saved before migration 0017
    ok(c, "SELECT Box")
    dates = fetch_dates(c)
    assert dates[1][1] is None and dates[2][1] is not None
    # SAVEDATESUPPORTED matches only the messages that have a save date.
    assert search(c, "SAVEDATESUPPORTED") == [2]
    assert search(c, "NOT SAVEDATESUPPORTED") == [1]


def test_rfc8514_4_3_saved_before_on_since(env, user, c):
    ok(c, "CREATE Box")
    for i in (1, 2, 3):
        append(c, "Box", i, date="01-Jan-2000 10:00:00 +0000")
    set_saved(env, user, "Box", 1, f"'{OLD}'")
    set_saved(env, user, "Box", 2, "'04-Feb-2001 23:59:59 +0000'")
    ok(c, "SELECT Box")                           # message 3: saved now
    assert search(c, "SAVEDON 3-Feb-2001") == [1]
    assert search(c, "SAVEDON 4-Feb-2001") == [2]
    assert search(c, "SAVEDBEFORE 4-Feb-2001") == [1]
    assert search(c, "SAVEDSINCE 4-Feb-2001") == [2, 3]
    assert search(c, 'SAVEDSINCE "5-Feb-2001"') == [3]
    # The save date, not INTERNALDATE (which all share).
    assert search(c, "SAVEDON 1-Jan-2000") == []
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%d-%b-%Y")
    assert search(c, f"SAVEDSINCE {yesterday}") == [3]


def test_rfc8514_4_3_without_save_date_internaldate_is_used(env, user, c):
    ok(c, "CREATE Box")
    append(c, "Box", 1, date="01-Jan-2000 10:00:00 +0000")
    set_saved(env, user, "Box", 1, "NULL")
    ok(c, "SELECT Box")
    assert search(c, "SAVEDON 1-Jan-2000") == [1]
    assert search(c, "SAVEDBEFORE 2-Jan-2000") == [1]
    assert search(c, "SAVEDSINCE 2-Jan-2000") == []


@pytest.mark.parametrize("criteria", [
    "SAVEDON", "SAVEDBEFORE 31-Feb-2001x", "SAVEDSINCE 2001-02-03", "SAVEDON (1-Jan-2000)",
    "SAVEDATESUPPORTED 1-Jan-2000x",
])
def test_rfc8514_5_bad_search_dates_are_bad(c, criteria):
    ok(c, "CREATE Box")
    ok(c, "SELECT Box")
    bad(c, f"SEARCH {criteria}")
