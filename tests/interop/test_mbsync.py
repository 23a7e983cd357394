"""A real client: mbsync (isync 1.4, Debian package isync) against kairand.

One account, three replicas of it:

    src Maildir  --push-->  Kairan  --pull-->  dst Maildir (empty at first)

- push: mbsync uploads a Maildir of more than 500 messages (the generator of
  tests/protocol/test_roundtrip.py: corpus, edge cases, MIME variations),
  some with flags, in INBOX, Lists and Lists/kairan-dev (CREATEd by mbsync),
  and Kairan holds each one as mbsync sent it;
- pull: into an empty Maildir, and every message comes back byte-identical;
- a second sync of either Maildir changes nothing, on either side;
- flags changed in a Maildir reach the server (and through it the other
  Maildir), flags STOREd on the server reach both Maildirs.

What mbsync itself does to messages (observed with isync 1.4.4, and
asserted, so that a change in either program shows up here):

- Line ends: a Maildir holds LF, IMAP CRLF. mbsync converts LF to CRLF on
  upload and back on download, so the Maildir messages here have LF line
  ends only (every message of the generator, converted) and the server
  holds their CRLF form.
- X-TUID: mbsync adds an "X-TUID: <12 characters>" field at the end of the
  header of every message it copies (replacing one already there), to find
  the copy again; it is not removed afterwards, so the server's copy has
  the one mbsync added on upload, and a pulled file has a new one added on
  download. "Byte-identical" below is therefore: identical once that one
  line is taken out, and the line must be exactly where mbsync puts it.
"""

import hashlib
import os
import re
import shutil
import subprocess
import types

import pytest

from imapclient import connect
from test_roundtrip import build_messages, parse_fetch

MBSYNC = shutil.which("mbsync")
TIMEOUT = 90

TUID_RE = re.compile(rb"^X-TUID: [A-Za-z0-9+/]{12}\r?\n", re.M)

# IMAP system flags and their Maildir info letters (maildir(5); mbsync 1.4
# maps \Deleted to T).
FLAG_LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}
LETTER_FLAGS = {v: k for k, v in FLAG_LETTERS.items()}

FOLDERS = ("INBOX", "Lists", "Lists/kairan-dev")


def maildir_messages():
    """The generator's messages with LF line ends, without duplicates (two
    messages that differ only in line ends become one), without the few
    that hold a CR that is not part of a CRLF (no Maildir form), and
    without those whose header has no blank line after it: mbsync skips
    them ("message N from near side has incomplete header; skipping"),
    since it has nowhere to put its X-TUID field."""
    out, seen = [], set()
    for name, raw in build_messages(n_generated=480, seed=4242):
        lf = raw.replace(b"\r\n", b"\n")
        if b"\r" in lf or lf in seen or not (lf.startswith(b"\n") or b"\n\n" in lf):
            continue
        seen.add(lf)
        out.append((name, lf))
    return out


def strip_tuid(data):
    """data without the X-TUID field mbsync adds, which must be there
    exactly once, as the last field of the header (before the blank line
    or, for a message without one, at its end)."""
    found = list(TUID_RE.finditer(data))
    assert len(found) == 1, f"expected one X-TUID field, found {len(found)}: {data[:300]!r}"
    m = found[0]
    rest = data[m.end():]
    assert rest[:1] in (b"\n", b"") or rest[:2] == b"\r\n", \
        f"X-TUID is not the last header field: {data[:300]!r}"
    return data[:m.start()] + rest


def info_flags(filename):
    """The Maildir info flags of a file name ("...:2,FS" -> "FS")."""
    return filename.rpartition(":2,")[2] if ":2," in filename else ""


def read_maildir(root, folder):
    """{file name: content} of a Maildir folder (new/ and cur/)."""
    path = os.path.join(root, folder)
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        for name in os.listdir(d) if os.path.isdir(d) else ():
            with open(os.path.join(d, name), "rb") as f:
                out[f"{sub}/{name}"] = f.read()
    return out


