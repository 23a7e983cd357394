"""A real client: offlineimap (Debian package offlineimap3) over implicit TLS
to 127.0.0.1, verifying the demo's self-signed certificate (issue 14, 8).

offlineimap does not let OpenSSL check the name: its own check
(imapserver.py, __verifycert) compares the host name it connects to with
the certificate's commonName and DNS-type subjectAltNames only, so an
`IP:127.0.0.1` entry alone makes it refuse 127.0.0.1 ("no matching domain
name found in certificate"). The harness's certificate (kairan_env.CERT_SAN)
names 127.0.0.1 as a DNS name too."""

import os
import shutil
import subprocess

import pytest

from imapclient import login, ok
import kairan_env as ke

OFFLINEIMAP = shutil.which("offlineimap")
pytestmark = pytest.mark.skipif(OFFLINEIMAP is None, reason="offlineimap not installed "
                                "(Debian package offlineimap3: make deps)")


def make_cert_with_san(dir, san):
    os.makedirs(dir, exist_ok=True)
    cert, key = os.path.join(dir, "cert.pem"), os.path.join(dir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=localhost",
                    "-addext", f"subjectAltName={san}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    ke.share_key_with_kairand(key)
    return cert, key


def offlineimap(home, port, cert):
    """One sync of alice's INBOX into home/mail; returns (status, output)."""
    rc = os.path.join(home, "offlineimaprc")
    with open(rc, "w") as f:
        f.write(f"""\
[general]
accounts = demo
metadata = {home}/meta

[Account demo]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {home}/mail

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = {port}
ssl = yes
sslcacertfile = {cert}
remoteuser = alice
remotepass = secret
folderfilter = lambda folder: folder == 'INBOX'
""")
    r = subprocess.run([OFFLINEIMAP, "-c", rc, "-o", "-u", "basic"], capture_output=True,
                       text=True, errors="replace", timeout=120,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                            "LC_ALL": "C.UTF-8"})
    return r.returncode, r.stdout + r.stderr


def test_offlineimap_accepts_the_demo_certificate_at_127_0_0_1(env):
    root = os.path.join(env.root, "offlineimap")
    cert, key = ke.make_cert(os.path.join(root, "tls"))
    k = env.start_kairand(tls_cert=cert, tls_key=key)
    subject = f"offlineimap {os.getpid()}"
    with login(k.imap_port, "alice") as c:
        msg = f"Subject: {subject}\r\n\r\nhello\r\n"
        ok(c, "APPEND INBOX {%d+}\r\n%s" % (len(msg), msg))
    home = os.path.join(root, "home")
    os.makedirs(home, exist_ok=True)
    status, out = offlineimap(home, k.imaps_port, cert)
    assert status == 0 and "no matching domain name" not in out, out
    found = []
    for d, _, files in os.walk(os.path.join(home, "mail")):
        for name in files:
            with open(os.path.join(d, name), "rb") as f:
                if subject.encode() in f.read():
                    found.append(name)
    assert len(found) == 1, out
    k.stop()


def test_offlineimap_refuses_a_certificate_naming_127_0_0_1_only_as_an_address(env):
    """Why CERT_SAN carries DNS:127.0.0.1: without it, offlineimap refuses."""
    root = os.path.join(env.root, "offlineimap-ip-only")
    cert, key = make_cert_with_san(os.path.join(root, "tls"), "DNS:localhost,IP:127.0.0.1")
    k = env.start_kairand(tls_cert=cert, tls_key=key)
    home = os.path.join(root, "home")
    os.makedirs(home, exist_ok=True)
    status, out = offlineimap(home, k.imaps_port, cert)
    assert status != 0 and "no matching domain name found in certificate" in out, out
    k.stop()
