"""Service management (issue 14, 2): kairand speaks systemd's readiness
protocol itself, and SIGHUP reloads the configuration and the certificate.

sd_notify(3) and systemd.service(5), "Type=notify" / "Type=notify-reload":
the service sends datagrams of newline-separated KEY=VALUE assignments to
the AF_UNIX socket in $NOTIFY_SOCKET (a path, or '@' for the abstract
namespace): READY=1 once start-up is finished, RELOADING=1 with
MONOTONIC_USEC= when a reload begins and READY=1 when it is done,
STOPPING=1 when it begins to shut down, STATUS= free text. Here a Python
datagram socket plays the service manager."""

import os
import re
import shutil
import signal
import socket
import ssl
import time

import pytest

from imapclient import connect, login, ok
import kairan_env as ke


class Manager:
    """A datagram socket standing in for systemd's notification socket."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.messages = []

    def next(self, timeout=10):
        """The next notification as {KEY: VALUE}."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        self.messages.append(data)
        return dict(line.split("=", 1) for line in data.split("\n") if line)

    def wait_for(self, key, timeout=10):
        """Reads notifications until one carries `key`; returns it and the
        ones before it."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {key} within {timeout} s; got {seen}")
            try:
                msg = self.next(left)
            except socket.timeout:
                raise AssertionError(f"no {key} within {timeout} s; got {seen}") from None
            seen.append(msg)
            if key in msg:
                return msg, seen

    def close(self):
        self.sock.close()


def start(env, manager_address, **config):
    k = ke.Kairand(env.build, env._workdir("service"), env.make_config(**config))
    k.extra_env = {"NOTIFY_SOCKET": manager_address}
    env.extras.append(k)
    return k.start(migrate=False)


def uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def capability_appendlimit(port):
    with login(port, "alice") as c:
        caps = b" ".join(ok(c, "CAPABILITY"))
    return int(re.search(rb"APPENDLIMIT=(\d+)", caps).group(1))


def wait_for_log(k, text, timeout=10):
    deadline = time.monotonic() + timeout
    while text not in k.log_text():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{k.log_text()[-2000:]}"
        time.sleep(0.05)


def test_ready_reloading_stopping_over_a_socket_path(env):
    path = os.path.join(env.root, f"notify-{os.getpid()}.sock")
    m = Manager(path)
    if os.geteuid() == 0:
        os.chmod(path, 0o600)   # root's only: kairand connects before the drop
    try:
        k = start(env, path)
        ready, _ = m.wait_for("READY")
        assert ready["READY"] == "1"
        assert "STATUS" in ready
        # READY means serving: the port answers, and root is already gone.
        with connect(k.imap_port) as c:
            assert c.greeting.startswith(b"* OK")
        if os.geteuid() == 0:
            assert uid_of(k.pid) != 0
        # STATUS= follows the number of connections (at most every 5 s).
        with login(k.imap_port, "alice"):
            deadline = time.monotonic() + 12
            while True:
                status, _ = m.wait_for("STATUS", timeout=deadline - time.monotonic())
                if status["STATUS"].startswith("serving 1 IMAP"):
                    break

        os.kill(k.pid, signal.SIGHUP)
        reloading, _ = m.wait_for("RELOADING")
        assert reloading["RELOADING"] == "1"
        # CLOCK_MONOTONIC in microseconds, as systemd compares it with its own.
        usec = int(reloading["MONOTONIC_USEC"])
        assert abs(usec / 1e6 - time.monotonic()) < 30
        ready, _ = m.wait_for("READY")
        assert ready["READY"] == "1"

        k.proc.send_signal(signal.SIGTERM)
        stopping, _ = m.wait_for("STOPPING")
        assert stopping["STOPPING"] == "1"
        assert k.wait(10) == 0
    finally:
        m.close()
        os.unlink(path)


def test_ready_over_an_abstract_socket(env):
    name = f"kairan-test-notify-{os.getpid()}"
    m = Manager("\0" + name)
    try:
        k = start(env, "@" + name)
        ready, _ = m.wait_for("READY")
        assert ready["READY"] == "1"
        k.stop()
    finally:
        m.close()


def test_without_notify_socket_nothing_changes(env):
    # The shared instance runs without NOTIFY_SOCKET and serves.
    with connect(env.imap_port) as c:
        assert c.greeting.startswith(b"* OK")


def test_sighup_applies_live_keys_and_keeps_fixed_ones(env):
    k = ke.Kairand(env.build, env._workdir("reload"), env.make_config(
        max_literal_size="1000000", timeout_preauth="3600"))
    env.extras.append(k)
    k.start(migrate=False)
    assert capability_appendlimit(k.imap_port) == 1000000
    old_session = login(k.imap_port, "alice")
    try:
        k.config["max_literal_size"] = "2000000"
        k.config["timeout_preauth"] = "1"
        k.config["workers"] = "2"               # fixed: needs a restart
        k.write_config()
        os.kill(k.pid, signal.SIGHUP)
        wait_for_log(k, "SIGHUP: reloaded")
        log = k.log_text()
        assert "only a restart changes workers: keeping the old value" in log, log
        # New sessions see the new limit; one opened before keeps its own.
        assert capability_appendlimit(k.imap_port) == 2000000
        caps = b" ".join(ok(old_session, "CAPABILITY"))
        assert b"APPENDLIMIT=1000000" in caps
        # Timeouts apply to everyone at once: an idle client is logged out.
        with connect(k.imap_port) as c:
            t0 = time.monotonic()
            bye = c.readline(timeout=10)
            assert bye.startswith(b"* BYE"), bye
            assert time.monotonic() - t0 < 5
    finally:
        old_session.close()
        k.stop()


@pytest.mark.parametrize("broken", [
    "no_such_key = 1\n",
    "max_literal_size = -5\n",
    "timeout_idle\n",
])
def test_a_broken_config_keeps_the_old_settings(env, broken):
    k = ke.Kairand(env.build, env._workdir("broken"), env.make_config(max_literal_size="1000000"))
    env.extras.append(k)
    k.start(migrate=False)
    with open(k.conf_path, "a") as f:
        f.write("max_literal_size = 3000000\n" + broken)
    os.kill(k.pid, signal.SIGHUP)
    wait_for_log(k, "keeping the old certificate and configuration")
    assert k.running
    assert capability_appendlimit(k.imap_port) == 1000000
    k.stop()


def test_sighup_follows_tls_cert_and_tls_key_to_new_files(env):
    """The certificate named by new values of tls_cert and tls_key serves
    new connections; a TLS session opened before goes on unaffected."""
    base = os.path.join(env.root, "reload-tls-paths")
    cert, key = ke.make_cert(os.path.join(base, "old"))
    k = ke.Kairand(env.build, env._workdir("tlspaths"), env.make_config(tls_cert=cert, tls_key=key))
    env.extras.append(k)
    k.start(migrate=False)

    def served_cert():
        with connect(k.imaps_port, tls=True) as c:
            return c.sock.getpeercert(binary_form=True)

    before = served_cert()
    open_session = connect(k.imaps_port, tls=True)
    try:
        new_cert, new_key = ke.make_cert(os.path.join(base, "new"))
        k.config["tls_cert"], k.config["tls_key"] = new_cert, new_key
        k.write_config()
        os.kill(k.pid, signal.SIGHUP)
        wait_for_log(k, "SIGHUP: reloaded")
        after = served_cert()
        assert after != before
        with open(new_cert) as f:
            assert ssl.PEM_cert_to_DER_cert(f.read()) == after
        # The session that began under the old certificate still works.
        assert open_session.sock.getpeercert(binary_form=True) == before
        tagged, _ = open_session.cmd("n", "NOOP")
        assert tagged.startswith(b"n OK")
    finally:
        open_session.close()
    # A key that does not match the certificate: the reload fails whole.
    shutil.copyfile(os.path.join(base, "old", "key.pem"), new_key + ".bad")
    ke.share_key_with_kairand(new_key + ".bad")
    k.config["tls_key"] = new_key + ".bad"
    k.config["max_literal_size"] = "4000000"
    k.write_config()
    os.kill(k.pid, signal.SIGHUP)
    wait_for_log(k, "keeping the old certificate and configuration")
    assert served_cert() == after
    assert capability_appendlimit(k.imap_port) != 4000000
    k.stop()


def test_tls_cannot_be_turned_on_by_a_reload(env):
    """What a server without a certificate offers (no STARTTLS, no imaps
    listener) is set up at start: a reload that adds tls_cert says it needs
    a restart and applies the rest."""
    k = ke.Kairand(env.build, env._workdir("notls"), env.make_config(
        tls_cert="", tls_key="", imaps_listen="", max_literal_size="1000000"))
    env.extras.append(k)
    k.start(migrate=False)
    cert, key = ke.make_cert(os.path.join(env.root, "notls-cert"))
    k.config.update(tls_cert=cert, tls_key=key, max_literal_size="2000000")
    k.write_config()
    os.kill(k.pid, signal.SIGHUP)
    wait_for_log(k, "SIGHUP: reloaded")
    assert "turning TLS on takes a restart" in k.log_text()
    with connect(k.imap_port) as c:
        tagged, untagged = c.cmd("c", "CAPABILITY")
        assert b"STARTTLS" not in b" ".join(untagged)
    assert capability_appendlimit(k.imap_port) == 2000000
    k.stop()
