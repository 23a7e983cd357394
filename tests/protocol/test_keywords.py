"""Keywords: one registry per mailbox (migrations/0009), and every keyword
announced to a session before it uses it.

RFC 3501 §7.2.6: the FLAGS response tells the client which flags the
mailbox has, and §7.1 PERMANENTFLAGS which it may set, "\\*" meaning it may
create keywords. A client must therefore be told of a keyword (in FLAGS,
and PERMANENTFLAGS where that changes) before a FETCH response carries it
(docs/protocol.md, "Keywords"). Most tests run two sessions on one mailbox:
B creates a keyword after A's last change poll, and A's next FETCH, NOOP or
STORE must announce it before, in stream order, any FETCH that shows it.

The cap (max_keywords_per_mailbox) runs on a kairand of its own with a
small limit; RFC 5530 §3: LIMIT is for "an implementation limit of some
kind, such as ... the number of flags used in a mailbox"."""

import re
import threading

import pytest

from imapclient import login, ok

MSG = (b"From: Alice <alice@example.org>\r\n"
       b"To: Bob <bob@example.org>\r\n"
       b"Subject: keywords %d\r\n"
       b"Message-ID: <kw%d@example.org>\r\n"
       b"\r\n"
       b"Body %d.\r\n")

MAX_LINE = 65536                # max_line_length in the test config
CAP = 4                         # max_keywords_per_mailbox of the capped kairand


def msg(i):
    return MSG % (i, i, i)


