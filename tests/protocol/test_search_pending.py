"""SEARCH while the search text waits for the indexer, and the indexer
itself (migrations/0008, server/indexer.c, docs/config.md "SEARCH").

APPEND stores a message with search_ready = false, outside the trigram
indexes; kairand's indexer thread marks it indexed later, when no APPEND,
COPY or MOVE has run for search_index_quiet_ms, or once the oldest waiting
message has waited search_index_max_lag_s. SEARCH must give the same
answer in either state.

These tests run kairands of their own on a database of their own: the
shared kairand's indexer would otherwise index their messages within
200 ms. A kairand "frozen" with an hour's quiet period and a day's maximum
lag never indexes what it stored.
"""

import time

import pytest

from test_search import CORPUS, KEY_CASES, append, login, ok, search

DB = "ksearchpending"
FROZEN = {"search_index_quiet_ms": "3600000", "search_index_max_lag_s": "86400"}
# A session that uses an index wherever the planner can (as in
# test_search_random.py): with seven messages it would otherwise read the
# table, and the BitmapOr of the partial trigram index and the backlog would
# go untested.
NO_SCANS = ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan", "enable_nestloop",
            "enable_mergejoin", "jit")


@pytest.fixture(scope="module")
def dsn(env):
    env.pg.psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")
    env.pg.psql(f"CREATE DATABASE {DB} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' "
                f"LC_CTYPE 'C.UTF-8'", db="postgres")
    yield env.pg.dsn.replace("dbname=kairan", f"dbname={DB}")
    env.pg.psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")


@pytest.fixture
def kairands(env, dsn):
    """Starts kairands on the private database (the first one migrates it);
    stops them all after the test."""
    started = []

    def start(db_dsn=None, **kw):
        k = env.start_kairand(db_dsn=db_dsn or dsn, migrate=not started, **kw)
        started.append(k)
        return k
    yield start
    for k in started:
        k.stop()


def sql(env, text):
    return env.pg.psql(text, db=DB).strip()


def backlog(env, user):
    """(waiting, all) messages of user's mailboxes."""
    out = sql(env, "SELECT count(*) FILTER (WHERE NOT m.search_ready), count(*) FROM messages m "
                   "JOIN mailbox_messages mm ON mm.message_id = m.id "
                   "JOIN mailboxes b ON b.id = mm.mailbox_id "
                   f"JOIN accounts a ON a.id = b.owner_id WHERE a.login = '{user}'")
    waiting, total = out.split("|")
    return int(waiting), int(total)


def wait_indexed(env, user, timeout):
    """Seconds until none of user's messages waits; fails after timeout."""
    t0 = time.monotonic()
    while backlog(env, user)[0] > 0:
        assert time.monotonic() - t0 < timeout, f"still waiting after {timeout} s: {backlog(env, user)}"
        time.sleep(0.05)
    return time.monotonic() - t0


def index_scans(env, name):
    return int(sql(env, "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes "
                        f"WHERE indexrelname = '{name}'"))


def stats_settled(env, name, before, timeout=15):
    """A backend reports its index scans when it exits, or when idle at
    most every 10 s: call after stopping the kairand. Waits until the
    counter of index `name` has moved past `before`, or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if index_scans(env, name) > before:
            return True
        time.sleep(0.1)
    return False


def all_key_results(port, user):
    """The answer to every KEY_CASES key of test_search.py, on a session
    that EXAMINEs the corpus."""
    with login(port, user) as c:
        ok(c, "EXAMINE S")
        return {key: search(c, b"SEARCH CHARSET UTF-8 " + key.encode()) for key, _ in KEY_CASES}


def append_corpus(port, user):
    with login(port, user) as c:
        ok(c, "CREATE S")
        for raw, flags, date in CORPUS:
            append(c, "S", raw, flags, date)


def test_search_is_exact_before_and_after_indexing(env, kairands, dsn):
    """Every key of test_search.py's corpus, while all seven messages wait
    (on a plain kairand and on one that must use indexes: there the
    backlog index finds them), then after the indexer has run: the same
    answers, which are test_search.py's."""
    forced_dsn = dsn + " options='" + " ".join(f"-c {o}=off" for o in NO_SCANS) + "'"
    k = kairands(**FROZEN)
    forced = kairands(db_dsn=forced_dsn, **FROZEN)
    user = env.new_user("pend")
    append_corpus(k.imap_port, user)
    assert backlog(env, user) == (7, 7)

    expected = {key: want for key, want in KEY_CASES}
    backlog_scans = index_scans(env, "messages_search_backlog")
    for port in (k.imap_port, forced.imap_port):
        assert all_key_results(port, user) == expected
    assert backlog(env, user) == (7, 7), "searching must not index"
    for x in (k, forced):
        x.stop()
    assert stats_settled(env, "messages_search_backlog", backlog_scans), \
        "the index-only kairand never used messages_search_backlog"

    # A kairand with the default policy indexes them within moments.
    indexer = kairands()
    wait_indexed(env, user, timeout=30)
    assert sql(env, "SELECT bool_and(search_ready) FROM messages") == "t"
    trgm_scans = index_scans(env, "messages_body_text_trgm")
    forced = kairands(db_dsn=forced_dsn, **FROZEN)
    for port in (indexer.imap_port, forced.imap_port):
        assert all_key_results(port, user) == expected
    forced.stop()
    assert stats_settled(env, "messages_body_text_trgm", trgm_scans), \
        "the index-only kairand never used messages_body_text_trgm"


