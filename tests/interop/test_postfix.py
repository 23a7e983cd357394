"""A real MTA: Postfix (Debian's postfix, 3.7) takes mail over SMTP and
delivers it to kairand over LMTP (docs/delivery.md, "Postfix"); the test
reads it back over IMAP.

Postfix runs as a private instance from a configuration directory in a
temporary folder (`postfix -c DIR start`): its own queue_directory and
data_directory, inet_interfaces 127.0.0.1, an SMTP listener on a free
loopback port, no chroot, its log in a file (maillog_file), and
virtual_transport = lmtp:inet:127.0.0.1:<the test kairand's LMTP port>
for the domain example.org. It is stopped at the end (`postfix -c DIR
stop`, then abort if it lingers). Starting Postfix needs root (the master
drops to mail_owner postfix); the test is skipped only when the postfix
binaries are missing (CI installs the package: tests/harness/deps.sh)."""

import os
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest

import kairan_env as ke
from lmtpclient import messages

POSTFIX = shutil.which("postfix") or ("/usr/sbin/postfix" if os.path.exists("/usr/sbin/postfix") else None)
DIST_MASTER = "/usr/share/postfix/master.cf.dist"
TIMEOUT = 60
# With a Date (and a Message-ID), Postfix's cleanup adds no header but its
# Received: the message arrives as sent below that line.
DATE = "Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n"

pytestmark = pytest.mark.skipif(POSTFIX is None or not os.path.exists(DIST_MASTER),
                                reason="Postfix is not installed (apt-get install postfix)")


def master_cf(smtp_port):
    """Debian's master.cf without chroot (the instance's files are outside
    any chroot), with smtpd on 127.0.0.1:smtp_port only."""
    out = []
    with open(DIST_MASTER) as f:
        for line in f:
            fields = line.split()
            if not line[0].isalnum() or len(fields) < 8:
                if not line.startswith(" "):
                    out.append(line)
                continue
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = f"127.0.0.1:{smtp_port}"
            if fields[0] in ("maildrop", "uucp", "ifmail", "bsmtp", "scalemail-backend",
                             "mailman"):
                continue   # pipes to programs that are not installed
            fields[4] = "n"
            out.append(" ".join(fields[:8]) + (" " + " ".join(fields[8:]) if fields[8:] else "") + "\n")
    return "".join(out)


class Postfix:
    def __init__(self, root, smtp_port, lmtp_port):
        self.dir = os.path.join(root, "etc")
        self.queue = os.path.join(root, "queue")
        self.data = os.path.join(root, "data")
        self.log = os.path.join(root, "maillog")
        self.smtp_port = smtp_port
        for d in (self.dir, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        os.chmod(root, 0o755)
        shutil.chown(self.data, "postfix", "postfix")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "mx.kairan-test.example",
            "mydomain": "kairan-test.example",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "relayhost": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "virtual_mailbox_domains": "example.org",
            "virtual_transport": f"lmtp:inet:127.0.0.1:{lmtp_port}",
            "lmtp_destination_recipient_limit": "50",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtputf8_enable": "yes",
            "maillog_file": self.log,
            "maillog_file_prefixes": root,
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtpd_banner": "$myhostname ESMTP",
            "biff": "no",
        }
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(master_cf(smtp_port))

    def postfix(self, *args, check=True):
        r = subprocess.run([POSTFIX, "-c", self.dir, *args], capture_output=True, text=True,
                           timeout=TIMEOUT)
        if check and r.returncode != 0:
            raise AssertionError(f"postfix {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}\n"
                                 f"{self.log_text()}")
        return r

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return "(no log)"

    def start(self):
        self.postfix("check")
        self.postfix("start")
        ke.wait_for_tcp("127.0.0.1", self.smtp_port, 30, what="postfix smtpd", log=self.log)
        return self

    def stop(self):
        if self.postfix("stop", check=False).returncode != 0:
            self.postfix("abort", check=False)


