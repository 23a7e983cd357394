"""Multi-mailbox search, RFC 7377 (MULTISEARCH): ESEARCH IN (...) over
every mailbox the user may see ("l") and read ("r"), in the authenticated
state as in the selected one, one query for them all, per-user \\Seen in
each, and nothing ever said of a mailbox the user may not see.

RFC 7377 §2: ESEARCH [IN (source-mbox)] [RETURN (...)] search-program;
§2.1: one ESEARCH response per mailbox with matches, always UIDs, with the
TAG, MAILBOX and UIDVALIDITY correlators; §2.2: the filters of RFC 5465
§6 without "selected-delayed", plus "subtree-one"; no scope option is
defined. Kairan's limits and choices: docs/protocol.md, "MULTISEARCH"."""

import re

import pytest

from imapclient import bad, connect, login, ok
from test_shared_folders import append, new_group, new_shared_account, quote

ESEARCH = re.compile(rb'^\* ESEARCH \(TAG "([^"]*)" MAILBOX ("(?:[^"\\]|\\.)*"|[^ ]+) '
                     rb'UIDVALIDITY (\d+)\) UID(.*)$')


def msg(subject, body="Nothing to see.", extra=""):
    return (f"From: Alice <alice@example.org>\r\nTo: team@example.org\r\n"
            f"Subject: {subject}\r\n{extra}\r\n{body}\r\n").encode()


def esearch(c, args, tag="e"):
    """{mailbox: (uidvalidity, result items)} of an ESEARCH that must
    succeed; every untagged response must be one of its ESEARCH responses."""
    out = {}
    for line in ok(c, f"ESEARCH {args}", tag):
        m = ESEARCH.match(line)
        assert m, line
        assert m.group(1) == tag.encode(), line
        name = m.group(2).decode()
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        assert name not in out, ("one response per mailbox", line)
        out[name] = (int(m.group(3)), m.group(4).decode().strip())
    return out


def uidvalidity(c, name):
    for line in ok(c, f"STATUS {quote(name)} (UIDVALIDITY)", "st"):
        return int(re.search(rb"UIDVALIDITY (\d+)", line).group(1))


@pytest.fixture
def team(env):
    """bob and dave in a group that may read and write Shared/<team>
    (per-user \\Seen, the default for a shared account), carol outside it;
    a circular about "price list" in the team folder and in bob's and
    carol's INBOXes."""
    bob, carol, dave = (env.new_user(p) for p in ("bob", "carol", "dave"))
    for u in (bob, carol, dave):
        login(env.imap_port, u).close()
    group = new_group(env, "ms", [bob, dave])
    name = f"sales{env._n}"
    new_shared_account(env, name, {f"group:{group}": "lrswi"})
    b = login(env.imap_port, bob)
    assert append(b, f"Shared/{name}", msg("Circular: new price list")).startswith(b"ap OK")
    assert append(b, f"Shared/{name}", msg("Holidays")).startswith(b"ap OK")
    assert append(b, "INBOX", msg("Re: the price list")).startswith(b"ap OK")
    assert append(b, "INBOX", msg("Lunch")).startswith(b"ap OK")
    b.close()
    c = login(env.imap_port, carol)
    assert append(c, "INBOX", msg("My own price list")).startswith(b"ap OK")
    c.close()
    return {"bob": bob, "carol": carol, "dave": dave, "box": f"Shared/{name}"}


def test_capability_multisearch(env):
    c = connect(env.imap_port)
    caps = ok(c, "CAPABILITY")[0]
    assert b" MULTISEARCH" in caps and b" ESEARCH" in caps, caps
    c.close()


def test_rfc7377_subscribed_finds_the_team_folder_and_inbox(env, team):
    """The issue's check: bob finds the circular in the team folder and his
    reply in INBOX with one command, without selecting anything; carol,
    outside the team, finds only her own."""
    b = login(env.imap_port, team["bob"])
    got = esearch(b, 'IN (subscribed) SUBJECT "price list"')
    assert got == {"INBOX": (uidvalidity(b, "INBOX"), "ALL 1"),
                   team["box"]: (uidvalidity(b, team["box"]), "ALL 1")}, got
    # RFC 7377 §2.1: INBOX first, then as LIST orders them.
    assert list(got) == ["INBOX", team["box"]]
    b.close()
    c = login(env.imap_port, team["carol"])
    got = esearch(c, 'IN (subscribed) SUBJECT "price list"')
    assert got == {"INBOX": (uidvalidity(c, "INBOX"), "ALL 1")}, got
    got = esearch(c, f'IN (subscribed personal subtree Shared mailboxes {quote(team["box"])}) ALL')
    assert team["box"] not in got, got
    c.close()


