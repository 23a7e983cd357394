"""Authentication: AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616, SASL-IR
RFC 4959), plaintext policy (LOGINDISABLED), failure delays and limits."""

import base64
import time

from imapclient import connect

ALICE_PLAIN = base64.b64encode(b"\0alice\0secret").decode()
SUPPORT_GROUP = "cn=support,ou=groups,dc=example,dc=org"


def b64(raw):
    return base64.b64encode(raw).decode()


def test_rfc4959_authenticate_plain_with_initial_response(env):
    with connect(env.imap_port) as c:
        assert b"AUTH=PLAIN" in c.greeting and b"SASL-IR" in c.greeting
        tagged, _ = c.cmd("a", f"AUTHENTICATE PLAIN {ALICE_PLAIN}")
        assert tagged.startswith(b"a OK [CAPABILITY "), tagged
        # After login no AUTH= and no STARTTLS (RFC 3501 §6.1.1: exact list).
        assert b"AUTH=" not in tagged and b"STARTTLS" not in tagged


def test_rfc3501_6_2_2_authenticate_plain_with_continuation(env):
    with connect(env.imap_port) as c:
        c.send(b"a AUTHENTICATE PLAIN\r\n")
        assert c.expect_continuation() == b"+ "
        c.send(ALICE_PLAIN.encode() + b"\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a OK"), tagged


def test_rfc3501_6_2_2_star_cancels_with_bad(env):
    with connect(env.imap_port) as c:
        c.send(b"a AUTHENTICATE PLAIN\r\n")
        c.expect_continuation()
        c.send(b"*\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a BAD"), tagged
        assert c.cmd("b", "NOOP")[0].startswith(b"b OK")


def test_authenticate_wrong_password_and_unknown_user_look_the_same(env):
    answers = []
    for raw in (b"\0alice\0wrong", b"\0nobody\0secret"):
        with connect(env.imap_port) as c:
            tagged, _ = c.cmd("a", f"AUTHENTICATE PLAIN {b64(raw)}")
            answers.append(tagged)
    assert answers[0] == answers[1] == b"a NO [AUTHENTICATIONFAILED] Authentication failed"


def test_authenticate_malformed_responses_are_bad(env):
    cases = [
        "AUTHENTICATE PLAIN !!!!",                         # not base64
        "AUTHENTICATE PLAIN Zg",                           # bad length
        "AUTHENTICATE PLAIN " + b64(b"alice-secret"),      # no NULs
        "AUTHENTICATE PLAIN " + b64(b"a\0b\0c\0d"),       # three NULs
        "AUTHENTICATE PLAIN \"quoted\"",                   # IR must be an atom
        "AUTHENTICATE",                                    # no mechanism
        f"AUTHENTICATE PLAIN {ALICE_PLAIN} extra",         # too many args
    ]
    with connect(env.imap_port) as c:
        for i, text in enumerate(cases):
            tag = f"m{i}"
            tagged, _ = c.cmd(tag, text)
            assert tagged.startswith(tag.encode() + b" BAD"), (text, tagged)


def test_unknown_mechanism_is_no(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "AUTHENTICATE CRAM-MD5")
        assert tagged.startswith(b"a NO [CANNOT]"), tagged


def test_empty_initial_response_is_a_failed_login(env):
    # RFC 4959: "=" is an empty initial response; PLAIN without NULs is malformed.
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "AUTHENTICATE PLAIN =")
        assert tagged.startswith(b"a BAD"), tagged


def test_rfc4616_authzid_other_than_authcid_is_refused(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "AUTHENTICATE PLAIN " + b64(b"bob\0alice\0secret"))
        assert tagged.startswith(b"a NO [AUTHORIZATIONFAILED]"), tagged
    # Naming yourself as authzid is fine.
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "AUTHENTICATE PLAIN " + b64(b"alice\0alice\0secret"))
        assert tagged.startswith(b"a OK"), tagged


def test_admin_group_member_may_act_as_another_user(env):
    k = env.start_kairand(auth_admin_group=SUPPORT_GROUP)
    with connect(k.imap_port) as c:        # carol is in support
        tagged, _ = c.cmd("a", "AUTHENTICATE PLAIN " + b64(b"alice\0carol\0secret"))
        assert tagged.startswith(b"a OK"), tagged
    with connect(k.imap_port) as c:        # bob is not
        tagged, _ = c.cmd("a", "AUTHENTICATE PLAIN " + b64(b"alice\0bob\0secret"))
        assert tagged.startswith(b"a NO [AUTHORIZATIONFAILED]"), tagged
    with connect(k.imap_port) as c:        # acting as nobody fails
        tagged, _ = c.cmd("a", "AUTHENTICATE PLAIN " + b64(b"nobody\0carol\0secret"))
        assert tagged.startswith(b"a NO [AUTHORIZATIONFAILED]"), tagged
    k.stop()


