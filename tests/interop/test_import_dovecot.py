"""kairanctl import from a real Dovecot 2.3 (Debian dovecot-imapd), both
ways an admin would (docs/migration.md):

- over IMAP, from the running server (imap://, plaintext on loopback:
  the private Dovecot of tests/bench/dovecot_env.py has ssl = no);
- from the Maildir++ tree Dovecot itself wrote (dovecot-uidlist,
  dovecot-keywords, subscriptions, file names and mtimes as Dovecot makes
  them), as when the old server is already stopped.

The account is filled through Dovecot's own IMAP (the samples of
test_import_export.py: APPEND with flags, keywords and dates, CREATE,
SUBSCRIBE, an EXPUNGE for a gap in the UIDs),
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
from test_import_export import (SAMPLE_FOLDERS, append_samples, fetch_all,  # noqa: E402
                                imported, names, password_file, select, session)

pytestmark = pytest.mark.skipif(not dovecot_env.available(),
                                reason="Dovecot (Debian dovecot-imapd) is not installed")

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
    """The samples of test_import_export.py, through Dovecot's IMAP. Its
    default separator for Maildir++ is "."; LIST tells the importer."""
    d.prepare_user(user)
    c = dovecot_session(d, user)
    sep = ok(c, 'LIST "" ""')[0].split(b'"')[1].decode()
    append_samples(c, sep)
    c.close()
    return sep


def assert_same(d, user, kairan_env, kairan_user, sep):
    cd, ck = dovecot_session(d, user), session(kairan_env, kairan_user)
    for box in SAMPLE_FOLDERS:
        theirs = box.replace("/", sep)
        assert select(cd, theirs) == select(ck, box), box
        assert fetch_all(cd, theirs) == fetch_all(ck, box), box
    assert sorted(fetch_all(ck, "INBOX")) == [1, 2, 4]
    assert "Projects/2024" in names(ck, "LSUB")
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
