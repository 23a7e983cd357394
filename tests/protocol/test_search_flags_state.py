"""SEARCH of flags alone (server/imap/search_state.c): a program made only
of system flags, message sets, ALL, AND, OR and NOT is answered from the
process's shared state of the selected mailbox (docs/architecture.md,
"Design decisions", 1), with RFC 3501 §6.4.4's answers: it must see what
another session stored before the SEARCH, as the SQL path does. Per-user
\\Seen through the same path: test_seen_per_user.py,
test_search_seen_unseen_new_old."""

from test_search import append, crlf, login, ok, search


def message(n):
    return crlf(f"""\
From: Alice <alice@example.org>
To: bob@example.org
Subject: flags {n}
Date: 0{n} Mar 2026 10:00:00 +0100
Message-ID: <flags{n}@example.org>

body {n}""")


def test_rfc3501_6_4_4_flag_search_sees_other_sessions(env):
    user = env.new_user("sflag")
    with login(env.imap_port, user) as a, login(env.imap_port, user) as b:
        ok(a, "CREATE F")
        for n in range(1, 6):
            append(a, "F", message(n), flags="\\Seen" if n % 2 else "")
        ok(a, "SELECT F")
        ok(b, "SELECT F")
        assert search(a, "SEARCH UNSEEN") == [2, 4]
        assert search(a, "SEARCH FLAGGED") == []
        ok(b, "STORE 2 +FLAGS (\\Seen \\Flagged)")
        ok(b, "STORE 5 +FLAGS (\\Deleted)")
        assert search(a, "SEARCH UNSEEN") == [4]
        assert search(a, "SEARCH FLAGGED") == [2]
        assert search(a, "SEARCH OR FLAGGED DELETED") == [2, 5]
        assert search(a, "SEARCH NOT SEEN NOT DELETED") == [4]
        assert search(a, "SEARCH 2:4 SEEN") == [2, 3]
        assert search(a, "UID SEARCH UID 1:3 UNFLAGGED") == [1, 3]
        assert search(a, "SEARCH ALL") == [1, 2, 3, 4, 5]
        # A key the state does not hold (a keyword) still goes to the store.
        ok(b, "STORE 3 +FLAGS ($Label1)")
        assert search(a, "SEARCH KEYWORD $Label1 SEEN") == [3]