def test_logindisabled_without_tls_when_loopback_is_not_trusted(env):
    k = env.start_kairand(trust_loopback="no")
    with connect(k.imap_port) as c:
        assert b"LOGINDISABLED" in c.greeting and b"AUTH=" not in c.greeting
        assert b"STARTTLS" in c.greeting
        tagged, _ = c.cmd("a", "LOGIN alice secret")
        assert tagged.startswith(b"a NO [PRIVACYREQUIRED]"), tagged
        tagged, _ = c.cmd("b", f"AUTHENTICATE PLAIN {ALICE_PLAIN}")
        assert tagged.startswith(b"b NO [PRIVACYREQUIRED]"), tagged
        # After STARTTLS the same credentials work and the list changes.
        assert c.starttls("s").startswith(b"s OK")
        _, untagged = c.cmd("c", "CAPABILITY")
        caps = untagged[0]
        assert b"LOGINDISABLED" not in caps and b"AUTH=PLAIN" in caps and b"STARTTLS" not in caps
        assert c.cmd("d", "LOGIN alice secret")[0].startswith(b"d OK")
    with connect(k.imaps_port, tls=True) as c:
        assert b"LOGINDISABLED" not in c.greeting and b"AUTH=PLAIN" in c.greeting
        assert c.cmd("a", "LOGIN alice secret")[0].startswith(b"a OK")
    k.stop()


def test_failures_are_delayed_growing_per_address_and_capped(env):
    k = env.start_kairand(auth_fail_delay_ms="300", auth_fail_delay_max_ms="1000",
                          max_auth_failures="10")
    delays = []
    with connect(k.imap_port) as c:
        for i in range(4):
            start = time.monotonic()
            tagged, _ = c.cmd(f"f{i}", "LOGIN alice wrong", timeout=10)
            delays.append(time.monotonic() - start)
            assert b"[AUTHENTICATIONFAILED]" in tagged
        # A success resets the address's count.
        assert c.cmd("ok", "LOGIN alice secret")[0].startswith(b"ok OK")
    with connect(k.imap_port) as c:
        start = time.monotonic()
        c.cmd("g", "LOGIN alice wrong")
        after_success = time.monotonic() - start
    k.stop()
    # 300, 600, 1000 (cap), 1000 ms; each at least the delay, not far above.
    for got, want in zip(delays, (0.3, 0.6, 1.0, 1.0)):
        assert want - 0.02 <= got < want + 0.5, delays
    assert 0.28 <= after_success < 0.8, after_success


def test_unknown_user_and_wrong_password_take_the_same_time(env):
    k = env.start_kairand(auth_fail_delay_ms="400", auth_fail_delay_max_ms="400")
    times = {"unknown": [], "wrong": []}
    for _ in range(3):
        for kind, user, pw in (("unknown", "nobody", "secret"), ("wrong", "alice", "bad")):
            with connect(k.imap_port) as c:
                start = time.monotonic()
                c.cmd("a", f"LOGIN {user} {pw}")
                times[kind].append(time.monotonic() - start)
    k.stop()
    for kind, ts in times.items():
        for t in ts:
            assert 0.39 <= t < 0.6, (kind, times)
    avg = {kind: sum(ts) / len(ts) for kind, ts in times.items()}
    assert abs(avg["unknown"] - avg["wrong"]) < 0.05, times


def test_bye_after_max_auth_failures_on_one_connection(env):
    k = env.start_kairand(max_auth_failures="3", auth_fail_delay_ms="0")
    with connect(k.imap_port) as c:
        for i in range(2):
            assert c.cmd(f"a{i}", "LOGIN alice wrong")[0].startswith(f"a{i} NO".encode())
        c.send(b"a2 LOGIN alice wrong\r\n")
        lines = c.read_until_closed()
    k.stop()
    # The tagged NO first, then the BYE, then the server closes.
    assert lines[0].startswith(b"a2 NO [AUTHENTICATIONFAILED]"), lines
    assert lines[1].startswith(b"* BYE"), lines


def test_connections_per_address_are_limited(env):
    k = env.start_kairand(max_connections_per_ip="3")
    conns = [connect(k.imap_port) for _ in range(3)]
    try:
        with connect(k.imap_port, read_greeting=False) as extra:
            lines = extra.read_until_closed()
            assert lines and lines[0].startswith(b"* BYE [LIMIT]"), lines
        conns.pop().close()
        time.sleep(0.2)
        with connect(k.imap_port) as again:
            assert again.greeting.startswith(b"* OK")
    finally:
        for c in conns:
            c.close()
        k.stop()


def test_connections_per_user_are_limited(env):
    k = env.start_kairand(max_connections_per_user="2")
    conns = []
    try:
        for i in range(2):
            c = connect(k.imap_port)
            conns.append(c)
            assert c.cmd("a", "LOGIN alice secret")[0].startswith(b"a OK")
        with connect(k.imap_port) as third:
            tagged, _ = third.cmd("a", "LOGIN alice secret")
            assert tagged.startswith(b"a NO [LIMIT]"), tagged
            # Another user is not affected.
            assert third.cmd("b", "LOGIN bob secret")[0].startswith(b"b OK")
        conns.pop().cmd("z", "LOGOUT")
        time.sleep(0.2)
        with connect(k.imap_port) as again:
            assert again.cmd("a", "LOGIN alice secret")[0].startswith(b"a OK")
    finally:
        for c in conns:
            c.close()
        k.stop()
