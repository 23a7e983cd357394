"""The check of issue 14: import a Maildir with folders, flags and keywords
with kairanctl import, pull it back into an empty Maildir with mbsync
(isync 1.4): identical (docs/migration.md)."""

import os
import shutil

import pytest

from test_import_export import dovecot_maildir, imported
from test_mbsync import mbsync, snapshot_tree, strip_tuid, write_rc

MBSYNC = shutil.which("mbsync")

@pytest.mark.skipif(MBSYNC is None, reason="mbsync (Debian isync) is not installed")
def test_mbsync_pulls_back_what_was_imported(env, tmp_path):
    """Import a Maildir with folders, flags and keywords, pull the account
    into an empty Maildir with mbsync: the same folders, the same messages
    (mbsync adds its X-TUID line: taken out), the same flags (mbsync 1.4
    syncs the system flags and $Forwarded as P, not other keywords)."""

    user = env.new_user("imp")
    src = dovecot_maildir(str(tmp_path / "src"))
    assert imported(env, user, src)[:3] == (7, 0, 0)
    dst = str(tmp_path / "dst")
    os.makedirs(dst)
    rc = write_rc(str(tmp_path / "mbsyncrc"), env, user, dst)
    mbsync(rc, str(tmp_path))

    def contents(folder_dir, strip):
        out = set()
        for sub in ("cur", "new"):
            for name in os.listdir(os.path.join(folder_dir, sub)):
                with open(os.path.join(folder_dir, sub, name), "rb") as f:
                    data = f.read()
                letters = name.rpartition(":2,")[2] if ":2," in name else ""
                system = "".join(sorted(ch for ch in letters if ch.isupper()))
                out.add((strip(data) if strip else data, system))
        return out

    for src_dir, dst_dir in ((src, "INBOX"), (os.path.join(src, ".Lists.dev"), "Lists/dev"),
                             (os.path.join(src, ".Caf&AOk-"), "Caf&AOk-")):
        assert contents(src_dir, None) == contents(os.path.join(dst, dst_dir), strip_tuid), dst_dir

    # A second import copies nothing, so a second sync changes nothing.
    assert imported(env, user, src)[:3] == (0, 7, 0)
    before = snapshot_tree(dst)
    mbsync(rc, str(tmp_path))
    after = snapshot_tree(dst)
    assert {k: v for k, v in after.items() if ".mbsyncstate" not in k} == \
        {k: v for k, v in before.items() if ".mbsyncstate" not in k}
