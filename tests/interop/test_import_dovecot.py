"""kairanctl import from a real Dovecot 2.3 (Debian dovecot-imapd), both
ways an admin would (docs/migration.md):

- over IMAP, from the running server (imap://, plaintext on loopback:
  the private Dovecot of tests/bench/dovecot_env.py has ssl = no);
- from the Maildir++ tree Dovecot itself wrote (dovecot-uidlist,
  dovecot-keywords, subscriptions, file names and mtimes as Dovecot makes
  them), as when the old server is already stopped.

The account is filled through Dovecot's own IMAP (APPEND with flags,
keywords and dates, CREATE, SUBSCRIBE, an EXPUNGE for a gap in the UIDs),
and after each import every mailbox must look the same through Kairan as
through Dovecot: UIDVALIDITY, UIDNEXT, UIDs, flags, keywords,
INTERNALDATE, bytes; LSUB the same subscriptions.
"""

import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "bench"))

import dovecot_env  # noqa: E402
from imapclient import connect, ok  # noqa: E402
from test_import_export import (crlf, fetch_all, imported, message, names,  # noqa: E402
                                password_file, select, session)

pytestmark = pytest.mark.skipif(not dovecot_env.available(),
                                reason="Dovecot (Debian dovecot-imapd) is not installed")

FOLDERS = ("INBOX", "Lists/dev", "Caf&AOk-")


@pytest.fixture(scope="module")
def dovecot():
    """Under /tmp, not pytest's tmp_path: Dovecot's mail processes run as
    nobody and need every directory above the homes to be searchable."""
    top = tempfile.mkdtemp(prefix="kairan-dovecot-")
    os.chmod(top, 0o755)
    d = dovecot_env.Dovecot(top, "secret").start()
    yield d
    d.stop()
    shutil.rmtree(top, ignore_errors=True)


def dovecot_session(d, user):
    c = connect(d.port)
    ok(c, f"LOGIN {user} secret", tag="l")
    return c


def fill(d, user):
    d.prepare_user(user)
    c = dovecot_session(d, user)
    # Dovecot's default namespace separator for Maildir++ is "."; "/" is
    # what Kairan uses. LIST tells the importer which.
    sep = ok(c, 'LIST "" ""')[0].split(b'"')[1].decode()
    for box in FOLDERS[1:]:
        ok(c, f'CREATE "{box.replace("/", sep)}"')
    ok(c, f'SUBSCRIBE "{"Lists/dev".replace("/", sep)}"')
    for box, flags, date, subject in [
            ("INBOX", "\\Seen", "01-Mar-2024 12:00:00 +0000", "alpha"),
            ("INBOX", "\\Flagged Work", "02-Mar-2024 08:00:00 +0000", "beta"),
            ("INBOX", "\\Deleted", "03-Mar-2024 08:00:00 +0000", "gone"),
            ("INBOX", "$Forwarded \\Answered $Label1", "04-Mar-2024 09:30:00 +0000", "gamma"),
            ("Lists/dev", "", "05-Mar-2024 10:00:00 +0000", "plan"),
            ("Caf&AOk-", "\\Draft", "06-Mar-2024 10:00:00 +0000", "menu")]:
        raw = crlf(message(subject))
        c.send(f'a APPEND "{box.replace("/", sep)}" ({flags}) "{date}" {{{len(raw)}}}\r\n'
               .encode())
        assert c.readline().startswith(b"+")
        c.send(raw + b"\r\n")
        assert c.read_tagged("a")[0].startswith(b"a OK")
    ok(c, "SELECT INBOX")
    ok(c, "EXPUNGE")
    c.close()
    return sep


def assert_same(d, user, kairan_env, kairan_user, sep):
    cd, ck = dovecot_session(d, user), session(kairan_env, kairan_user)
    for box in FOLDERS:
        theirs = box.replace("/", sep)
        assert select(cd, theirs) == select(ck, box), box
        assert fetch_all(cd, theirs) == fetch_all(ck, box), box
    assert sorted(fetch_all(ck, "INBOX")) == [1, 2, 4]
    assert "Lists/dev" in names(ck, "LSUB")
    cd.close()
    ck.close()


def test_import_from_dovecot_over_imap(env, dovecot, tmp_path):
    user, dst = "imapsrc", env.new_user("fromdc")
    sep = fill(dovecot, user)
    args = (dst, f"imap://{user}@127.0.0.1:{dovecot.port}", "--password-file",
            password_file(tmp_path))
    n, known, failed, warnings = imported(env, *args)
    assert (n, known, failed) == (5, 0, 0), warnings
    assert_same(dovecot, user, env, dst, sep)
    assert imported(env, *args)[:3] == (0, 5, 0)


def test_import_dovecots_own_maildir(env, dovecot, tmp_path):
    user, dst = "mdsrc", env.new_user("fromdc")
    sep = fill(dovecot, user)
    root = os.path.join(dovecot.home(user), "Maildir")
    assert os.path.exists(os.path.join(root, "dovecot-uidlist"))
    n, known, failed, warnings = imported(env, dst, root)
    assert (n, known, failed) == (5, 0, 0), warnings
    assert_same(dovecot, user, env, dst, sep)
    assert imported(env, dst, root)[:3] == (0, 5, 0)