def append(c, mailbox, raw, flags=""):
    """APPENDs with a non-synchronising literal; (tagged, untagged)."""
    extra = f" ({flags})" if flags else ""
    c.send(f"ap APPEND {mailbox}{extra} {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
    return c.read_tagged("ap")


def sql(env, text):
    return env.pg.psql(text).strip()


def mailbox_id(env, user, name):
    return int(sql(env, "SELECT mb.id FROM mailboxes mb JOIN accounts a ON a.id = mb.owner_id"
                        f" WHERE a.login = '{user}' AND mb.name = '{name}'"))


def registry(env, mbox):
    out = sql(env, f"SELECT keyword FROM mailbox_keywords WHERE mailbox_id = {mbox}"
                   " ORDER BY modseq, keyword")
    return out.split("\n") if out else []


def flag_list(line, prefix):
    """The flags of "<prefix>(...)" in a response line, as a list."""
    i = line.index(prefix) + len(prefix)
    return line[i:line.index(b")", i)].split()


def flags_lines(untagged):
    return [u for u in untagged if u.startswith(b"* FLAGS (")]


def permanent_lines(untagged):
    return [u for u in untagged if u.startswith(b"* OK [PERMANENTFLAGS (")]


def fetch_flags(line):
    """The FLAGS of a "* n FETCH" response, or None."""
    if not re.match(rb"\* \d+ FETCH ", line) or b"FLAGS (" not in line:
        return None
    return flag_list(line, b"FLAGS (")


def assert_announced_before_use(untagged, told=(), readonly=False):
    """RFC 3501 §7.2.6: every keyword a FETCH response carries was in a
    FLAGS response earlier in the stream: in this command's responses, or
    in `told`, what the session was told before. PERMANENTFLAGS follows each
    FLAGS (§7.1), "()" for a read-only session. Returns what the session
    has been told after these responses."""
    told = set(told)
    for i, u in enumerate(untagged):
        if u.startswith(b"* FLAGS ("):
            told = set(flag_list(u, b"* FLAGS ("))
            perm = untagged[i + 1]
            assert perm.startswith(b"* OK [PERMANENTFLAGS ("), untagged
            if readonly:
                assert perm.startswith(b"* OK [PERMANENTFLAGS ()]"), perm
            else:
                assert set(flag_list(perm, b"PERMANENTFLAGS (")) - {b"\\*"} == told, perm
        flags = fetch_flags(u)
        if flags is not None:
            keywords = {f for f in flags if not f.startswith(b"\\")}
            assert keywords <= told, (u[:200], "announced:", told)
    return told


def select_flags(c, mailbox, tag="s", command="SELECT"):
    untagged = ok(c, f"{command} {mailbox}", tag)
    return flag_list(flags_lines(untagged)[0], b"* FLAGS ("), untagged


@pytest.fixture
def pair(env):
    """A user with one message in INBOX and two sessions, A and B, both
    with INBOX selected (A first, so A's last poll predates B's changes)."""
    user = env.new_user("kw")
    a = login(env.imap_port, user)
    b = login(env.imap_port, user)
    tagged, _ = append(a, "INBOX", msg(1))
    assert tagged.startswith(b"ap OK"), tagged
    ok(a, "SELECT INBOX")
    ok(b, "SELECT INBOX")
    yield user, a, b
    a.close()
    b.close()


def test_rfc3501_7_2_6_fetch_flags_announces_a_keyword_another_session_created(env, pair):
    """The race this registry closes: B stores $Label4 after A's last poll;
    A's FETCH reads the row as it is now, so its FETCH response carries
    $Label4, and A must get FLAGS (and PERMANENTFLAGS) with $Label4 on lines
    of their own before it."""
    _, a, b = pair
    ok(b, "STORE 1 +FLAGS ($Label4)")
    untagged = ok(a, "FETCH 1 (FLAGS)")
    assert_announced_before_use(untagged)
    uses = [i for i, u in enumerate(untagged) if b"$Label4" in (fetch_flags(u) or [])]
    assert uses and flags_lines(untagged), untagged
    first_flags = untagged.index(flags_lines(untagged)[0])
    assert first_flags < uses[0], untagged
    assert b"$Label4" in flag_list(untagged[first_flags], b"* FLAGS (")
    # Told once: the end-of-command poll finds nothing new to announce.
    assert len(flags_lines(untagged)) == 1, untagged


def test_rfc3501_7_2_6_uid_fetch_with_body_and_implicit_seen(env, pair):
    """Also when FLAGS is not asked for but shown because BODY[] set
    \\Seen (RFC 3501 §6.4.5), and with UID FETCH."""
    _, a, b = pair
    ok(b, "STORE 1 +FLAGS ($Body)")
    untagged = ok(a, "UID FETCH 1 (BODY[TEXT])")
    assert_announced_before_use(untagged)
    assert any(b"$Body" in (fetch_flags(u) or []) for u in untagged), untagged


def test_rfc3501_7_4_1_noop_sync_announces_before_fetch(env, pair):
    """The change poll (NOOP) reports B's change as FETCH FLAGS: FLAGS with
    the new keyword comes first."""
    _, a, b = pair
    ok(b, "STORE 1 +FLAGS ($Label5)")
    untagged = ok(a, "NOOP")
    assert_announced_before_use(untagged)
    assert [fetch_flags(u) for u in untagged if fetch_flags(u)] == [[b"\\Recent", b"$Label5"]], untagged
    assert b"$Label5" in flag_list(flags_lines(untagged)[0], b"* FLAGS (")


def test_rfc3501_6_4_6_store_of_another_flag_announces_first(env, pair):
    """A stores \\Flagged on a message B gave a new keyword: STORE's FETCH
    response shows that keyword too, so it is announced before it (and
    before the unsolicited FETCH that reports B's change first)."""
    _, a, b = pair
    ok(b, "STORE 1 +FLAGS ($Label6)")
    untagged = ok(a, "STORE 1 +FLAGS (\\Flagged)")
    assert_announced_before_use(untagged)
    shown = [fetch_flags(u) for u in untagged if fetch_flags(u)]
    assert shown and set(shown[-1]) >= {b"\\Flagged", b"$Label6"}, untagged


def test_store_silent_announces_own_new_keyword_after_the_store(env, pair):
    """.SILENT writes no FETCH; the new keyword is still announced, in the
    STORE's own response, and only once."""
    _, a, _b = pair
    untagged = ok(a, "STORE 1 +FLAGS.SILENT ($Quiet)")
    assert len(flags_lines(untagged)) == 1 and b"$Quiet" in flags_lines(untagged)[0], untagged
    assert ok(a, "NOOP") == []


def test_examine_session_gets_flags_and_empty_permanentflags(env, pair):
    """A read-only session is told of new keywords too; its PERMANENTFLAGS
    stays "()" (RFC 3501 §7.1)."""
    user, a, b = pair
    ok(a, "EXAMINE INBOX")
    ok(b, "STORE 1 +FLAGS ($ReadOnly)")
    untagged = ok(a, "FETCH 1 (FLAGS)")
    assert_announced_before_use(untagged, readonly=True)
    assert b"$ReadOnly" in flags_lines(untagged)[0], untagged


def test_keyword_of_300_bytes_is_registered_and_announced(env, pair):
    """Keywords of 256 bytes and more used to be left out of FLAGS; a
    keyword has no length limit but the command line's."""
    user, a, b = pair
    kw = "$" + "k" * 299
    untagged = ok(b, f"STORE 1 +FLAGS ({kw})")
    assert_announced_before_use(untagged)
    untagged = ok(a, "FETCH 1 (FLAGS)")
    assert_announced_before_use(untagged)
    assert kw.encode() in flag_list(flags_lines(untagged)[0], b"* FLAGS (")
    flags, _ = select_flags(a, "INBOX", "s2")
    assert kw.encode() in flags
    assert registry(env, mailbox_id(env, user, "INBOX")) == [kw]


def test_select_reads_the_registry_and_keeps_expunged_keywords(env):
    """SELECT lists the mailbox's registry, not the keywords of its
    messages: a registered keyword no message carries is listed, and a
    keyword stays listed after the last message carrying it is expunged
    (as in Dovecot; RFC 3501 §7.2.6 lets FLAGS name flags no message has)."""
    user = env.new_user("kwsel")
    with login(env.imap_port, user) as c:
        append(c, "INBOX", msg(1), "$Old")
        append(c, "INBOX", msg(2), "$Keep")
        mbox = mailbox_id(env, user, "INBOX")
        assert registry(env, mbox) == ["$Old", "$Keep"]
        ok(c, "SELECT INBOX")
        ok(c, "STORE 1 +FLAGS (\\Deleted)")
        ok(c, "EXPUNGE")
        sql(env, "INSERT INTO mailbox_keywords (mailbox_id, digest, keyword, modseq)"
                 f" SELECT {mbox}, sha256(convert_to('$OnlyInRegistry', 'UTF8')),"
                 f" '$OnlyInRegistry', highestmodseq FROM mailboxes WHERE id = {mbox}")
        flags, untagged = select_flags(c, "INBOX", "s2")
        assert flags[5:] == [b"$Old", b"$Keep", b"$OnlyInRegistry"], flags
        assert sql(env, f"SELECT count(*) FROM mailbox_messages WHERE mailbox_id = {mbox}"
                        " AND '$Old' = ANY (keywords)") == "0"
        perm = flag_list(permanent_lines(untagged)[0], b"PERMANENTFLAGS (")
        assert perm[-1] == b"\\*", perm


def test_append_copy_move_register_in_the_target(env):
    """APPEND, COPY and MOVE register the keywords new to the target; a
    session that has the target selected learns them from its next poll,
    FLAGS before FETCH."""
    user = env.new_user("kwcp")
    with login(env.imap_port, user) as c, login(env.imap_port, user) as t:
        ok(c, "CREATE Target")
        ok(t, "SELECT Target")
        append(c, "INBOX", msg(1), "$FromAppend")
        append(c, "INBOX", msg(2), "$Moved")
        assert registry(env, mailbox_id(env, user, "INBOX")) == ["$FromAppend", "$Moved"]
        ok(c, "SELECT INBOX")
        untagged = ok(c, "COPY 1 Target")
        assert not [u for u in untagged if u.startswith(b"* NO")], untagged
        ok(c, "MOVE 2 Target")
        assert sorted(registry(env, mailbox_id(env, user, "Target"))) == ["$FromAppend", "$Moved"]
        untagged = ok(t, "NOOP")
        told = assert_announced_before_use(untagged)
        assert told >= {b"$FromAppend", b"$Moved"}, untagged
        untagged = ok(t, "FETCH 1:* (FLAGS)")
        assert_announced_before_use(untagged, told)
        assert not flags_lines(untagged), untagged


def test_same_new_keyword_from_two_sessions_at_once(env, pair):
    """Two sessions creating the same keyword at the same moment both
    succeed (the second's registration is skipped, not an error) and the
    registry holds it once."""
    user, a, b = pair
    tagged, _ = append(a, "INBOX", msg(2))
    assert tagged.startswith(b"ap OK"), tagged
    ok(b, "NOOP")
    results, told = {}, {"a": set(), "b": set()}

    def store(c, name, seq, kw):
        results[name] = c.cmd(name, f"STORE {seq} +FLAGS ({kw})")

    for n in range(15):
        kw = f"$Both{n}"
        threads = [threading.Thread(target=store, args=(a, "a", 1, kw)),
                   threading.Thread(target=store, args=(b, "b", 2, kw))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for name in ("a", "b"):
            tagged, untagged = results[name]
            assert tagged.startswith(name.encode() + b" OK"), (kw, tagged)
            told[name] = assert_announced_before_use(untagged, told[name])
    reg = registry(env, mailbox_id(env, user, "INBOX"))
    assert sorted(reg) == sorted(f"$Both{n}" for n in range(15)), reg


def store_line(kw):
    return f"k STORE 1 +FLAGS ({kw})\r\n".encode()


def test_hostile_keyword_at_the_line_limit(env, pair):
    """A keyword as long as the line limit allows (max_line_length counts
    the line with its CRLF) is stored, registered and announced, to this
    session and to another; one byte more is BAD [TOOBIG] and the session
    goes on."""
    user, a, b = pair
    overhead = len(store_line(""))
    kw = "$" + "x" * (MAX_LINE - overhead - 1)
    assert len(store_line(kw)) == MAX_LINE
    a.send(store_line(kw))
    tagged, untagged = a.read_tagged("k")
    assert tagged.startswith(b"k OK"), tagged[:200]
    assert_announced_before_use(untagged)
    untagged = ok(b, "FETCH 1 (FLAGS)")
    assert_announced_before_use(untagged)
    assert kw.encode() in flags_lines(untagged)[0]
    assert registry(env, mailbox_id(env, user, "INBOX")) == [kw]

    a.send(store_line(kw + "y"))
    tagged, _ = a.read_tagged("k")
    assert tagged.startswith(b"k BAD [TOOBIG]"), tagged[:200]
    ok(a, "NOOP", "n")
    assert registry(env, mailbox_id(env, user, "INBOX")) == [kw]


@pytest.fixture(scope="module")
def capped(env):
    """A kairand whose mailboxes take CAP keywords."""
    k = env.start_kairand(max_keywords_per_mailbox=str(CAP))
    yield k
    k.stop()


def test_rfc3501_7_1_cap_drops_backslash_star_and_refuses_new_keywords(env, capped):
    """With the registry full, PERMANENTFLAGS has no "\\*" (RFC 3501 §7.1:
    no new keywords), a STORE that would add one is refused whole with NO
    [LIMIT] (RFC 5530 §3) and changes nothing, and the keywords the mailbox
    has go on working."""
    user = env.new_user("kwcap")
    with login(capped.imap_port, user) as c, login(capped.imap_port, user) as other:
        append(c, "INBOX", msg(1))
        flags, untagged = select_flags(c, "INBOX")
        assert flag_list(permanent_lines(untagged)[0], b"PERMANENTFLAGS (")[-1] == b"\\*"
        ok(other, "SELECT INBOX")

        untagged = ok(c, "STORE 1 +FLAGS (k1 k2 k3)")
        perm = flag_list(permanent_lines(untagged)[-1], b"PERMANENTFLAGS (")
        assert perm[-1] == b"\\*", perm
        # The fourth fills the registry: PERMANENTFLAGS loses \*.
        untagged = ok(c, "STORE 1 +FLAGS (k4)")
        assert_announced_before_use(untagged)
        perm = flag_list(permanent_lines(untagged)[-1], b"PERMANENTFLAGS (")
        assert b"\\*" not in perm and b"k4" in perm, perm
        # The other session learns it the same way.
        untagged = ok(other, "NOOP")
        perm = flag_list(permanent_lines(untagged)[-1], b"PERMANENTFLAGS (")
        assert b"\\*" not in perm and b"k4" in perm, perm

        # One more new keyword: refused, nothing stored, \Seen included.
        for text in ("STORE 1 +FLAGS (k5)", "STORE 1 +FLAGS (\\Seen k5)", "STORE 1 FLAGS (k1 k5)"):
            tagged, untagged = c.cmd("x", text)
            assert tagged.startswith(b"x NO [LIMIT]"), (text, tagged)
            assert not [u for u in untagged if b"k5" in u], untagged
        untagged = ok(c, "FETCH 1 (FLAGS)")
        assert sorted(fetch_flags(untagged[0])) == [b"\\Recent", b"k1", b"k2", b"k3", b"k4"], untagged

        # Existing keywords keep working: off and on again.
        ok(c, "STORE 1 -FLAGS (k1 k2 k3 k4)")
        untagged = ok(c, "STORE 1 +FLAGS (k2 \\Flagged)")
        assert fetch_flags(untagged[-1]) == [b"\\Flagged", b"\\Recent", b"k2"], untagged
        # Removing is never refused, and a full registry stays full: the
        # keywords stay registered when no message carries them.
        ok(c, "STORE 1 -FLAGS (k2 k5)")
        flags, untagged = select_flags(c, "INBOX", "s2")
        assert flags[5:] == [b"k1", b"k2", b"k3", b"k4"], flags
        perm = flag_list(permanent_lines(untagged)[0], b"PERMANENTFLAGS (")
        assert b"\\*" not in perm, perm
        assert sql(env, "SELECT count(*) FROM mailbox_keywords WHERE mailbox_id ="
                        f" {mailbox_id(env, user, 'INBOX')}") == str(CAP)


def test_cap_append_copy_store_the_mail_without_the_new_keywords(env, capped):
    """APPEND, COPY and MOVE into a full mailbox store the messages, keep
    the keywords the mailbox knows, leave the new ones out and warn with an
    untagged NO [LIMIT] (RFC 3501 §7.1.2: a warning; the command succeeds)."""
    user = env.new_user("kwcapa")
    with login(capped.imap_port, user) as c:
        ok(c, "CREATE Full")
        tagged, untagged = append(c, "Full", msg(1), "k1 k2 k3 k4")
        assert tagged.startswith(b"ap OK") and not untagged, (tagged, untagged)
        tagged, untagged = append(c, "Full", msg(2), "\\Flagged k1 k9")
        assert tagged.startswith(b"ap OK [APPENDUID"), tagged
        assert [u for u in untagged if u.startswith(b"* NO [LIMIT]")], untagged
        append(c, "INBOX", msg(3), "k2 new1")
        append(c, "INBOX", msg(4), "new2")
        ok(c, "SELECT INBOX")
        tagged, untagged = c.cmd("c", "COPY 1 Full")
        assert tagged.startswith(b"c OK [COPYUID"), tagged
        assert [u for u in untagged if u.startswith(b"* NO [LIMIT]")], untagged
        tagged, untagged = c.cmd("m", "MOVE 2 Full")
        assert tagged.startswith(b"m OK"), tagged
        assert [u for u in untagged if u.startswith(b"* NO [LIMIT]")], untagged
        assert sorted(registry(env, mailbox_id(env, user, "Full"))) == ["k1", "k2", "k3", "k4"]
        ok(c, "EXAMINE Full")
        untagged = ok(c, "FETCH 2:4 (FLAGS)")
        # (no SELECT claimed them: \Recent for the examining session too)
        assert [fetch_flags(u) for u in untagged] == [[b"\\Flagged", b"\\Recent", b"k1"],
                                                      [b"\\Recent", b"k2"], [b"\\Recent"]], untagged
