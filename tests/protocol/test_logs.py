"""Logs (docs/deployment.md, "Logs"): the protocol trace switched on by
config (trace_users, trace_addresses) or by kairanctl trace, the one line a
session leaves when it ends, the JSON format, and the rule that no password
and no SASL response ever reaches a log or a trace.

Secrets are random per run and never "secret", so that a grep for them
cannot match anything else: RFC 3501 §6.2.3 (LOGIN's password, quoted,
atom or literal), §6.2.2 and RFC 4959 (AUTHENTICATE PLAIN's response,
after a continuation or as SASL-IR), RFC 4616 (the PLAIN message)."""

import base64
import glob
import json
import os
import re
import secrets
import signal
import time

import pytest

import kairan_env as ke
from imapclient import connect, quote


def b64(raw):
    return base64.b64encode(raw).decode()


def new_person(env, password):
    """A person in the directory whose password is `password`."""
    login = env.new_user("logs")
    env.slapd.ldapmodify(f"dn: uid={login},ou=people,dc=example,dc=org\nchangetype: modify\n"
                         f"replace: userPassword\nuserPassword: {password}\n")
    return login


def trace_dir(env, name):
    """A directory kairand may write its traces to: when the tests run as
    root, kairand runs as the kairan user after start-up."""
    d = os.path.join(env.root, f"traces-{name}-{secrets.token_hex(3)}")
    os.makedirs(d)
    pw = ke.kairand_user()
    if pw is not None:
        os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def wait_for(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def traces(d):
    """{path: text} of every trace file in d."""
    out = {}
    for path in sorted(glob.glob(os.path.join(d, "*.trace"))):
        with open(path, "rb") as f:
            out[path] = f.read().decode("utf-8", "replace")
    return out


def with_commands(d):
    return [path for path, text in traces(d).items() if " C: " in text]


def lines_of(text, who):
    """The "C:" or "S:" lines of a trace, without their time stamps."""
    marker = f" {who}: "
    return [line.split(marker, 1)[1] for line in text.splitlines() if marker in line]


def log_in_ways(port, login, password, wrong):
    """Every way a password or a SASL response can reach kairand; returns
    the base64 strings sent."""
    good_plain = b64(b"\0" + login.encode() + b"\0" + password.encode())
    authz_plain = b64(login.encode() + b"\0" + login.encode() + b"\0" + password.encode())
    bad_plain = b64(b"\0" + login.encode() + b"\0" + wrong.encode())
    # LOGIN, the password an atom, then quoted.
    for text in (f"LOGIN {login} {password}", f"LOGIN {login} " + quote(password).decode()):
        with connect(port) as c:
            assert c.cmd("a", text)[0].startswith(b"a OK")
            assert c.cmd("z", "LOGOUT")[0].startswith(b"z OK")
    # LOGIN with synchronising literals for both arguments (§4.3), then
    # with a non-synchronising one (RFC 7888 LITERAL+).
    with connect(port) as c:
        c.send(f"a LOGIN {{{len(login)}}}\r\n")
        c.expect_continuation()
        c.send(f"{login} {{{len(password)}}}\r\n")
        c.expect_continuation()
        c.send(password + "\r\n")
        assert c.read_tagged("a")[0].startswith(b"a OK")
    with connect(port) as c:
        c.send(f"a LOGIN {login} {{{len(password)}+}}\r\n{password}\r\n")
        assert c.read_tagged("a")[0].startswith(b"a OK")
    # AUTHENTICATE PLAIN with SASL-IR, and after a continuation.
    with connect(port) as c:
        assert c.cmd("a", f"AUTHENTICATE PLAIN {good_plain}")[0].startswith(b"a OK")
    with connect(port) as c:
        c.send(b"a AUTHENTICATE PLAIN\r\n")
        assert c.expect_continuation() == b"+ "
        c.send(authz_plain + "\r\n")
        assert c.read_tagged("a")[0].startswith(b"a OK")
    # Failures: a wrong password by LOGIN and by AUTHENTICATE, both forms.
    with connect(port) as c:
        assert c.cmd("a", f"LOGIN {login} {wrong}")[0].startswith(b"a NO")
    with connect(port) as c:
        assert c.cmd("a", f"AUTHENTICATE PLAIN {bad_plain}")[0].startswith(b"a NO")
    with connect(port) as c:
        c.send(b"a AUTHENTICATE PLAIN\r\n")
        c.expect_continuation()
        c.send(bad_plain + "\r\n")
        assert c.read_tagged("a")[0].startswith(b"a NO")
    return [good_plain, authz_plain, bad_plain]


@pytest.mark.parametrize("how", ["trace_users", "trace_addresses"])
def test_no_password_or_sasl_response_reaches_the_log_or_a_trace(env, how):
    password, wrong = "Pw" + secrets.token_hex(8), "Wr" + secrets.token_hex(8)
    login = new_person(env, password)
    d = trace_dir(env, how)
    k = env.start_kairand(log_level="debug", trace_dir=d,
                          **{how: login if how == "trace_users" else "127.0.0.1"})
    try:
        sent = log_in_ways(k.imap_port, login, password, wrong)
        # Every successful login leaves a trace; with trace_addresses the
        # failures do too (they never log in), and so does the harness's
        # probe of the port (a connection without a command).
        expect = 6 if how == "trace_users" else 9
        wait_for(lambda: len(with_commands(d)) == expect, f"{expect} traces")
    finally:
        k.stop()
    texts = traces(d)
    assert len(with_commands(d)) == expect, list(texts)
    log = k.log_text()
    assert " debug: " in log and " LOGIN OK in " in log
    for name, text in [("the log", log)] + list(texts.items()):
        for secret in [password, wrong] + sent:
            assert secret not in text, (name, secret)
    # The redaction is visible where the secrets were.
    joined = "\n".join(texts.values())
    assert "<redacted>" in joined
    assert "<SASL response redacted" in joined
    assert "AUTHENTICATE PLAIN <redacted>" in joined


def test_trace_records_commands_and_responses(env):
    password = "Pw" + secrets.token_hex(8)
    login = new_person(env, password)
    d = trace_dir(env, "contents")
    big_marker = "BIG" + secrets.token_hex(8)
    small = b"Subject: small\r\n\r\nhello\r\n"
    big = (f"Subject: big\r\n\r\n{big_marker}\r\n" + "x" * 5000 + "\r\n").encode()
    k = env.start_kairand(trace_dir=d, trace_users=login)
    try:
        with connect(k.imap_port) as c:
            assert c.cmd("a", f"LOGIN {login} " + quote(password).decode())[0].startswith(b"a OK")
            assert c.cmd("b", "SELECT INBOX")[0].startswith(b"b OK")
            for tag, msg in (("c", small), ("d", big)):
                c.send(f"{tag} APPEND INBOX {{{len(msg)}}}\r\n".encode())
                c.expect_continuation()
                c.send(msg + b"\r\n")
                assert c.read_tagged(tag)[0].startswith(tag.encode() + b" OK")
            assert c.cmd("e", "FETCH 1:* (UID BODY.PEEK[])")[0].startswith(b"e OK")
            assert c.cmd("f", "BOGUS")[0].startswith(b"f BAD")
            assert c.cmd("z", "LOGOUT")[0].startswith(b"z OK")
        path = wait_for(lambda: [p for p, t in traces(d).items() if "session end" in t],
                        "the end of the trace")[0]
    finally:
        k.stop()
    text = traces(d)[path]
    assert os.path.basename(path).startswith(login + ".")
    assert (os.stat(path).st_mode & 0o777) == 0o600
    client, server = lines_of(text, "C"), lines_of(text, "S")
    # The login itself starts the trace, its password redacted.
    assert client[0] == f'a LOGIN {login} "<redacted>"', client
    assert server[0].startswith("a OK [CAPABILITY "), server
    assert "b SELECT INBOX" in client
    assert any(re.fullmatch(r"\* \d+ EXISTS", line) for line in server), server
    # A small literal is shown, CR LF escaped; a big one is summarised.
    assert "c APPEND INBOX {%d}Subject: small\\r\\n\\r\\nhello\\r\\n" % len(small) in client
    assert "d APPEND INBOX {%d bytes}" % len(big) in client
    assert big_marker not in text
    assert "e FETCH 1:* (UID BODY.PEEK[])" in client
    fetched = [line for line in server if " FETCH (" in line]
    assert len(fetched) == 2, fetched
    assert "hello" in fetched[0] and ("{%d bytes}" % len(big)) in fetched[1], fetched
    assert any(line.startswith("e OK") for line in server)
    assert "f BOGUS" in client and any(line.startswith("f BAD") for line in server)
    assert "z LOGOUT" in client and any(line.startswith("* BYE") for line in server)
    assert re.search(r" \*: session end: logout", text), text


def test_kairanctl_trace_switches_a_running_kairand(env):
    """kairanctl trace LOGIN on|off takes effect at the user's next login
    without a restart; trace list shows the switch."""
    password = "Pw" + secrets.token_hex(8)
    login = new_person(env, password)
    d = trace_dir(env, "ctl")
    k = env.start_kairand(trace_dir=d)

    def log_in_and_out():
        with connect(k.imap_port) as c:
            assert c.cmd("a", f"LOGIN {login.upper()} {password}")[0].startswith(b"a OK")
            assert c.cmd("z", "LOGOUT")[0].startswith(b"z OK")

    try:
        log_in_and_out()
        assert traces(d) == {}
        r = k.ctl("trace", login.upper(), "on")
        assert r.stdout == f"{login}\ttrace on\n"    # the directory's form
        assert re.search(rf"^{login}\tsince \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                         k.ctl("trace", "list").stdout, re.M)
        assert k.ctl("trace", login, "on").stdout == f"{login}\ttrace on (already)\n"
        log_in_and_out()
        wait_for(lambda: len(traces(d)) == 1, "one trace")
        assert k.ctl("trace", login, "off").stdout == f"{login}\ttrace off\n"
        assert login not in k.ctl("trace", "list").stdout
        log_in_and_out()
        time.sleep(0.3)
        assert len(traces(d)) == 1
    finally:
        k.ctl("trace", login, "off", check=False)
        k.stop()
    (text,) = traces(d).values()
    assert lines_of(text, "C")[0] == f"a LOGIN {login.upper()} <redacted>"


def test_kairanctl_trace_usage_and_unknown_user(env):
    r = env.kairand.ctl("trace", "somebody", check=False)
    assert r.returncode == 2 and r.stderr.startswith("kairanctl: "), r.stderr
    r = env.kairand.ctl("trace", "somebody", "maybe", check=False)
    assert r.returncode == 2, r.stderr
    r = env.kairand.ctl("trace", "list", "extra", check=False)
    assert r.returncode == 2, r.stderr
    r = env.kairand.ctl("trace", "nobody" + secrets.token_hex(4), "on", check=False)
    assert r.returncode == 1 and "no user" in r.stderr, r.stderr


def end_lines_text(log):
    return [line for line in log.splitlines() if " info: session end: " in line]


def test_session_end_line_text(env):
    password = "Pw" + secrets.token_hex(8)
    login = new_person(env, password)
    k = env.start_kairand()
    try:
        with connect(k.imap_port) as c:
            port = c.sock.getsockname()[1]
            sent = f"a LOGIN {login} {password}\r\nb NOOP\r\nz LOGOUT\r\n".encode()
            c.send(sent)
            received = c.greeting + b"\r\n" + b"".join(c.read_until_closed())
        with connect(k.imap_port) as c:
            port2 = c.sock.getsockname()[1]
        line = wait_for(lambda: [x for x in end_lines_text(k.log_text())
                                 if f"peer=127.0.0.1:{port} " in x], "the end line")[0]
        other = wait_for(lambda: [x for x in end_lines_text(k.log_text())
                                  if f"peer=127.0.0.1:{port2} " in x], "the end line")[0]
    finally:
        k.stop()
    fields = dict(re.findall(r" (\w+)=(\"[^\"]*\"|\S+)", line))
    assert fields["user"] == login
    assert fields["commands"] == "3"
    assert fields["bytes_in"] == str(len(sent))
    assert fields["bytes_out"] == str(len(received))
    assert fields["reason"] == "logout"
    assert int(fields["duration_ms"]) >= 0
    fields = dict(re.findall(r" (\w+)=(\"[^\"]*\"|\S+)", other))
    assert fields["user"] == '""' and fields["commands"] == "0"
    assert fields["reason"] == "disconnected"


def test_session_end_line_and_every_line_json(env):
    """log_format = json: every line of the log is one JSON object with
    the stable keys; the session's end has its fields typed; text a
    client controls (a login name with quotes and bytes that are not
    UTF-8) stays inside its string."""
    password = "Pw" + secrets.token_hex(8)
    login = new_person(env, password)
    k = env.start_kairand(log_format="json", log_level="debug")
    try:
        with connect(k.imap_port) as c:
            port = c.sock.getsockname()[1]
            weird = b'a"b\\c\xff\x01\xc3'
            c.send(b"x LOGIN {%d}\r\n" % len(weird))
            c.expect_continuation()
            c.send(weird + b" nothing\r\n")
            assert c.read_tagged("x")[0].startswith(b"x NO")
            assert c.cmd("a", f"LOGIN {login} {password}")[0].startswith(b"a OK")
            assert c.cmd("z", "LOGOUT")[0].startswith(b"z OK")

        def end():
            for obj in map(json.loads, k.log_text().splitlines()):
                if obj["msg"] == "session end" and obj["peer"].endswith(f":{port}"):
                    return obj
        obj = wait_for(end, "the end line")
    finally:
        k.stop()
    objs = [json.loads(line) for line in k.log_text().splitlines()]
    assert objs and all({"ts", "level", "program", "msg"} <= set(o) for o in objs)
    assert {o["level"] for o in objs} >= {"info"}
    assert all(o["program"] == "kairand" for o in objs)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]) for o in objs)
    assert obj["user"] == login and obj["reason"] == "logout" and obj["commands"] == 3
    assert isinstance(obj["bytes_in"], int) and isinstance(obj["duration_ms"], int)
    assert obj["bytes_in"] > 0 and obj["bytes_out"] > 0
    failed = [o["msg"] for o in objs if "authentication failed" in o["msg"]]
    assert any('a"b\\x5cc\\xff\\x01\\xc3' in m for m in failed), failed
    assert password not in k.log_text()


