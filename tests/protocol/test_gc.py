"""kairanctl gc: content no mailbox refers to is deleted; content still
referenced, or re-delivered, is kept (DESIGN.md single-instance store)."""

import subprocess

from imapclient import connect


def gc(env):
    k = env.kairand
    r = subprocess.run([k.kairanctl, "-c", k.conf_path, "gc", "--grace", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def count(env, marker):
    return int(env.pg.psql(
        f"SELECT count(*) FROM messages WHERE position('{marker}'::bytea in raw) > 0"))


def append(c, tag, mailbox, raw):
    c.send(f"{tag} APPEND {mailbox} {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
    return c.read_tagged(tag)[0]


def test_gc_removes_only_unreferenced_content(env):
    user = env.new_user("gc")
    gone = b"Subject: gc-gone\r\n\r\nbody gone\r\n"
    kept = b"Subject: gc-kept\r\n\r\nbody kept\r\n"
    with connect(env.imap_port) as c:
        c.cmd("l", f"LOGIN {user} secret")
        for mailbox in ("INBOX", "Archive"):
            assert append(c, "a", mailbox, gone).startswith(b"a OK")
        assert append(c, "b", "INBOX", kept).startswith(b"b OK")
        assert count(env, "gc-gone") == 1 and count(env, "gc-kept") == 1
        # Expunged from INBOX only: still referenced by Archive.
        c.cmd("s", "SELECT INBOX")
        c.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.cmd("x", "EXPUNGE")
        assert "removed 0 " in gc(env) or count(env, "gc-gone") == 1
        assert count(env, "gc-gone") == 1
        # Expunged everywhere: collected; the other message stays.
        c.cmd("s2", "SELECT Archive")
        c.cmd("d2", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.cmd("x2", "EXPUNGE")
        out = gc(env)
        assert out.startswith("removed "), out
        assert count(env, "gc-gone") == 0 and count(env, "gc-kept") == 1
        # The same content delivered again after collection is stored afresh.
        assert append(c, "c", "INBOX", gone).startswith(b"c OK")
        c.cmd("s3", "SELECT INBOX")
        _, u = c.cmd("f", "FETCH 2 (BODY.PEEK[])")
        assert gone in u[0]