def snapshot_tree(root):
    """Every file under root (relative path -> content hash), for "nothing
    changed" checks; mbsync's state files are included."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def write_rc(path, env, user, maildir):
    """An mbsyncrc for one Maildir replica of the account. isync 1.4 spells
    the TLS setting SSLType (TLSType is 1.5); loopback plaintext is allowed
    by kairand, and LOGIN must be named for mbsync to use it unencrypted."""
    with open(path, "w") as f:
        f.write(f"""\
IMAPAccount kairan
Host 127.0.0.1
Port {env.imap_port}
User {user}
Pass secret
SSLType None
AuthMechs LOGIN
Timeout 60

IMAPStore kairan-remote
Account kairan

MaildirStore kairan-local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel kairan
Far :kairan-remote:
Near :kairan-local:
Patterns *
Create Both
Sync All
SyncState *
""")
    return path


def mbsync(rc, home):
    """Runs `mbsync -V -c rc -a`; fails the test on a non-zero exit status
    or an error message. Returns the output."""
    r = subprocess.run([MBSYNC, "-V", "-c", rc, "-a"], capture_output=True, text=True,
                       errors="replace", timeout=TIMEOUT,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                            "LC_ALL": "C"})
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"mbsync exited with {r.returncode}:\n{out[-4000:]}"
    bad = [line for line in out.splitlines()
           if re.search(r"error|fail|refus|bad|cannot|skipping", line, re.I)]
    assert not bad, "mbsync reported problems:\n" + "\n".join(bad)
    return out


class Server:
    """The account as kairand sees it, through a raw IMAP session."""

    def __init__(self, env, user):
        self.c = connect(env.imap_port, timeout=60)
        tagged, _ = self.c.cmd("l", f"LOGIN {user} secret")
        assert tagged.startswith(b"l OK"), tagged
        self.n = 0

    def cmd(self, text):
        self.n += 1
        tag = f"t{self.n}"
        tagged, untagged = self.c.cmd(tag, text, timeout=60)
        assert tagged.startswith(f"{tag} OK".encode()), (text, tagged)
        return untagged

    def status(self, folder):
        u = self.cmd(f'STATUS "{folder}" (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)')
        return u[-1]

    def messages(self, folder):
        """{uid: (flags set, BODY[])} of a mailbox, read-only."""
        self.cmd(f'EXAMINE "{folder}"')
        out = {}
        for resp in self.cmd("UID FETCH 1:* (UID FLAGS BODY.PEEK[])"):
            if b" FETCH " not in resp:
                continue
            _, items = parse_fetch(resp)
            flags = {bytes(f).decode() for f in items["FLAGS"]} - {"\\Recent"}
            out[items["UID"]] = (flags, items["BODY[]"])
        return out

    def close(self):
        self.c.close()


def flags_of_letters(letters):
    return {LETTER_FLAGS[ch] for ch in letters if ch in LETTER_FLAGS}


def by_content(files, transform=lambda b: b):
    """{transformed content: (file name, flag letters)}."""
    out = {}
    for name, data in files.items():
        key = transform(data)
        assert key not in out, f"two files with the same message: {out[key][0]} and {name}"
        out[key] = (name, info_flags(name))
    return out


def test_mbsync_push_pull_resync_and_flags(env, tmp_path):
    if MBSYNC is None:
        pytest.fail("mbsync not found: `make deps` installs it (Debian package isync)")
    msgs = maildir_messages()
    assert len(msgs) >= 500, len(msgs)
    user = env.new_user("mbsync")
    home = str(tmp_path)
    src, dst = str(tmp_path / "src"), str(tmp_path / "dst")

    # The source Maildir: messages spread over three folders, one in five
    # with flags, one in three delivered to new/ (no info part).
    want = {f: {} for f in FOLDERS}        # folder -> {content: flag letters}
    for k, (_, data) in enumerate(msgs):
        folder = FOLDERS[0] if k % 10 < 8 else FOLDERS[1 + k % 2]
        flags = ["S", "FS", "R", "D", "RS"][k // 4 % 5] if k % 4 == 0 else ""
        if k % 3 == 0 and not flags:
            sub, name = "new", f"1700000000.M{k}P1.src"
        else:
            sub, name = "cur", f"1700000000.M{k}P1.src:2,{''.join(sorted(flags))}"
        d = os.path.join(src, folder, sub)
        os.makedirs(d, exist_ok=True)
        for other in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(src, folder, other), exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        want[folder][data] = "".join(sorted(flags))
    os.makedirs(dst)
    rc_src = write_rc(os.path.join(home, "src.rc"), env, user, src)
    rc_dst = write_rc(os.path.join(home, "dst.rc"), env, user, dst)

    # 1. Push. The server holds each message in its CRLF form plus the
    #    X-TUID field mbsync added, with the Maildir flags.
    mbsync(rc_src, home)
    server = Server(env, user)
    try:
        for folder in FOLDERS:
            got = server.messages(folder)
            assert len(got) == len(want[folder]), (folder, len(got), len(want[folder]))
            seen = {}
            for uid, (flags, body) in got.items():
                lf = strip_tuid(body).replace(b"\r\n", b"\n")
                assert lf in want[folder], f"{folder} UID {uid}: not a message that was pushed: {body[:200]!r}"
                assert strip_tuid(body) == lf.replace(b"\n", b"\r\n"), \
                    f"{folder} UID {uid}: not the CRLF form of the Maildir file"
                assert flags == flags_of_letters(want[folder][lf]), (folder, uid, flags, want[folder][lf])
                seen[lf] = uid
            assert len(seen) == len(want[folder])

        # 2. Pull into the empty Maildir: every message byte-identical (but
        #    for X-TUID), with its flags.
        mbsync(rc_dst, home)
        for folder in FOLDERS:
            files = read_maildir(dst, folder)
            got = by_content(files, strip_tuid)
            assert set(got) == set(want[folder]), \
                f"{folder}: {len(set(want[folder]) - set(got))} messages missing, " \
                f"{len(set(got) - set(want[folder]))} unexpected"
            for data, (name, letters) in got.items():
                assert letters == want[folder][data], (folder, name, want[folder][data])
        total = sum(len(read_maildir(dst, f)) for f in FOLDERS)
        assert total == len(msgs)

        # 3. A second sync of either replica changes nothing anywhere.
        before = ({f: server.status(f) for f in FOLDERS + ("Sent", "Trash")},
                  snapshot_tree(src), snapshot_tree(dst))
        mbsync(rc_src, home)
        mbsync(rc_dst, home)
        after = ({f: server.status(f) for f in FOLDERS + ("Sent", "Trash")},
                 snapshot_tree(src), snapshot_tree(dst))
        assert after[0] == before[0], "the server changed (STATUS before/after differ)"
        assert after[1] == before[1], "the source Maildir changed on a second sync"
        assert after[2] == before[2], "the pulled Maildir changed on a second sync"

        # 4. Flags set in the pulled Maildir (mark some read and flagged,
        #    the Maildir way: rename into cur/ with the info letters) reach
        #    the server, and through it the source Maildir.
        folder = "INBOX"
        files = read_maildir(dst, folder)
        changed = {}
        for k, (name, data) in enumerate(sorted(files.items())):
            if k % 9:
                continue
            base = os.path.basename(name).partition(":2,")[0]
            letters = "".join(sorted(set(info_flags(name)) | {"F", "S"}))
            os.rename(os.path.join(dst, folder, name), os.path.join(dst, folder, "cur", f"{base}:2,{letters}"))
            changed[strip_tuid(data)] = letters
        assert len(changed) >= 40
        mbsync(rc_dst, home)
        on_server = {strip_tuid(b).replace(b"\r\n", b"\n"): (uid, flags)
                     for uid, (flags, b) in server.messages(folder).items()}
        for data, letters in want[folder].items():
            expected = flags_of_letters(changed.get(data, letters))
            assert on_server[data][1] == expected, (on_server[data], expected)
        mbsync(rc_src, home)
        src_files = by_content(read_maildir(src, folder))
        for data, letters in want[folder].items():
            assert src_files[data][1] == changed.get(data, letters), (src_files[data], changed.get(data))
        want[folder].update(changed)

        # 5. Flags STOREd on the server reach both Maildirs.
        server.cmd(f'SELECT "{folder}"')
        stores = {}
        for k, (data, (uid, flags)) in enumerate(sorted(on_server.items(), key=lambda x: x[1][0])):
            if k % 6 == 1:
                server.cmd(f"UID STORE {uid} +FLAGS.SILENT (\\Answered \\Flagged)")
                stores[data] = "".join(sorted(set(want[folder][data]) | {"R", "F"}))
            elif k % 6 == 4 and "S" in want[folder][data]:
                server.cmd(f"UID STORE {uid} -FLAGS.SILENT (\\Seen \\Flagged)")
                stores[data] = "".join(sorted(set(want[folder][data]) - {"S", "F"}))
            elif k % 30 == 3:
                server.cmd(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted \\Draft)")
                stores[data] = "".join(sorted(set(want[folder][data]) | {"T", "D"}))
        server.cmd("UNSELECT")
        assert len(stores) >= 60
        want[folder].update(stores)
        mbsync(rc_dst, home)
        mbsync(rc_src, home)
        for root in (dst, src):
            got = by_content(read_maildir(root, folder), strip_tuid if root == dst else (lambda b: b))
            assert set(got) == set(want[folder]), f"{root}: messages appeared or vanished"
            wrong = [(name, letters, want[folder][data]) for data, (name, letters) in got.items()
                     if letters != want[folder][data]]
            assert not wrong, f"{root}: {len(wrong)} files with other flags, e.g. {wrong[:3]}"
        final = {strip_tuid(b).replace(b"\r\n", b"\n"): flags for _, (flags, b) in server.messages(folder).items()}
        for data, letters in want[folder].items():
            assert final[data] == flags_of_letters(letters)
    finally:
        server.close()


def test_mbsync_over_literal_minus(env, tmp_path):
    """kairand's default is LITERAL- (RFC 7888 §4, docs/protocol.md): mbsync
    must send a message of more than 4096 bytes with a synchronising
    literal, and both a small and a big message arrive whole. (The shared
    test kairand runs with literal_plus = yes.)"""
    if MBSYNC is None:
        pytest.fail("mbsync not found: `make deps` installs it (Debian package isync)")
    k = env.start_kairand(literal_plus="no")
    try:
        target = types.SimpleNamespace(imap_port=k.imap_port)
        user = env.new_user("mbsyncm")
        home, src = str(tmp_path), str(tmp_path / "src")
        msgs = {
            b"From: a@example.org\nSubject: small\n\nshort\n",
            b"From: a@example.org\nSubject: big\n\n" + b"a line of the big message\n" * 400,
        }
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(src, "INBOX", sub))
        for n, data in enumerate(sorted(msgs)):
            with open(os.path.join(src, "INBOX", "cur", f"1700000000.M{n}P1.src:2,S"), "wb") as f:
                f.write(data)
        mbsync(write_rc(os.path.join(home, "src.rc"), target, user, src), home)
        server = Server(target, user)
        try:
            got = {strip_tuid(body).replace(b"\r\n", b"\n")
                   for _, body in server.messages("INBOX").values()}
        finally:
            server.close()
        assert got == msgs
        assert max(len(m) for m in msgs) > 4096
    finally:
        k.stop()


def test_mbsync_after_someone_tried_to_create_dot_dot(env, tmp_path):
    """Issue 13: mbsync aborts a whole account's sync when LIST shows a
    '..' level. Such names are refused at CREATE (NO [CANNOT], RFC 3501
    §5.1: they cannot exist), so the account keeps syncing: its folders
    arrive, and no '..' appears anywhere in the replica."""
    if MBSYNC is None:
        pytest.fail("mbsync not found: `make deps` installs it (Debian package isync)")
    user = env.new_user("mbsyncd")
    server = Server(env, user)
    try:
        server.cmd("CREATE Projects")
        for name in ("../x", "../../etc", "Projects/..", "a/./b"):
            tagged, _ = server.c.cmd("c", f'CREATE "{name}"')
            assert tagged.startswith(b"c NO [CANNOT]"), (name, tagged)
    finally:
        server.close()
    home, dst = str(tmp_path), str(tmp_path / "dst")
    os.makedirs(dst)
    mbsync(write_rc(os.path.join(home, "dst.rc"), env, user, dst), home)
    assert os.path.isdir(os.path.join(dst, "Projects"))
    assert not any(".." in d for _, dirs, _ in os.walk(dst) for d in dirs)