def test_rfc7377_per_user_seen_in_each_mailbox(env, team):
    """\\Seen of the shared account's folder is each reader's own: bob
    reads the circular, dave has not."""
    b = login(env.imap_port, team["bob"])
    ok(b, f'SELECT {quote(team["box"])}')
    ok(b, "UID STORE 1 +FLAGS (\\Seen)")
    ok(b, "UNSELECT")
    got = esearch(b, "IN (personal subtree Shared) UNSEEN")
    assert got[team["box"]][1] == "ALL 2", got
    assert esearch(b, "IN (subtree Shared) SEEN") == {
        team["box"]: (uidvalidity(b, team["box"]), "ALL 1")}
    b.close()
    d = login(env.imap_port, team["dave"])
    got = esearch(d, "IN (subtree Shared) UNSEEN")
    assert got[team["box"]][1] == "ALL 1:2", got
    assert esearch(d, "IN (subtree Shared) SEEN") == {}
    d.close()


def test_private_keywords_are_private_where_seen_is(env, team):
    """docs/protocol.md "Private keywords": "Old" is each reader's own in
    a per-user mailbox and an ordinary keyword elsewhere, also when one
    ESEARCH covers both kinds."""
    b = login(env.imap_port, team["bob"])
    ok(b, f'SELECT {quote(team["box"])}')
    ok(b, "UID STORE 2 +FLAGS (Old)")
    ok(b, "SELECT INBOX")
    ok(b, "UID STORE 1 +FLAGS (old)")
    ok(b, "UNSELECT")
    got = esearch(b, "IN (personal subtree Shared) KEYWORD OLD")
    assert {k: v[1] for k, v in got.items()} == {"INBOX": "ALL 1", team["box"]: "ALL 2"}, got
    got = esearch(b, "IN (personal subtree Shared) UNKEYWORD Old SUBJECT price")
    assert {k: v[1] for k, v in got.items()} == {team["box"]: "ALL 1"}, got
    b.close()
    d = login(env.imap_port, team["dave"])
    assert esearch(d, "IN (subtree Shared) KEYWORD Old") == {}
    d.close()


def test_rfc7377_authenticated_and_selected_states(env, team):
    b = login(env.imap_port, team["bob"])
    # §2: without IN, "selected": nothing is selected, nothing searched.
    assert esearch(b, "ALL") == {}
    assert esearch(b, "IN (selected) ALL") == {}
    ok(b, "EXAMINE INBOX")
    assert esearch(b, "ALL") == {"INBOX": (uidvalidity(b, "INBOX"), "ALL 1:2")}
    got = esearch(b, f'IN (selected mailboxes {quote(team["box"])}) SUBJECT price')
    assert set(got) == {"INBOX", team["box"]}, got
    b.close()


def test_rfc7377_filters(env, team):
    bob = team["bob"]
    b = login(env.imap_port, bob)
    ok(b, "CREATE Projects")
    ok(b, "CREATE Projects/2026")
    ok(b, "CREATE Projects/2026/Q1")
    for box in ("Projects", "Projects/2026", "Projects/2026/Q1"):
        assert append(b, box, msg("price list " + box)).startswith(b"ap OK")
    pl = 'SUBJECT "price list"'
    assert set(esearch(b, f"IN (personal) {pl}")) == {
        "INBOX", "Projects", "Projects/2026", "Projects/2026/Q1"}
    assert set(esearch(b, f"IN (inboxes) {pl}")) == {"INBOX"}
    assert set(esearch(b, f"IN (subtree Projects) {pl}")) == {
        "Projects", "Projects/2026", "Projects/2026/Q1"}
    assert set(esearch(b, f"IN (subtree-one Projects) {pl}")) == {"Projects", "Projects/2026"}
    assert set(esearch(b, f"IN (mailboxes (Projects/2026 inbox)) {pl}")) == {
        "Projects/2026", "INBOX"}
    assert set(esearch(b, f"IN (mailboxes Projects/2026/Q1 subtree-one Projects/2026) {pl}")) \
        == {"Projects/2026", "Projects/2026/Q1"}
    # "" is the root: its subtree is everything, its children the top level.
    assert set(esearch(b, f'IN (subtree "") {pl}')) == {
        "INBOX", "Projects", "Projects/2026", "Projects/2026/Q1", team["box"]}
    assert set(esearch(b, f'IN (subtree-one "") {pl}')) == {"INBOX", "Projects"}
    assert esearch(b, f'IN (mailboxes "") {pl}') == {}
    # A name is not a prefix: "Proj" names nothing.
    assert esearch(b, f"IN (subtree Proj mailboxes Proj) {pl}") == {}
    # The shared namespace as a subtree, with the personal one.
    assert set(esearch(b, f"IN (personal subtree Shared) {pl}")) == {
        "INBOX", "Projects", "Projects/2026", "Projects/2026/Q1", team["box"]}
    # A mailbox named twice is searched once (one response).
    assert set(esearch(b, f"IN (inboxes personal mailboxes INBOX) {pl}")) >= {"INBOX"}
    b.close()


