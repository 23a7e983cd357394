"""The demo for newcomers (issue 14, 8): `make run` on ports of one's
choosing, beside another server; a certificate that names both localhost
and 127.0.0.1; login by mail address as well as by login name."""

import os
import signal
import smtplib
import ssl
import subprocess
import sys
import time

from imapclient import Client, login, ok
import kairan_env as ke

HARNESS = os.path.join(ke.REPO, "tests", "harness")
sys.path.insert(0, HARNESS)
import run_demo  # noqa: E402


def verifying_context(cert):
    """What a careful client does: trust exactly this certificate and check
    the name connected to against it (RFC 6125)."""
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = True
    return ctx


def test_the_certificate_names_localhost_and_127_0_0_1(env):
    cert, key = ke.make_cert(os.path.join(env.root, "demo-cert"))
    k = env.start_kairand(tls_cert=cert, tls_key=key)
    for name in ("localhost", "127.0.0.1"):
        sock = verifying_context(cert).wrap_socket(
            __import__("socket").create_connection(("127.0.0.1", k.imaps_port), timeout=10),
            server_hostname=name)
        c = Client(sock)
        assert c.read_response().startswith(b"* OK")
        peer = sock.getpeercert()
        c.close()
    san = peer["subjectAltName"]
    # Clients that compare only DNS names and the common name (offlineimap's
    # own check) find 127.0.0.1 too.
    assert ("DNS", "localhost") in san and ("DNS", "127.0.0.1") in san
    assert ("IP Address", "127.0.0.1") in san
    k.stop()


def test_login_by_mail_address_with_the_demo_filter(env):
    k = env.start_kairand(ldap_user_filter=run_demo.DEMO_USER_FILTER)
    with login(k.imap_port, "alice") as a:
        ok(a, "SELECT INBOX")
        before = [line for line in ok(a, "STATUS INBOX (MESSAGES)")]
    with login(k.imap_port, "alice@example.org") as c:
        # The same account: the directory's login, the same INBOX.
        assert [line for line in ok(c, "STATUS INBOX (MESSAGES)")] == before
        untagged = ok(c, "GETACL INBOX")
        assert b" alice " in b" ".join(untagged) + b" "
    k.stop()


def test_make_run_on_other_ports(env):
    """run_demo.py (make run) with every port moved, next to the test
    instance's own servers; it answers on the ports it was given."""
    var = os.path.join(env.root, "demo-var")
    ports = {name: ke.free_port() for name in ("imap", "imaps", "ldap", "lmtp", "metrics")}
    build = os.environ.get("KAIRAN_BUILD", os.path.join(ke.REPO, "build"))
    argv = [sys.executable, os.path.join(HARNESS, "run_demo.py"), "--build", build, "--var", var]
    for name, port in ports.items():
        argv += [f"--{name}-port", str(port)]
    log = open(os.path.join(env.root, "demo-run.log"), "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        ke.wait_for_tcp("127.0.0.1", ports["imap"], 90, proc=proc, what="make run",
                        log=log.name)
        deadline = time.monotonic() + 30
        while b"Kairan demo is running" not in open(log.name, "rb").read():
            assert proc.poll() is None and time.monotonic() < deadline, open(log.name).read()
            time.sleep(0.1)
        banner = open(log.name).read()
        assert f"127.0.0.1:{ports['imap']}" in banner and f"localhost:{ports['imaps']}" in banner
        assert f"http://127.0.0.1:{ports['metrics']}/metrics" in banner
        with login(ports["imap"], "bob@example.org") as c:
            ok(c, "SELECT INBOX")
        # The team addresses of the demo (docs/delivery.md): sales is an
        # admin's, support the LDAP group's; each lands in its team mailbox.
        for team in ("sales@example.org", "support@example.org"):
            with smtplib.LMTP("127.0.0.1", ports["lmtp"]) as s:
                assert s.sendmail("x@example.net", [team],
                                  b"Subject: demo team\r\n\r\nhi\r\n") == {}
        for user, box in (("alice", "Shared/sales"), ("carol", "Shared/support")):
            with login(ports["imap"], user) as c:
                assert any(b" 1 EXISTS" in line for line in ok(c, f"EXAMINE {box}"))
        for name in ("imaps", "ldap", "lmtp", "metrics"):
            ke.wait_for_tcp("127.0.0.1", ports[name], 5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            status = None
        log.close()
    assert status == 0, open(log.name).read()