def test_waiting_and_indexed_messages_together(env, kairands):
    """Messages of one mailbox in both states at once: a string key finds
    each of them whichever state it is in."""
    k = kairands(**FROZEN)
    user = env.new_user("pend")
    with login(k.imap_port, user) as c:
        ok(c, "CREATE M")
        for i in range(4):
            append(c, "M", f"Subject: part {i} kumquat\r\n\r\nbody {i} zither\r\n".encode())
    # The first two become indexed, as the indexer would mark them.
    sql(env, "UPDATE messages SET search_ready = true WHERE id IN (SELECT m.id FROM messages m "
             "JOIN mailbox_messages mm ON mm.message_id = m.id JOIN mailboxes b ON "
             f"b.id = mm.mailbox_id JOIN accounts a ON a.id = b.owner_id WHERE a.login = '{user}' "
             "AND mm.uid <= 2)")
    assert backlog(env, user) == (2, 4)
    with login(k.imap_port, user) as c:
        ok(c, "EXAMINE M")
        assert search(c, "SEARCH BODY zither") == [1, 2, 3, 4]
        assert search(c, "SEARCH SUBJECT kumquat") == [1, 2, 3, 4]
        assert search(c, "SEARCH TEXT KUMQUAT") == [1, 2, 3, 4]
        assert search(c, 'SEARCH BODY "body 3"') == [4]
        assert search(c, 'SEARCH BODY "body 1"') == [2]
        assert search(c, 'SEARCH NOT TEXT "part 2"') == [1, 2, 4]
        assert search(c, 'SEARCH OR BODY "body 0" SUBJECT "part 3"') == [1, 4]
        assert search(c, 'SEARCH HEADER Subject "PART 2"') == [3]


def test_the_shared_kairand_indexes_by_itself(env):
    """The default policy (200 ms quiet period) on the shared kairand:
    fifty APPENDs are in the trigram indexes within seconds of the last."""
    user = env.new_user("pend")
    with login(env.imap_port, user) as c:
        for i in range(50):
            append(c, "INBOX", f"Subject: auto {i}\r\n\r\nself-indexing {i}\r\n".encode())
    def waiting():
        return int(env.pg.psql(
            "SELECT count(*) FROM messages m JOIN mailbox_messages mm ON mm.message_id = m.id "
            "JOIN mailboxes b ON b.id = mm.mailbox_id JOIN accounts a ON a.id = b.owner_id "
            f"WHERE a.login = '{user}' AND NOT m.search_ready").strip())
    t0 = time.monotonic()
    while waiting() > 0:
        assert time.monotonic() - t0 < 20, f"{waiting()} of 50 still waiting after 20 s"
        time.sleep(0.05)
    with login(env.imap_port, user) as c:
        ok(c, "EXAMINE INBOX")
        assert search(c, 'SEARCH BODY "self-indexing 7"') == [8]
        assert len(search(c, "SEARCH TEXT self-indexing")) == 50