def test_rfc7377_other_users_needs_l_and_r(env, team):
    alice = env.new_user("alice")
    a = login(env.imap_port, alice)
    bob = team["bob"]
    for box, rights in (("Both", "lr"), ("ListOnly", "l"), ("ReadOnly", "r")):
        ok(a, f"CREATE {box}")
        assert append(a, box, msg("price list " + box)).startswith(b"ap OK")
        ok(a, f"SETACL {box} {bob} {rights}")
    b = login(env.imap_port, bob)
    got = esearch(b, 'IN (subtree "Other Users") SUBJECT "price list"')
    assert set(got) == {f"Other Users/{alice}/Both"}, got
    got = esearch(b, "IN (mailboxes (" + " ".join(
        quote(f"Other Users/{alice}/{x}") for x in ("Both", "ListOnly", "ReadOnly", "None")) +
        ")) ALL")
    assert set(got) == {f"Other Users/{alice}/Both"}, got
    # Rights are read at each command: a revoked "r" takes effect at once.
    ok(a, f"SETACL Both {bob} l")
    assert esearch(b, 'IN (subtree "Other Users") ALL') == {}
    a.close()
    b.close()


def test_rfc4731_return_options_per_mailbox(env, team):
    b = login(env.imap_port, team["bob"])
    ok(b, "CREATE Many")
    for i in range(5):
        assert append(b, "Many", msg(f"item {i}")).startswith(b"ap OK")
    v = uidvalidity(b, "Many")
    assert esearch(b, "IN (mailboxes Many) RETURN (MIN MAX COUNT) ALL") == {
        "Many": (v, "MIN 1 MAX 5 COUNT 5")}
    assert esearch(b, "IN (mailboxes Many) RETURN () UID 2:4") == {"Many": (v, "ALL 2:4")}
    assert esearch(b, "IN (mailboxes Many) RETURN (COUNT) SUBJECT item") == {
        "Many": (v, "COUNT 5")}
    assert esearch(b, "IN (mailboxes Many) RETURN (ALL) UID 3,5:*") == {"Many": (v, "ALL 3,5")}
    # No match in a mailbox: no response for it (RFC 7377 §2.1).
    assert esearch(b, "IN (mailboxes (Many INBOX)) SUBJECT item") == {"Many": (v, "ALL 1:5")}
    assert esearch(b, "IN (personal) SUBJECT nothing-like-this") == {}
    b.close()


def test_rfc7377_unknown_and_invisible_names_look_the_same(env, team):
    """A name of a mailbox carol may not see and a name of none: the same
    OK with nothing, never a NO that would tell them apart."""
    c = login(env.imap_port, team["carol"])
    answers = set()
    for name in (team["box"], "Shared/nosuchteam", "Other Users/nobody/x", "Nope",
                 "&Jjo-bad", "Shared"):
        for f in ("mailboxes", "subtree", "subtree-one"):
            tagged, untagged = c.cmd("e", f"ESEARCH IN ({f} {quote(name)}) ALL")
            assert untagged == [], (name, untagged)
            answers.add(tagged)
    assert answers == {b"e OK ESEARCH completed"}, answers
    c.close()


