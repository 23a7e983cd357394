"""kairanctl deliver (issue 12, item 6; docs/delivery.md, "kairanctl
deliver"): the message on stdin, recipients as arguments, the outcome as
a sysexits.h exit status (EX_OK 0, EX_USAGE 64, EX_DATAERR 65, EX_NOUSER
67, EX_TEMPFAIL 75), delivered by LMTP's own code: the same recipients,
one stored copy, the same duplicate suppression. Checked over IMAP."""

import hashlib
import os
import subprocess
import time

import kairan_env as ke
from imapclient import login, ok
from test_lmtp import body, messages, rp, send_raw

EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 0, 64, 65, 67, 75


def deliver(env, args, data, conf=None):
    k = env.kairand
    r = subprocess.run([k.kairanctl, "-c", conf or k.conf_path, "deliver", *args], input=data,
                       capture_output=True, env=ke._clean_env(), timeout=60)
    return r.returncode, r.stderr.decode(errors="replace")


def lf(msg):
    """The message as an MTA pipes it: LF line ends."""
    return msg.replace(b"\r\n", b"\n")


def test_deliver_lf_input_stored_with_crlf_and_return_path(env):
    user = env.new_user("dl")
    msg = body(f"pipe-{time.time()}")
    status, err = deliver(env, ["-f", "s@example.net", f"{user}@example.org"], lf(msg))
    assert (status, err) == (EX_OK, "")
    assert messages(env, user) == [rp("s@example.net") + msg]


def test_mbox_from_line_and_mta_return_path_replaced(env):
    """pipe(8) with flags FR: a "From " line and the MTA's Return-Path
    first; stored with exactly one Return-Path, ours."""
    user = env.new_user("dl")
    msg = body(f"fr-{time.time()}")
    data = b"From s@example.net  Tue Dec  8 00:00:00 2026\nReturn-Path: <s@example.net>\n" + lf(msg)
    assert deliver(env, ["-f", "s@example.net", f"{user}@example.org"], data)[0] == EX_OK
    assert messages(env, user) == [rp("s@example.net") + msg]


def test_null_sender_and_no_sender(env):
    user = env.new_user("dl")
    bounce, plain = body(f"bounce-{time.time()}"), body(f"plain-{time.time()}")
    assert deliver(env, ["-f", "<>", f"{user}@example.org"], lf(bounce))[0] == EX_OK
    # Without -f nothing is added: the message is stored as given.
    assert deliver(env, [f"{user}@example.org"], lf(plain))[0] == EX_OK
    assert messages(env, user) == [b"Return-Path: <>\r\n" + bounce, plain]


def test_several_recipients_one_copy_and_detail(env):
    u1, u2 = env.new_user("dl"), env.new_user("dl")
    msg = body(f"many-{time.time()}")
    c = login(env.imap_port, u2)
    ok(c, "CREATE Lists")
    c.close()
    status, _ = deliver(env, ["-f", "s@example.net", f"{u1}@example.org", f"{u2}+Lists@example.org"],
                        lf(msg))
    assert status == EX_OK
    assert messages(env, u1) == [rp("s@example.net") + msg]
    assert messages(env, u2, "Lists") == [rp("s@example.net") + msg]
    h = hashlib.sha256(rp("s@example.net") + msg).hexdigest()
    assert env.pg.psql(f"SELECT count(*) FROM messages WHERE sha256 = '\\x{h}'").strip() == "1"


def test_unknown_recipient_is_nouser_and_nothing_delivered(env):
    user = env.new_user("dl")
    status, err = deliver(env, ["-f", "s@example.net", f"{user}@example.org", "nobody-x@example.org"],
                          lf(body(f"nouser-{time.time()}")))
    assert status == EX_NOUSER
    assert "nobody-x@example.org" in err and "unknown" in err
    assert messages(env, user) == []


def test_usage_errors(env):
    assert deliver(env, [], b"x\n")[0] == EX_USAGE
    assert deliver(env, ["-f", "s@example.net"], b"x\n")[0] == EX_USAGE
    assert deliver(env, ["-x", "a@example.org"], b"x\n")[0] == EX_USAGE
    assert deliver(env, ["not-an-address"], b"x\n")[0] == EX_USAGE


def test_bad_data_is_dataerr(env):
    user = env.new_user("dl")
    status, err = deliver(env, [f"{user}@example.org"], b"Subject: x\n\nNUL \0 here\n")
    assert status == EX_DATAERR and "NUL" in err
    status, err = deliver(env, [f"{user}@example.org"], b"Subject: x\n\n" + b"a" * (1024 * 1024 + 1))
    assert status == EX_DATAERR and "1 MiB" in err
    assert messages(env, user) == []


def conf_with(env, name, **changes):
    config = dict(env.kairand.config)
    config.update(changes)
    path = os.path.join(env.root, f"deliver-{name}.conf")
    ke.write_config(path, config)
    return path


def test_database_down_is_tempfail(env):
    user = env.new_user("dl")
    conf = conf_with(env, "nodb", db_dsn=f"host=127.0.0.1 port={ke.free_port()} dbname=kairan "
                     "connect_timeout=2")
    status, err = deliver(env, [f"{user}@example.org"], lf(body("nodb")), conf=conf)
    assert status == EX_TEMPFAIL, err


def test_directory_down_is_tempfail(env):
    user = env.new_user("dl")
    conf = conf_with(env, "noldap", ldap_uri=f"ldap://127.0.0.1:{ke.free_port()}", ldap_timeout="2")
    status, err = deliver(env, [f"{user}@example.org"], lf(body("noldap")), conf=conf)
    assert status == EX_TEMPFAIL, err
    assert "directory" in err


def test_unreadable_config_is_tempfail(env):
    path = os.path.join(env.root, "deliver-broken.conf")
    with open(path, "w") as f:
        f.write("no_such_key = 1\n")
    status, _ = deliver(env, ["a@example.org"], b"x\n", conf=path)
    assert status == EX_TEMPFAIL


def test_retry_is_a_duplicate_across_lmtp_and_pipe(env):
    """The same code as LMTP: a message delivered over LMTP and then piped
    again (same sender, same bytes) is acknowledged and stored once."""
    user = env.new_user("dl")
    msg = body(f"both-{time.time()}")
    send_raw(env, "s@example.net", [f"{user}@example.org"], msg + b".\r\n")
    for _ in range(2):
        assert deliver(env, ["-f", "s@example.net", f"{user}@example.org"], lf(msg))[0] == EX_OK
    assert messages(env, user) == [rp("s@example.net") + msg]


def test_over_quota_recipient_is_ex_cantcreat_and_the_others_have_it(env):
    """RFC 9208 at delivery, through the pipe: the recipient whose quota
    root is full is refused with EX_CANTCREAT (73), the one beside it gets
    the message (docs/delivery.md, "kairanctl deliver")."""
    from test_quota import ctl_ok, person
    full, free = person(env), person(env)
    ctl_ok(env, "quota", "set", full, "messages=0")
    msg = body(f"quota-{time.time()}")
    status, err = deliver(env, ["-f", "s@example.net", f"{full}@example.org",
                                f"{free}@example.org"], lf(msg))
    assert status == 73 and "over quota" in err, (status, err)
    assert messages(env, full) == []
    assert messages(env, free) == [rp("s@example.net") + msg]