def test_quiet_period_holds_the_indexer_back(env, kairands):
    """While APPENDs keep coming (every 0.1 s, for 2.5 s) nothing is
    indexed: the quiet period (1.5 s) never passes; after the last one it
    does, and the backlog empties."""
    k = kairands(search_index_quiet_ms="1500", search_index_max_lag_s="86400")
    user = env.new_user("pend")
    n = 0
    with login(k.imap_port, user) as c:
        t_end = time.monotonic() + 2.5
        while time.monotonic() < t_end:
            append(c, "INBOX", f"Subject: busy {n}\r\n\r\nbusy body {n}\r\n".encode())
            n += 1
            assert backlog(env, user) == (n, n), "indexed while APPENDs were still coming"
            time.sleep(0.1)
        t_last = time.monotonic()
    wait_indexed(env, user, timeout=30)
    assert time.monotonic() - t_last >= 1.0, "indexed before the quiet period had passed"


def test_max_lag_indexes_a_server_that_is_never_quiet(env, kairands):
    """With an hour's quiet period the indexer would never run; the maximum
    lag (1 s) makes it index anyway."""
    k = kairands(search_index_quiet_ms="3600000", search_index_max_lag_s="1")
    user = env.new_user("pend")
    with login(k.imap_port, user) as c:
        for i in range(3):
            append(c, "INBOX", f"Subject: lag {i}\r\n\r\nlagging {i}\r\n".encode())
    t0 = time.monotonic()
    wait_indexed(env, user, timeout=30)
    with login(k.imap_port, user) as c:
        ok(c, "EXAMINE INBOX")
        assert search(c, "SEARCH BODY lagging") == [1, 2, 3]
    assert backlog(env, user) == (0, 3)
    assert time.monotonic() - t0 < 30


def test_indexer_survives_an_outage_and_logs_it_once(env, kairands):
    """The indexer's connection is terminated while the database refuses new
    connections: one log line, retries with backoff meanwhile (the workers'
    connections, still open, keep delivering), and once connections are
    allowed again it reconnects, says so, and indexes what arrived."""
    k = kairands()
    user = env.new_user("pend")
    # The indexer's session: the last statement it ran reads the backlog
    # (the workers' shows the last statement they prepared).
    find = (f"SELECT pid FROM pg_stat_activity WHERE datname = '{DB}' "
            "AND query LIKE '%WHERE NOT search_ready ORDER BY id LIMIT 1'")
    deadline = time.monotonic() + 10
    while not env.pg.psql(find, db="postgres").strip():
        assert time.monotonic() < deadline, "no indexer connection found"
        time.sleep(0.1)
    try:
        # (psql cannot connect to the database either until it is allowed.)
        env.pg.psql(f"ALTER DATABASE {DB} ALLOW_CONNECTIONS false", db="postgres")
        env.pg.psql(f"SELECT pg_terminate_backend(pid) FROM ({find}) i", db="postgres")
        with login(k.imap_port, user) as c:
            append(c, "INBOX", b"Subject: outage\r\n\r\nduring the outage\r\n")
        time.sleep(3.5)     # retries after 1 s and 2 s
        assert k.log_text().count("search indexer:") == 1, k.log_text()[-2000:]
    finally:
        env.pg.psql(f"ALTER DATABASE {DB} ALLOW_CONNECTIONS true", db="postgres")
    wait_indexed(env, user, timeout=30)
    log = k.log_text()
    assert "search indexer: database reachable again" in log, log[-2000:]
    assert log.count("search indexer:") == 2, log[-2000:]
    with login(k.imap_port, user) as c:
        ok(c, "EXAMINE INBOX")
        assert search(c, 'SEARCH TEXT "during the outage"') == [1]


def test_sigterm_stops_the_indexer(env, kairands):
    """SIGTERM while the indexer has work it may not do (frozen): kairand
    exits at once with status 0 (and under ASan without leaks: the
    indexer's thread is joined and its connection closed)."""
    k = kairands(**FROZEN)
    user = env.new_user("pend")
    with login(k.imap_port, user) as c:
        append(c, "INBOX", b"Subject: stop\r\n\r\nstopping\r\n")
    t0 = time.monotonic()
    assert k.stop() == 0
    assert time.monotonic() - t0 < 5
    assert "stopped" in k.log_text()
    assert backlog(env, user) == (1, 1)


@pytest.mark.parametrize("key,value", [("search_index_quiet_ms", "-1"),
                                       ("search_index_max_lag_s", "0"),
                                       ("search_index_batch", "0"),
                                       ("search_index_batch", "5001")])
def test_indexer_settings_are_checked(env, key, value):
    status, err = env.kairand_must_fail(**{key: value})
    assert status == 1, err
    assert f"{key} must be a number from" in err, err