@pytest.mark.parametrize("args, why", [
    ("IN () ALL", b"list of mailbox filters"),
    ("IN personal ALL", b"list of mailbox filters"),
    ("IN (bogus) ALL", b"Unknown mailbox filter"),
    ("IN (selected-delayed) ALL", b"selected-delayed"),
    ("IN (mailboxes) ALL", b"needs a mailbox name"),
    ("IN (mailboxes ()) ALL", b"Empty list"),
    ("IN (mailboxes ((INBOX))) ALL", b"needs a mailbox name"),
    ("IN (personal (depth 1)) ALL", b"Unknown scope option"),
    ("IN ((depth 1)) ALL", b"mailbox filter first"),
    ("IN (personal)", b"Missing search criteria"),
    ("IN (personal) RETURN (SAVE) ALL", b"SAVE is not allowed"),
    ("RETURN (SAVE) ALL", b"SAVE is not allowed"),
    ("IN (personal) RETURN (SAVE) 1:3", b"need the selected mailbox"),
    ("IN (personal) RETURN (SAVE MIN) NOT UID $", b"need the selected mailbox"),
    ("IN (personal) RETURN (BOGUS) ALL", b"Unknown RETURN option"),
    ("IN (personal) 1:3", b"need the selected mailbox"),
    ("IN (personal) NOT 1", b"need the selected mailbox"),
    ("IN (personal) UID $", b"need the selected mailbox"),
    ("IN (personal) RECENT", b"need the selected mailbox"),
    ("IN (personal) OR NEW SEEN", b"need the selected mailbox"),
    ("IN (personal) MODSEQ 1", b"need the selected mailbox"),
    ("RETURN (ALL) IN (personal) ALL", b"Unknown search key"),
    ("IN (personal) FROZBOZ", b"Unknown search key"),
])
def test_rfc7377_bad_arguments(env, args, why):
    c = login(env.imap_port, env.new_user("hostile"))
    tagged = bad(c, f"ESEARCH {args}")
    assert why in tagged, (args, tagged)
    c.close()


def test_rfc7377_charset_and_state(env):
    c = connect(env.imap_port)
    tagged, _ = c.cmd("e", "ESEARCH IN (personal) ALL")
    assert tagged.startswith(b"e BAD"), tagged
    c.close()
    c = login(env.imap_port, env.new_user("cs"))
    tagged, _ = c.cmd("e", "ESEARCH IN (personal) CHARSET KOI8-R ALL")
    assert tagged.startswith(b"e NO [BADCHARSET (UTF-8 US-ASCII)]"), tagged
    # With SAVE too, in the authenticated state (no saved result to empty).
    tagged, _ = c.cmd("e", "ESEARCH IN (personal) RETURN (SAVE) CHARSET KOI8-R ALL")
    assert tagged.startswith(b"e NO [BADCHARSET (UTF-8 US-ASCII)]"), tagged
    # A SEARCH's saved result survives a refused ESEARCH with SAVE.
    ok(c, "SELECT INBOX")
    c.send(b"ap APPEND INBOX {9+}\r\nSubject: \r\n\r\n")
    assert c.read_tagged("ap")[0].startswith(b"ap OK")
    ok(c, "UID SEARCH RETURN (SAVE) ALL")
    for text in ("ESEARCH RETURN (SAVE) CHARSET KOI8-R ALL", "ESEARCH RETURN (SAVE) 1"):
        tagged, _ = c.cmd("e", text)
        assert tagged.startswith(b"e NO") or tagged.startswith(b"e BAD"), tagged
    assert ok(c, "UID SEARCH UID $", "u") == [b"* SEARCH 1"]
    c.close()


def test_too_many_names_in_in(env):
    c = login(env.imap_port, env.new_user("many"))
    names = " ".join(f"m{i}" for i in range(1001))
    tagged = bad(c, f"ESEARCH IN (mailboxes ({names})) ALL")
    assert b"Too many mailbox names" in tagged, tagged
    names = " ".join(f"m{i}" for i in range(1000))
    assert esearch(c, f"IN (mailboxes ({names})) ALL") == {}
    c.close()


def test_search_max_mailboxes(env):
    """docs/config.md search_max_mailboxes: over it, NO [LIMIT], counted
    after the filters and the rights, so a narrower IN works."""
    k = env.start_kairand(search_max_mailboxes="2")
    try:
        c = login(k.imap_port, env.new_user("lim"))
        for box in ("A", "B"):
            ok(c, f"CREATE {box}")
            assert append(c, box, msg("x")).startswith(b"ap OK")
        tagged, untagged = c.cmd("e", "ESEARCH IN (personal) ALL")
        assert tagged.startswith(b"e NO [LIMIT]"), tagged
        assert untagged == [], untagged
        assert set(esearch(c, "IN (mailboxes (A B Nope)) ALL")) == {"A", "B"}
        c.close()
    finally:
        k.stop()


def test_names_are_written_safely(env):
    """A name with spaces, quotes and non-ASCII comes back as the client
    spells it (modified UTF-7 here), quoted where it must be."""
    c = login(env.imap_port, env.new_user("names"))
    name = 'R&AOk- union "x"'
    ok(c, f"CREATE {quote(name)}")
    assert append(c, name, msg("hello")).startswith(b"ap OK")
    got = esearch(c, "IN (personal) SUBJECT hello")
    assert got == {name: (uidvalidity(c, name), "ALL 1")}, got
    c.close()