@pytest.fixture
def postfix(env):
    if os.geteuid() != 0:
        pytest.fail("the Postfix test needs root: its master starts as root and drops to postfix")
    # Not pytest's tmp_path: its parents are private to root, and the
    # postfix user must reach the queue.
    root = tempfile.mkdtemp(prefix="kairan-postfix-", dir="/tmp")
    p = Postfix(root, ke.free_port(), env.lmtp_port)
    try:
        yield p.start()
    finally:
        p.stop()
    shutil.rmtree(root, ignore_errors=True)


def wait_messages(env, user, n, postfix):
    """BODY[] of the user's INBOX messages once there are n (Postfix
    delivers in the background)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        out = messages(env, user)
        if len(out) >= n:
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(out)} of {n} messages for {user} after {TIMEOUT} s; "
                                 f"postfix log:\n{postfix.log_text()}")
        time.sleep(0.3)


def test_postfix_smtp_in_lmtp_out_imap_back(env, postfix):
    """SMTP to Postfix, LMTP from Postfix to kairand, IMAP from kairand:
    the body arrives intact, with kairand's Return-Path (the envelope
    sender Postfix gave in MAIL FROM) and Postfix's Received on top; two
    recipients in one LMTP transaction (lmtp_destination_recipient_limit)
    get one copy each; an unknown recipient is refused by kairand at RCPT
    (550 5.1.1) and Postfix bounces it to the sender, which the others do
    not see."""
    u1, u2 = env.new_user("pf"), env.new_user("pf")
    text = ("From: Sender <sender@elsewhere.example>\r\nTo: team@example.org\r\n"
            "Subject: through Postfix\r\nMessage-ID: <postfix-1@elsewhere.example>\r\n" + DATE + "\r\n"
            "Hello over SMTP and LMTP.\r\n.leading dot\r\n").encode()
    with smtplib.SMTP("127.0.0.1", postfix.smtp_port, timeout=TIMEOUT) as s:
        refused = s.sendmail("sender@elsewhere.example",
                             [f"{u1}@example.org", f"{u2}@example.org", "nobody-pf@example.org"], text)
    assert refused == {}   # Postfix accepts all three; kairand decides later
    got1 = wait_messages(env, u1, 1, postfix)
    got2 = wait_messages(env, u2, 1, postfix)
    for got in (got1, got2):
        assert len(got) == 1
        head, _, rest = got[0].partition(b"\r\n")
        assert head == b"Return-Path: <sender@elsewhere.example>"
        assert rest.startswith(b"Received: from ")
        assert got[0].endswith(text)
    deadline = time.monotonic() + TIMEOUT
    while b"nobody-pf@example.org" not in postfix.log_text().encode() or \
            b"status=bounced" not in postfix.log_text().encode():
        assert time.monotonic() < deadline, postfix.log_text()
        time.sleep(0.3)
    log = postfix.log_text()
    assert "5.1.1" in log and "lmtp" in log


def test_postfix_smtputf8_and_8bit(env, postfix):
    """A UTF-8 envelope sender (RFC 6531, SMTPUTF8 through Postfix to
    kairand's LMTP) and an 8-bit body (RFC 6152) arrive as sent."""
    user = env.new_user("pf")
    sender = "j\u00f6rg@elsewhere.example"
    text = ("From: J\u00f6rg <j\u00f6rg@elsewhere.example>\r\nSubject: gr\u00fc\u00dfe\r\n"
            "Message-ID: <postfix-2@elsewhere.example>\r\n" + DATE + "\r\nS\u00fc\u00dfe Gr\u00fc\u00dfe.\r\n").encode()
    with smtplib.SMTP("127.0.0.1", postfix.smtp_port, timeout=TIMEOUT) as s:
        s.ehlo("client.example")
        assert s.has_extn("smtputf8")
        s.sendmail(sender, [f"{user}@example.org"], text, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    got = wait_messages(env, user, 1, postfix)
    assert got[0].startswith(f"Return-Path: <{sender}>\r\n".encode())
    assert got[0].endswith(text)