@pytest.mark.parametrize("key,value", [("log_level", "loud"), ("log_format", "xml")])
def test_bad_log_settings_stop_the_start(env, key, value):
    status, err = env.kairand_must_fail(**{key: value})
    assert status == 1 and key in err, err


def test_trace_to_the_log_as_json_when_no_trace_dir(env):
    """trace_dir empty: a traced session's lines go to the log, one JSON
    object each (from, line), the password still redacted; a session traced
    by its address is named by its user once it logs in."""
    password = "Pw" + secrets.token_hex(8)
    login = new_person(env, password)
    k = env.start_kairand(log_format="json", trace_addresses="127.0.0.1")
    try:
        with connect(k.imap_port) as c:
            port = c.sock.getsockname()[1]
            assert c.cmd("a", f"LOGIN {login} {password}")[0].startswith(b"a OK")
            assert c.cmd("b", "NOOP")[0].startswith(b"b OK")
            assert c.cmd("z", "LOGOUT")[0].startswith(b"z OK")

        def trace_lines():
            objs = [json.loads(line) for line in k.log_text().splitlines()]
            mine = [o for o in objs if o["msg"] == "trace" and o["peer"].endswith(f":{port}")]
            return mine if any("session end" in o["line"] for o in mine) else None
        lines = wait_for(trace_lines, "the trace in the log")
    finally:
        k.stop()
    said = [(o["from"], o["line"]) for o in lines]
    assert ("C", f"a LOGIN {login} <redacted>") in said, said
    assert ("*", f"logged in as {login}") in said, said
    assert ("C", "b NOOP") in said and ("S", "b OK NOOP completed") in said, said
    before = said.index(("*", f"logged in as {login}"))
    assert all(o["user"] == "" for o in lines[:before])
    assert all(o["user"] == login for o in lines[before:])
    assert password not in k.log_text()


