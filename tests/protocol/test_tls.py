"""TLS: STARTTLS (RFC 3501 §6.2.1, RFC 2595) and implicit TLS (RFC 8314),
protocol versions, injection, certificate reload."""

import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import time

import pytest

from imapclient import connect, insecure_context
import kairan_env as ke


def s_client(args, stdin, timeout=15):
    return subprocess.run(["openssl", "s_client", "-connect"] + args, input=stdin,
                          capture_output=True, timeout=timeout)


def test_openssl_s_client_starttls(env):
    r = s_client([f"127.0.0.1:{env.imap_port}", "-starttls", "imap", "-quiet"],
                 b"a LOGIN alice secret\r\nb LOGOUT\r\n")
    assert b"a OK" in r.stdout and b"b OK" in r.stdout, r.stdout + r.stderr


def test_openssl_s_client_implicit_tls(env):
    r = s_client([f"127.0.0.1:{env.imaps_port}", "-quiet"], b"a CAPABILITY\r\nb LOGOUT\r\n")
    assert r.stdout.startswith(b"* OK [CAPABILITY IMAP4rev1"), r.stdout + r.stderr
    # RFC 8314: on an implicit-TLS port there is nothing to STARTTLS.
    assert b"STARTTLS" not in r.stdout
    assert b"b OK" in r.stdout


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_accepted(env, version):
    ctx = insecure_context()
    ctx.minimum_version = ctx.maximum_version = version
    with connect(env.imaps_port, read_greeting=False) as c:
        c.sock = ctx.wrap_socket(c.sock, server_hostname="localhost")
        assert c.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                    ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        assert c.read_response().startswith(b"* OK")


@pytest.mark.parametrize("flag", ["-tls1_1", "-tls1"])
def test_old_tls_versions_are_refused(env, flag):
    # SECLEVEL=0 lets the client offer the old version; the server must say no.
    r = s_client([f"127.0.0.1:{env.imaps_port}", flag, "-cipher", "DEFAULT:@SECLEVEL=0"],
                 b"a LOGOUT\r\n")
    assert b"* OK" not in r.stdout
    assert r.returncode != 0


def test_tls12_renegotiation_is_refused(env):
    # s_client renegotiates when a line is just "R" (interactive mode).
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{env.imaps_port}",
                          "-tls1_2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        p.stdin.write(b"R\n")
        p.stdin.flush()
        time.sleep(0.5)
        p.stdin.write(b"a NOOP\r\n")
        p.stdin.flush()
        out, _ = p.communicate(timeout=10)
    except (BrokenPipeError, subprocess.TimeoutExpired):
        p.kill()
        out, _ = p.communicate()
    assert b"RENEGOTIATING" in out
    assert b"a OK" not in out, out[-500:]


def test_starttls_discards_pipelined_plaintext(env):
    """RFC 3501 §6.2.1 / RFC 2595 §3.1: commands sent after STARTTLS in the
    same write were sent before TLS and must never be executed."""
    with connect(env.imap_port) as c:
        c.send(b"a STARTTLS\r\nb LOGIN alice secret\r\n")
        tagged, _ = c.read_tagged("a")
        assert tagged.startswith(b"a OK")
        try:
            c.sock = insecure_context().wrap_socket(c.sock, server_hostname="localhost")
        except (ssl.SSLError, OSError):
            return  # the injected bytes reached the handshake: also safe
        tagged, untagged = c.cmd("c", "CAPABILITY")
        assert tagged.startswith(b"c OK")
        assert not any(line.startswith(b"b ") for line in untagged)
        # Still not logged in: the injected LOGIN did not run.
        assert b"AUTH=PLAIN" in untagged[0]
        tagged, _ = c.cmd("d", "ENABLE X")
        assert tagged.startswith(b"d BAD")


def test_second_starttls_and_starttls_after_login_are_bad(env):
    with connect(env.imap_port) as c:
        assert c.starttls("s").startswith(b"s OK")
        tagged, _ = c.cmd("t", "STARTTLS")
        assert tagged.startswith(b"t BAD"), tagged
    with connect(env.imap_port) as c:
        assert c.cmd("a", "LOGIN alice secret")[0].startswith(b"a OK")
        tagged, _ = c.cmd("s", "STARTTLS")
        assert tagged.startswith(b"s BAD"), tagged
    with connect(env.imaps_port, tls=True) as c:
        tagged, _ = c.cmd("s", "STARTTLS")
        assert tagged.startswith(b"s BAD"), tagged


def test_capability_after_starttls_changes(env):
    with connect(env.imap_port) as c:
        assert b"STARTTLS" in c.greeting
        c.starttls()
        tagged, untagged = c.cmd("c", "CAPABILITY")
        assert untagged[0].startswith(b"* CAPABILITY IMAP4rev1")
        assert b"STARTTLS" not in untagged[0]


def test_pipelined_commands_inside_tls_are_all_answered(env):
    """Many commands in one TLS write: bytes OpenSSL already decrypted and
    holds (SSL_pending) must not wait for another socket event."""
    with connect(env.imaps_port, tls=True) as c:
        c.send(b"".join(b"n%d NOOP\r\n" % i for i in range(500)))
        for i in range(500):
            tagged, _ = c.read_tagged(b"n%d" % i)
            assert tagged.startswith(b"n%d OK" % i)


def test_sighup_reloads_the_certificate(env, tmp_path):
    # Under the environment's root, which kairand (no longer root by the
    # time of a SIGHUP) can traverse; pytest's tmp_path is private to us.
    tmp_path = pathlib.Path(env.root) / "sighup-reload"
    tls = tmp_path / "tls"
    cert, key = ke.make_cert(str(tls))
    k = env.start_kairand(tls_cert=cert, tls_key=key)

    def served_cert():
        with connect(k.imaps_port, tls=True) as c:
            return c.sock.getpeercert(binary_form=True)

    before = served_cert()
    fresh = tmp_path / "fresh"
    new_cert, new_key = ke.make_cert(str(fresh))
    shutil.copy(new_cert, cert)
    shutil.copy(new_key, key)
    os.kill(k.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while served_cert() == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert served_cert() != before
    # A broken file keeps the old pair in service.
    with open(cert, "w") as f:
        f.write("not a certificate\n")
    os.kill(k.pid, signal.SIGHUP)
    time.sleep(0.5)
    assert served_cert() is not None
    k.stop()


def test_a_tls_peer_that_resets_does_not_fail_the_next_connection(env):
    """OpenSSL reports errors through a per-thread queue that SSL_get_error
    reads, and kairand's one loop thread serves every TLS connection: what
    goes wrong with one peer (here a reset, and a close_notify that cannot
    be sent) must not fail the next connection. Each reset is followed at
    once by a new session that must work."""
    import socket
    import struct
    for i in range(20):
        a = connect(env.imaps_port, tls=True)
        raw = a.sock
        # SO_LINGER 0: close() sends RST instead of FIN.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        time.sleep(0.05)
        b = connect(env.imaps_port, tls=True)
        tagged, _ = b.cmd("n", "NOOP")
        assert tagged.startswith(b"n OK"), (i, tagged)
        b.close()
