"""Privileges (issue 14, 1): started as root, kairand binds its ports and
reads its key, then runs as the configured unprivileged user, every thread
of it; it refuses to go on as root unless told to."""

import os
import pwd
import shutil
import signal
import time

import pytest

from imapclient import connect, login, ok
import kairan_env as ke

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: kairand drops root")


def thread_ids(pid):
    """{tid: (uids, gids, groups)} of every thread of `pid`, from
    /proc/<pid>/task/<tid>/status (real, effective, saved, filesystem)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        fields = {}
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.split()
        out[tid] = (fields["Uid"], fields["Gid"], fields["Groups"])
    return out


def test_every_thread_runs_as_kairan(env):
    pw = pwd.getpwnam(ke.KAIRAND_USER)
    ids = thread_ids(env.kairand.pid)
    # The loop and at least the bus's and the indexer's threads.
    assert len(ids) >= 3, ids
    for tid, (uids, gids, groups) in ids.items():
        assert uids == [str(pw.pw_uid)] * 4, (tid, uids)
        assert gids == [str(pw.pw_gid)] * 4, (tid, gids)
        assert groups == [str(pw.pw_gid)], (tid, groups)
    assert "running as user kairan" in env.kairand.log_text()


def test_sessions_work_after_the_drop(env):
    # PostgreSQL over its Unix socket, slapd over TCP: both reached as kairan.
    with login(env.imap_port, "alice") as c:
        ok(c, "SELECT INBOX")
        ok(c, "APPEND INBOX {5+}\r\nhello")


@pytest.mark.parametrize("user", ["root", None])
def test_root_is_refused_without_allow_root(env, user):
    config = env.make_config()
    config.pop("user", None)
    if user is not None:
        config["user"] = user
    status, err = ke.run_kairand_expect_failure(env.build, env._workdir("root"), config)
    assert status not in (None, 0), err
    assert "refusing to run as root" in err and "allow_root" in err, err


def test_allow_root_keeps_root(env):
    k = env.start_kairand(user="root", allow_root="yes")
    try:
        uids, _, _ = thread_ids(k.pid)[str(k.pid)]
        assert uids == ["0"] * 4
        assert "running as root (allow_root = yes)" in k.log_text()
    finally:
        k.stop()


def test_unknown_user_is_refused(env):
    status, err = env.kairand_must_fail(user="no-such-user-kairan")
    assert status not in (None, 0), err
    assert "user 'no-such-user-kairan' does not exist" in err, err


def test_sighup_with_a_key_only_root_can_read_keeps_the_old_certificate(env):
    """After the drop, a key readable only by root cannot be reloaded: the
    reload fails with a log line and the old certificate stays in service."""
    tls = os.path.join(env.root, "root-only-key")
    cert, key = ke.make_cert(tls)
    k = env.start_kairand(tls_cert=cert, tls_key=key)

    def served_cert():
        with connect(k.imaps_port, tls=True) as c:
            return c.sock.getpeercert(binary_form=True)

    before = served_cert()
    fresh = os.path.join(env.root, "root-only-key-fresh")
    new_cert, new_key = ke.make_cert(fresh)
    shutil.copyfile(new_cert, cert)
    shutil.copyfile(new_key, key)
    os.chown(key, 0, 0)
    os.chmod(key, 0o600)
    os.kill(k.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "keeping the old certificate" not in k.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "keeping the old certificate" in k.log_text()
    assert served_cert() == before
    k.stop()