def test_session_end_reasons_timeout_and_shutdown(env):
    password = "Pw" + secrets.token_hex(8)
    login = new_person(env, password)
    k = env.start_kairand(timeout_preauth="1")
    try:
        with connect(k.imap_port) as idle, connect(k.imap_port) as busy:
            idle_port = idle.sock.getsockname()[1]
            busy_port = busy.sock.getsockname()[1]
            assert busy.cmd("a", f"LOGIN {login} {password}")[0].startswith(b"a OK")
            assert idle.readline(timeout=5).startswith(b"* BYE")
            wait_for(lambda: any(f":{idle_port} " in x for x in end_lines_text(k.log_text())),
                     "the timeout's end line")
            k.stop()
            assert busy.readline(timeout=5).startswith(b"* BYE")
    finally:
        k.stop()
    reasons = {}
    for line in end_lines_text(k.log_text()):
        port = int(re.search(r"peer=127\.0\.0\.1:(\d+) ", line).group(1))
        reasons[port] = re.search(r" reason=(\S+)", line).group(1)
    assert reasons[idle_port] == "timeout" and reasons[busy_port] == "shutdown", reasons


def test_sighup_changes_the_log_format_and_the_traced_users(env):
    """log_level, log_format and the trace keys are live (docs/config.md,
    "Reloading"): after a SIGHUP the log is JSON, and a user added to
    trace_users is traced from the next login; a bad log_level is refused
    whole and the text format stays."""
    password = "Pw" + secrets.token_hex(8)
    login = new_person(env, password)
    d = trace_dir(env, "reload")
    k = env.start_kairand(trace_dir=d)

    def reload(**keys):
        before = k.log_text().count("SIGHUP: ")
        k.config.update(keys)
        k.write_config()
        os.kill(k.pid, signal.SIGHUP)
        wait_for(lambda: k.log_text().count("SIGHUP: ") > before, "the reload's line")

    def log_in_and_out():
        with connect(k.imap_port) as c:
            assert c.cmd("a", f"LOGIN {login} {password}")[0].startswith(b"a OK")
            assert c.cmd("z", "LOGOUT")[0].startswith(b"z OK")

    try:
        reload(log_level="loud")
        assert "keeping the old certificate and configuration: log_level must be" in k.log_text()
        reload(log_level="info", log_format="json", trace_users=login)
        log_in_and_out()
        wait_for(lambda: len(with_commands(d)) == 1, "the trace of the new login")

        def end_line():
            tail = k.log_text().split("SIGHUP: reloaded", 1)[1].splitlines()[1:]
            objs = [json.loads(line) for line in tail]   # every line after it is JSON
            return [o for o in objs if o["msg"] == "session end" and o["user"] == login]
        wait_for(end_line, "the session's end line, in JSON")
    finally:
        k.stop()
