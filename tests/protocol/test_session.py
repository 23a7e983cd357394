"""Session housekeeping: ID (RFC 2971), ENABLE (RFC 5161), exact
CAPABILITY (RFC 3501 §6.1.1), idle timeouts (§5.4), the BAD limit."""

import time

from imapclient import connect


def test_rfc2971_id_nil_and_list(env):
    with connect(env.imap_port) as c:
        tagged, untagged = c.cmd("a", "ID NIL")
        assert tagged.startswith(b"a OK")
        assert untagged[0].startswith(b'* ID ("name" "Kairan"')
        tagged, untagged = c.cmd("b", 'ID ("name" "pytest" "version" NIL)')
        assert tagged.startswith(b"b OK") and untagged[0].startswith(b"* ID (")


def test_rfc2971_id_limits(env):
    too_many = " ".join(f'"f{i}" "v"' for i in range(31))
    cases = [
        "ID",                                   # missing argument
        'ID ("name")',                          # odd count
        f"ID ({too_many})",                     # > 30 pairs
        'ID ("' + "x" * 31 + '" "v")',          # field > 30 octets
        'ID ("name" "' + "v" * 1025 + '")',     # value > 1024 octets
        "ID (name value)",                      # atoms are not strings
        "ID NIL extra",
    ]
    with connect(env.imap_port) as c:
        assert c.cmd("l", "LOGIN alice secret")[0].startswith(b"l OK")
        for i, text in enumerate(cases):
            tagged, _ = c.cmd(f"i{i}", text)
            assert tagged.startswith(f"i{i} BAD".encode()), (text, tagged)


def test_rfc5161_enable(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "ENABLE CONDSTORE")
        assert tagged.startswith(b"a BAD"), tagged        # not authenticated yet
        c.cmd("l", "LOGIN alice secret")
        tagged, untagged = c.cmd("b", "ENABLE X-UNKNOWN")
        assert tagged.startswith(b"b OK") and untagged == [b"* ENABLED"]
        tagged, _ = c.cmd("c", "ENABLE")
        assert tagged.startswith(b"c BAD")


def test_capability_is_exact_for_state(env):
    with connect(env.imap_port) as c:
        _, before = c.cmd("a", "CAPABILITY")
        tagged, _ = c.cmd("l", "LOGIN alice secret")
        _, after = c.cmd("b", "CAPABILITY")
    before, after = before[0].split()[2:], after[0].split()[2:]
    for cap in (b"IMAP4rev1", b"LITERAL+", b"SASL-IR", b"ID", b"ENABLE"):
        assert cap in before and cap in after
    assert b"AUTH=PLAIN" in before and b"STARTTLS" in before
    assert b"AUTH=PLAIN" not in after and b"STARTTLS" not in after
    # The tagged OK of LOGIN repeats the new list as a response code.
    assert tagged.startswith(b"l OK [CAPABILITY " + b" ".join(after) + b"]")


def test_rfc3501_5_4_preauth_timeout(env):
    k = env.start_kairand(timeout_preauth="1")
    with connect(k.imap_port) as c:
        start = time.monotonic()
        lines = c.read_until_closed(timeout=10)
        took = time.monotonic() - start
    k.stop()
    assert lines and lines[-1].startswith(b"* BYE"), lines
    assert 0.9 < took < 4, took


def test_rfc3501_5_4_idle_timeout_after_login(env):
    k = env.start_kairand(timeout_idle="2")
    with connect(k.imap_port) as c:
        assert c.cmd("a", "LOGIN alice secret")[0].startswith(b"a OK")
        time.sleep(1)
        assert c.cmd("b", "NOOP")[0].startswith(b"b OK")   # activity resets the clock
        start = time.monotonic()
        lines = c.read_until_closed(timeout=10)
        took = time.monotonic() - start
    k.stop()
    assert lines and lines[-1].startswith(b"* BYE Autologout"), lines
    assert 1.5 < took < 5, took


def test_bye_after_consecutive_bad_commands(env):
    with connect(env.imap_port) as c:
        c.send(b"".join(b"b%d FOO\r\n" % i for i in range(25)))
        lines = c.read_until_closed()
    bads = [line for line in lines if b" BAD " in line]
    assert len(bads) == 20, lines
    assert lines[-1].startswith(b"* BYE"), lines


def test_a_good_command_resets_the_bad_count(env):
    with connect(env.imap_port) as c:
        for round_ in range(3):
            for i in range(15):
                assert c.cmd(f"b{i}", "FOO")[0].startswith(f"b{i} BAD".encode())
            assert c.cmd("n", "NOOP")[0].startswith(b"n OK")


def test_preauth_nesting_limit(env):
    with connect(env.imap_port) as c:
        tagged, _ = c.cmd("a", "ID ((((((x))))))")
        assert tagged.startswith(b"a BAD [TOOBIG]"), tagged
        assert c.cmd("b", "NOOP")[0].startswith(b"b OK")
