"""kairanctl import and export (docs/migration.md), checked over IMAP.

A Maildir++ tree as Dovecot writes it (folders `.Lists.dev`, names in
modified UTF-7, `dovecot-uidlist` with UIDVALIDITY and UIDs,
`dovecot-keywords` letters, `subscriptions`, file modification times as
INTERNALDATE) and an mbox file are imported; what a client sees afterwards
(SELECT's UIDVALIDITY and UIDNEXT, UID FETCH FLAGS INTERNALDATE BODY[],
LIST, LSUB) is what the source said. A second run copies nothing; a run
killed partway resumes where it stopped; export writes a tree that imports
back to the same mailboxes; hostile sources get precise errors.

Maildir flag letters are maildir(5)'s (D F P R S T); P is $Forwarded, as
isync 1.4 maps it. RFC 3501 §2.3.1.1: "the combination of mailbox name,
UIDVALIDITY, and UID must refer to a single immutable message": keeping the
source's UIDVALIDITY is only allowed into a mailbox that never gave out a
UID, which the tests check too.
"""

import calendar
import os
import re
import subprocess
import time

import pytest

import kairan_env as ke
from imapclient import connect, ok
from test_roundtrip import parse_fetch

KILLED = -9


def ctl(env, *args, extra_env=None, timeout=300):
    e = ke._clean_env()
    e.update(extra_env or {})
    return subprocess.run([env.kairand.kairanctl, "-c", env.kairand.conf_path, *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=timeout, env=e)


def imported(env, *args, **kw):
    r = ctl(env, "import", *args, **kw)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    m = re.match(r"imported (\d+) messages .* (\d+) already there, (\d+) failed$",
                 r.stdout.strip())
    assert m, r.stdout
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), r.stderr


def message(subject, body="Hello.\n", extra=""):
    """A small message with LF line ends, as a Maildir holds it."""
    return (f"From: Alice <alice@example.org>\nTo: bob@example.org\n"
            f"Subject: {subject}\nMessage-ID: <{subject.replace(' ', '.')}@example.org>\n"
            f"{extra}\n{body}").encode()


def put(folder, sub, name, data, when):
    path = os.path.join(folder, sub, name)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (when, when))
    return path


def make_folder(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    return path


T0 = calendar.timegm((2024, 3, 1, 12, 0, 0))


def dovecot_maildir(root):
    """INBOX with a dovecot-uidlist (UIDVALIDITY 1234567, UIDs 5, 7, 9, the
    next 50) and one new message it does not list; Lists/dev; Café (in
    modified UTF-7 on disk); keywords by letter; subscriptions."""
    inbox = make_folder(root)
    put(inbox, "cur", "1709290000.M1P1.host,S=100:2,S", message("one"), T0)
    put(inbox, "cur", "1709290001.M2P1.host:2,RS", message("two"), T0 + 60)
    put(inbox, "cur", "1709290002.M3P1.host:2,Fab", message("three"), T0 + 120)
    put(inbox, "new", "1709290003.M4P1.host", message("four"), T0 + 180)
    with open(os.path.join(inbox, "dovecot-uidlist"), "w") as f:
        f.write("3 V1234567 N50 Gabcdef\n"
                "5 :1709290000.M1P1.host,S=100\n"
                "7 W120 :1709290001.M2P1.host\n"
                "9 :1709290002.M3P1.host\n")
    with open(os.path.join(inbox, "dovecot-keywords"), "w") as f:
        f.write("0 $Label1\n1 Work\n")
    dev = make_folder(os.path.join(root, ".Lists.dev"))
    put(dev, "cur", "1709290010.M5P1.host:2,PT", message("dev one"), T0 + 600)
    put(dev, "cur", "1709290011.M6P1.host:2,D", message("dev two"), T0 + 660)
    make_folder(os.path.join(root, ".Lists"))
    cafe = make_folder(os.path.join(root, ".Caf&AOk-"))
    put(cafe, "cur", "1709290020.M7P1.host:2,", message("caf\u00e9", "Cr\u00e8me.\n"), T0 + 900)
    with open(os.path.join(root, "subscriptions"), "w") as f:
        f.write("Lists\nLists.dev\n")
    return root


def crlf(data):
    return data.replace(b"\n", b"\r\n")


def session(env, user):
    c = connect(env.imap_port)
    ok(c, f"LOGIN {user} secret", tag="l")
    return c


def select(c, box):
    """(UIDVALIDITY, UIDNEXT) from SELECT's response codes."""
    u = ok(c, f'EXAMINE "{box}"', tag="s")
    text = b"\n".join(u)
    return (int(re.search(rb"UIDVALIDITY (\d+)", text).group(1)),
            int(re.search(rb"UIDNEXT (\d+)", text).group(1)))


def fetch_all(c, box):
    """{uid: (flags, INTERNALDATE as UTC seconds, BODY[])}."""
    select(c, box)
    out = {}
    for resp in ok(c, "UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])", tag="f"):
        if b" FETCH " not in resp:
            continue
        _, items = parse_fetch(resp)
        flags = {bytes(f).decode() for f in items["FLAGS"]} - {"\\Recent"}
        date = bytes(items["INTERNALDATE"]).decode()
        when = calendar.timegm(time.strptime(date[:20], "%d-%b-%Y %H:%M:%S"))
        sign = 1 if date[21] == "+" else -1
        when -= sign * (int(date[22:24]) * 3600 + int(date[24:26]) * 60)
        out[items["UID"]] = (flags, when, items["BODY[]"])
    return out


def names(c, command):
    out = set()
    for line in ok(c, f'{command} "" "*"', tag="n"):
        m = re.match(rb'\* (?:LIST|LSUB) \([^)]*\) (?:"/"|NIL) (.*)$', line)
        out.add(m.group(1).strip(b'"').decode())
    return out


# -- Maildir ---------------------------------------------------------------

def test_maildir_import_keeps_uids_flags_keywords_dates_folders(env, tmp_path):
    user = env.new_user("imp")
    root = dovecot_maildir(str(tmp_path / "Maildir"))
    n, known, failed, _ = imported(env, user, root)
    assert (n, known, failed) == (7, 0, 0)
    c = session(env, user)
    # RFC 3501 §2.3.1.1: the source's UIDVALIDITY, its UIDs, and its next
    # UID for the message it had not numbered yet.
    assert select(c, "INBOX") == (1234567, 51)
    inbox = fetch_all(c, "INBOX")
    assert inbox == {
        5: ({"\\Seen"}, T0, crlf(message("one"))),
        7: ({"\\Answered", "\\Seen"}, T0 + 60, crlf(message("two"))),
        9: ({"\\Flagged", "$Label1", "Work"}, T0 + 120, crlf(message("three"))),
        50: (set(), T0 + 180, crlf(message("four"))),
    }
    dev = fetch_all(c, "Lists/dev")
    assert sorted((f, d) for f, d, _ in dev.values()) == [
        ({"$Forwarded", "\\Deleted"}, T0 + 600), ({"\\Draft"}, T0 + 660)]
    cafe = fetch_all(c, "Caf&AOk-")
    assert [b for _, _, b in cafe.values()] == [crlf(message("caf\u00e9", "Cr\u00e8me.\n"))]
    assert {"INBOX", "Lists", "Lists/dev", "Caf&AOk-"} <= names(c, "LIST")
    assert {"Lists", "Lists/dev"} <= names(c, "LSUB")
    # A second run copies nothing, and changes nothing a client sees.
    assert imported(env, user, root)[:3] == (0, 7, 0)
    assert fetch_all(c, "INBOX") == inbox
    assert select(c, "INBOX") == (1234567, 51)
    c.close()


def test_import_into_a_used_mailbox_gives_new_uids(env, tmp_path):
    """A mailbox that gave out UIDs keeps its UIDVALIDITY (RFC 3501
    §2.3.1.1); the messages are appended with new UIDs."""
    user = env.new_user("imp")
    c = session(env, user)
    ok(c, "CREATE Old")
    raw = b"Subject: x\r\n\r\nx\r\n"
    ok(c, f"APPEND Old {{{len(raw)}+}}\r\n".encode().decode() + raw.decode())
    before = select(c, "Old")
    root = dovecot_maildir(str(tmp_path / "Maildir"))
    n, _, _, warnings = imported(env, user, root, "--into", "Old")
    assert n == 7 and "new UIDs" in warnings
    assert select(c, "Old")[0] == before[0]
    assert sorted(fetch_all(c, "Old")) == [1, 2, 3, 4, 5]
    assert sorted(fetch_all(c, "Old/Lists/dev")) == [1, 2]
    c.close()


def test_interrupted_import_resumes(env, tmp_path):
    """Killed (SIGKILL, through the test-only KAIRAN_IMPORT_KILL_AFTER)
    after 20 of 50 messages in batches of 10: the 20 are there, and the
    next run brings exactly the other 30, with the source's UIDs."""
    user = env.new_user("imp")
    root = make_folder(str(tmp_path / "Maildir"))
    lines = ["3 V777 N200"]
    for i in range(50):
        name = f"17000000{i:02d}.M{i}P9.host"
        put(root, "cur", f"{name}:2,S", message(f"msg {i}"), T0 + i)
        lines.append(f"{100 + i} :{name}")
    with open(os.path.join(root, "dovecot-uidlist"), "w") as f:
        f.write("\n".join(lines) + "\n")
    r = ctl(env, "import", user, root, "--batch", "10",
            extra_env={"KAIRAN_IMPORT_KILL_AFTER": "20"})
    assert r.returncode == KILLED, (r.stdout, r.stderr)
    c = session(env, user)
    assert sorted(fetch_all(c, "INBOX")) == list(range(100, 120))
    assert imported(env, user, root, "--batch", "10")[:3] == (30, 20, 0)
    got = fetch_all(c, "INBOX")
    assert sorted(got) == list(range(100, 150))
    assert all(body == crlf(message(f"msg {uid - 100}")) for uid, (_, _, body) in got.items())
    assert select(c, "INBOX") == (777, 200)
    c.close()


def test_import_killed_at_any_moment_resumes_exactly(env, tmp_path):
    """SIGKILL from outside, at whatever moment the first messages show
    up in the store (likely inside a batch): the next run completes the
    mailbox with every message exactly once, and its source UID."""
    user = env.new_user("imp")
    root = make_folder(str(tmp_path / "Maildir"))
    lines = ["3 V888 N1000"]
    for i in range(400):
        name = f"17100000{i:03d}.M{i}P9.host"
        put(root, "cur", f"{name}:2,", message(f"kill {i}", "x" * 2000 + "\n"), T0 + i)
        lines.append(f"{500 + i} :{name}")
    with open(os.path.join(root, "dovecot-uidlist"), "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.Popen([env.kairand.kairanctl, "-c", env.kairand.conf_path, "import", user,
                          root, "--batch", "20"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ke._clean_env())
    count = (f"SELECT count(*) FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id"
             f" JOIN accounts a ON a.id = m.owner_id WHERE a.login = '{user}'")
    deadline = time.time() + 60
    while p.poll() is None and int(env.pg.psql(count)) == 0 and time.time() < deadline:
        time.sleep(0.01)
    p.kill()
    p.communicate()
    first = int(env.pg.psql(count))
    n, known, failed, _ = imported(env, user, root)
    assert (n + known, failed) == (400, 0) and known == first
    c = session(env, user)
    assert sorted(fetch_all(c, "INBOX")) == list(range(500, 900))
    c.close()


def test_large_import_leaves_no_search_backlog(env, tmp_path):
    """Each batch's text goes into the trigram indexes as soon as it
    commits (docs/migration.md): the backlog every SEARCH scans never
    holds more than a batch, and SEARCH finds the imported text."""
    user = env.new_user("imp")
    root = make_folder(str(tmp_path / "Maildir"))
    for i in range(300):
        put(root, "cur", f"1700001{i:03d}.M{i}P7.host:2,", message(
            f"report {i}", f"quarterly figures zebra{i}x{os.getpid()}\n"), T0 + i)
    assert imported(env, user, root, "--batch", "50")[0] == 300
    backlog = int(env.pg.psql("SELECT count(*) FROM messages WHERE NOT search_ready"))
    assert backlog <= 50
    c = session(env, user)
    select(c, "INBOX")
    found = ok(c, f"UID SEARCH BODY zebra7x{os.getpid()}", tag="q")
    assert found[0].split()[2:] == [b"7"] or len(found[0].split()) == 3
    c.close()


# -- mbox ------------------------------------------------------------------

MBOX = (b"From alice@example.org Fri Mar  1 12:00:00 2024\n"
        b"From: alice@example.org\nSubject: first\nStatus: RO\nX-Status: AF\n"
        b"X-Keywords: Work $Label2\nContent-Length: 999\n\n"
        b"Body line.\n>From the quoted line\n>>From twice quoted\n"
        b"A line From somewhere\n\n"
        b"From bob@example.org Sat Mar  2 08:30:00 2024\n"
        b"From: bob@example.org\nSubject: second\nStatus: O\n\n"
        b"From here on: a From line without a date is text, empty line or not\n"
        b"From mid-paragraph\n\n"
        b"From carol@example.org Sun Mar  3 00:00:01 2024\n"
        b"From: carol@example.org\nSubject: third\n\nlast\n")


def test_mbox_import(env, tmp_path):
    user = env.new_user("imp")
    path = tmp_path / "mbox"
    path.write_bytes(MBOX)
    assert imported(env, user, str(path), "--into", "Archive/old")[:3] == (3, 0, 0)
    c = session(env, user)
    got = sorted(fetch_all(c, "Archive/old").values(), key=lambda v: v[1])
    assert got[0] == ({"\\Seen", "\\Answered", "\\Flagged", "Work", "$Label2"},
                      calendar.timegm((2024, 3, 1, 12, 0, 0)),
                      b"From: alice@example.org\r\nSubject: first\r\n\r\nBody line.\r\n"
                      b"From the quoted line\r\n>From twice quoted\r\n"
                      b"A line From somewhere\r\n")
    assert got[1][:2] == (set(), calendar.timegm((2024, 3, 2, 8, 30, 0)))
    assert got[1][2].endswith(b"\r\n\r\nFrom here on: a From line without a date is text,"
                              b" empty line or not\r\nFrom mid-paragraph\r\n")
    assert got[2][2] == b"From: carol@example.org\r\nSubject: third\r\n\r\nlast\r\n"
    assert imported(env, user, str(path), "--into", "Archive/old")[:3] == (0, 3, 0)
    c.close()


# -- export ----------------------------------------------------------------

def test_export_then_import_round_trip(env, tmp_path):
    """export writes Maildir++ with flags in the file names, keywords in
    dovecot-keywords, UIDs in dovecot-uidlist, dates as mtimes and the
    subscriptions; importing it for another person gives the same
    mailboxes, UIDVALIDITYs, UIDs, flags, keywords, dates and bytes."""
    a, b = env.new_user("exa"), env.new_user("exb")
    imported(env, a, dovecot_maildir(str(tmp_path / "src")))
    out = str(tmp_path / "export")
    r = ctl(env, "export", a, out)
    assert r.returncode == 0, r.stderr
    assert re.match(r"exported 7 messages .* in \d+ folders", r.stdout), r.stdout
    files = os.listdir(os.path.join(out, "cur"))
    assert sorted(f.rpartition(":2,")[2] for f in files) == ["", "Fab", "RS", "S"]
    with open(os.path.join(out, "dovecot-keywords")) as f:
        assert f.read() == "0 $Label1\n1 Work\n"
    with open(os.path.join(out, "dovecot-uidlist")) as f:
        assert f.readline() == "3 V1234567 N51\n"
    assert os.path.isdir(os.path.join(out, ".Lists.dev", "cur"))
    assert os.path.isdir(os.path.join(out, ".Caf&AOk-", "cur"))
    with open(os.path.join(out, "subscriptions")) as f:
        subs = f.read().split("\n")
    assert "Lists" in subs and "Lists.dev" in subs
    assert {os.stat(os.path.join(out, "cur", f)).st_mtime for f in files} == {
        T0, T0 + 60, T0 + 120, T0 + 180}
    # A second export into the same directory would mix two copies.
    r = ctl(env, "export", a, out)
    assert r.returncode == 1 and r.stderr == f"kairanctl: {out}: not empty\n"

    imported(env, b, out)
    ca, cb = session(env, a), session(env, b)
    for box in ("INBOX", "Lists/dev", "Caf&AOk-"):
        assert select(ca, box) == select(cb, box)
        assert fetch_all(ca, box) == fetch_all(cb, box)
    assert names(ca, "LSUB") == names(cb, "LSUB")
    ca.close()
    cb.close()


# -- hostile sources ---------------------------------------------------------

def test_broken_maildir_file_names_and_huge_lines(env, tmp_path):
    user = env.new_user("imp")
    root = make_folder(str(tmp_path / "Maildir"))
    huge = b"Subject: huge\n\n" + b"x" * (3 << 20) + b"\n"
    put(root, "cur", "1.M1P1.host:2,S", huge, T0)
    put(root, "cur", ":2,S", message("no unique part"), T0)                 # skipped
    put(root, "cur", b"2.M\xff\xfeP1.host:2,Szq".decode("latin-1"), message("bytes"), T0)
    put(root, "cur", "3.M3P1.host:2,S,,::2,??", message("odd info"), T0)
    put(root, "cur", "4.M4P1.host:1,S", message("old info"), T0)
    os.mkdir(os.path.join(root, "cur", "5.M5P1.host:2,S"))                  # skipped
    os.symlink("/etc/passwd", os.path.join(root, "cur", "6.M6P1.host:2,S"))  # skipped
    with open(os.path.join(root, "dovecot-uidlist"), "w") as f:
        f.write("3 V99 N10\n" + "4 " + "W" * 20000 + " :x\n" + "garbage\n" + "99 :over.next\n")
    n, _, failed, warnings = imported(env, user, root)
    assert (n, failed) == (4, 3)
    assert "no unique part" in warnings and "not a regular file" in warnings
    assert "keyword letters that dovecot-keywords does not name" in warnings
    c = session(env, user)
    got = fetch_all(c, "INBOX")
    assert crlf(huge) in [body for _, _, body in got.values()]
    assert select(c, "INBOX") == (99, 14)
    assert imported(env, user, root)[:3] == (0, 4, 3)
    c.close()


def test_message_over_max_literal_size_is_skipped(env, tmp_path):
    user = env.new_user("imp")
    root = make_folder(str(tmp_path / "Maildir"))
    limit = int(env.config.get("max_literal_size", 52428800))
    with open(os.path.join(root, "cur", "big.M1:2,"), "wb") as f:
        f.truncate(limit + 1)
    put(root, "cur", "small.M2:2,", message("small"), T0)
    n, _, failed, warnings = imported(env, user, root)
    assert (n, failed) == (1, 1)
    assert "larger than max_literal_size, skipped" in warnings


@pytest.mark.parametrize("data,reason", [
    (b"", "empty file"),
    (b"Subject: no From_ line\n\nbody\n", 'not an mbox file (it does not begin with "From ")'),
    (b"\x00\x01\x02" * 1000, 'not an mbox file (it does not begin with "From ")'),
])
def test_malformed_mbox_is_refused(env, tmp_path, data, reason):
    user = env.new_user("imp")
    path = tmp_path / "mbox"
    path.write_bytes(data)
    r = ctl(env, "import", user, str(path))
    assert (r.returncode, r.stderr) == (1, f"kairanctl: {path}: {reason}\n")


def test_mbox_with_a_huge_line_and_no_final_newline(env, tmp_path):
    user = env.new_user("imp")
    path = tmp_path / "mbox"
    path.write_bytes(b"From x Fri Mar  1 12:00:00 2024\nSubject: long\n\n" + b"y" * (2 << 20)
                     + b"\n\nFrom y Sat Mar  2 08:30:00 2024\nSubject: end\n\nno newline")
    assert imported(env, user, str(path))[:3] == (2, 0, 0)
    c = session(env, user)
    bodies = sorted((len(b), b) for _, _, b in fetch_all(c, "INBOX").values())
    assert bodies[0][1] == b"Subject: end\r\n\r\nno newline"
    assert bodies[1][1] == b"Subject: long\r\n\r\n" + b"y" * (2 << 20) + b"\r\n"
    c.close()


def test_bad_arguments_and_sources(env, tmp_path):
    user = env.new_user("imp")
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("x")
    session(env, user).close()  # the account exists once the person logged in
    cases = [
        (("import", user, str(tmp_path / "nope")), 1,
         f"kairanctl: {tmp_path}/nope: No such file or directory"),
        (("import", user, str(tmp_path / "empty")), 1,
         f"kairanctl: {tmp_path}/empty: not a Maildir (no cur/ or new/, no .Folder/)"),
        (("import", "nobody-at-all", str(dovecot_maildir(str(tmp_path / "m")))), 1,
         "kairanctl: nobody-at-all: no such account or person"),
        (("import", user, "imap://127.0.0.1:1"), 1,
         "kairanctl: imap://127.0.0.1:1: the URL names no user (imap://USER@HOST[:PORT])"),
        (("import", user, "imap://bob@127.0.0.1:1", "--password-file", "/nonexistent"), 1,
         "kairanctl: /nonexistent: No such file or directory"),
        (("import", user), 2, "kairanctl: import needs a LOGIN and a SOURCE"),
        (("import", user, str(tmp_path), "--batch", "0"), 2,
         "kairanctl: --batch takes 1 to 5000 messages"),
        (("export", "nobody-at-all", str(tmp_path / "x")), 1,
         "kairanctl: nobody-at-all: no such account"),
        (("export", user, str(tmp_path / "a-file")), 1,
         f"kairanctl: {tmp_path}/a-file: Not a directory"),
    ]
    for args, code, first in cases:
        r = ctl(env, *args)
        assert (r.returncode, r.stderr.splitlines()[0]) == (code, first), args


def test_bad_folder_names_are_skipped(env, tmp_path):
    """A Maildir++ folder whose name is no mailbox name (an empty level;
    U+2028, RFC 9755 §3) is skipped with a warning; the rest is imported."""
    user = env.new_user("imp")
    root = make_folder(str(tmp_path / "Maildir"))
    put(root, "cur", "1.M1:2,", message("in inbox"), T0)
    empty_level = make_folder(os.path.join(root, ".a..b"))
    put(empty_level, "cur", "2.M2:2,", message("bad folder"), T0)
    separator = make_folder(os.path.join(root, ".x\u2028y"))
    put(separator, "cur", "3.M3:2,", message("bad name"), T0)
    n, _, failed, warnings = imported(env, user, root)
    assert (n, failed) == (1, 2)
    assert f"{root}/.a..b: no mailbox name (an empty level" in warnings
    assert "x\u2028y: not a usable mailbox name" in warnings


# -- another IMAP server -------------------------------------------------------

SAMPLE_FOLDERS = ("INBOX", "Projects/2024", "Caf&AOk-")


def append_samples(c, sep="/"):
    """Fills an account over IMAP, on any server (sep: its hierarchy
    delimiter): INBOX with flags, keywords and dates in several zones, a
    folder two levels deep, one with a non-ASCII name, a subscription, an
    expunged message (so that UIDs have a gap)."""
    for box in SAMPLE_FOLDERS[1:]:
        ok(c, f'CREATE "{box.replace("/", sep)}"')
    ok(c, f'SUBSCRIBE "{"Projects/2024".replace("/", sep)}"')
    for box, flags, date, subject in [
            ("INBOX", "\\Seen", "01-Mar-2024 12:00:00 +0100", "alpha"),
            ("INBOX", "\\Flagged Work", "02-Mar-2024 08:00:00 +0000", "beta"),
            ("INBOX", "\\Deleted", "03-Mar-2024 08:00:00 +0000", "gone"),
            ("INBOX", "$Forwarded \\Answered $Label1", "04-Mar-2024 09:30:00 -0500", "gamma"),
            ("Projects/2024", "", "05-Mar-2024 10:00:00 +0000", "plan"),
            ("Caf&AOk-", "\\Draft", "06-Mar-2024 10:00:00 +0000", "menu")]:
        raw = crlf(message(subject))
        c.send(f'a APPEND "{box.replace("/", sep)}" ({flags}) "{date}" {{{len(raw)}+}}\r\n'
               .encode() + raw + b"\r\n")
        assert c.read_tagged("a")[0].startswith(b"a OK")
    ok(c, "SELECT INBOX")
    ok(c, "EXPUNGE")


def populate_source(env, user):
    c = session(env, user)
    append_samples(c)
    c.close()


def password_file(tmp_path, pw="secret"):
    path = tmp_path / "pw"
    path.write_text(pw + "\n")
    return str(path)


@pytest.mark.parametrize("scheme", ["imaps", "imap"])
def test_imap_import_keeps_everything(env, tmp_path, scheme):
    """From another IMAP server (here an account of the test's kairand,
    over implicit TLS or STARTTLS, the certificate verified against the
    test CA): the same folders, subscriptions, UIDVALIDITYs, UIDs, flags,
    keywords, INTERNALDATEs and bytes; a second run copies nothing."""
    src, dst = env.new_user("src"), env.new_user("dst")
    populate_source(env, src)
    port = env.imaps_port if scheme == "imaps" else env.imap_port
    url = f"{scheme}://{src}@localhost:{port}"
    args = (dst, url, "--password-file", password_file(tmp_path), "--ca-file", env.cert)
    n, known, failed, warnings = imported(env, *args)
    assert (n, known, failed) == (5, 0, 0), warnings
    assert "clear text" not in warnings
    cs, cd = session(env, src), session(env, dst)
    for box in SAMPLE_FOLDERS:
        assert select(cs, box) == select(cd, box)
        assert fetch_all(cs, box) == fetch_all(cd, box)
    assert sorted(fetch_all(cd, "INBOX")) == [1, 2, 4]
    assert "Projects/2024" in names(cd, "LSUB")
    assert imported(env, *args)[:3] == (0, 5, 0)
    cs.close()
    cd.close()


def test_imap_import_refuses_an_unverified_certificate(env, tmp_path):
    dst = env.new_user("dst")
    r = ctl(env, "import", dst, f"imaps://x@localhost:{env.imaps_port}",
            "--password-file", password_file(tmp_path))
    assert r.returncode == 1
    assert r.stderr.startswith("kairanctl: TLS: the certificate of localhost: "), r.stderr


def test_imap_import_wrong_password(env, tmp_path):
    src, dst = env.new_user("src"), env.new_user("dst")
    r = ctl(env, "import", dst, f"imaps://{src}@localhost:{env.imaps_port}",
            "--password-file", password_file(tmp_path, "wrong"), "--ca-file", env.cert)
    assert r.returncode == 1
    assert r.stderr.startswith("kairanctl: localhost answered LOGIN"), r.stderr
    assert "wrong" not in r.stderr


class LyingServer:
    """A plaintext IMAP server on loopback that answers one session from a
    script: greeting, CAPABILITY (no STARTTLS), LOGIN, LIST, LSUB, EXAMINE
    and the two UID FETCHes, with what `lies` replaces."""

    def __init__(self, lies):
        import socket
        import threading
        self.lies = lies
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        conn.settimeout(30)
        f = conn.makefile("rb")
        conn.sendall(b"* OK liar ready\r\n")
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
                cmd = rest.split(b" ")[0].upper()
                if cmd == b"LOGIN" and rest.endswith(b"}"):
                    conn.sendall(b"+ go\r\n")
                    f.readline()
                key = (cmd + b" " + rest.split(b" ")[1].upper()) if cmd == b"UID" else cmd
                if rest.upper().startswith(b"UID FETCH") and b"BODY.PEEK[]" in rest.upper():
                    key = b"BODY"
                out = self.lies.get(key.decode(), self.default(key.decode()))
                if out is None:
                    conn.close()
                    return
                conn.sendall(out + tag + b" OK done\r\n")
                if cmd == b"LOGOUT":
                    return
        except OSError:
            return
        finally:
            conn.close()

    @staticmethod
    def default(key):
        return {
            "CAPABILITY": b"* CAPABILITY IMAP4rev1\r\n",
            "LIST": b'* LIST () "/" INBOX\r\n',
            "LSUB": b"",
            "EXAMINE": b"* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 10] x\r\n",
            "UID FETCH": (b'* 1 FETCH (UID 3 FLAGS (\\Seen) INTERNALDATE "01-Mar-2024 12:00:00 +0000"'
                          b" RFC822.SIZE 20)\r\n"
                          b'* 2 FETCH (UID 5 FLAGS () RFC822.SIZE 20)\r\n'),
            "BODY": (b"* 1 FETCH (UID 3 BODY[] {18}\r\nSubject: a\r\n\r\nhi\r\n)\r\n"
                     b"* 2 FETCH (UID 5 BODY[] {18}\r\nSubject: b\r\n\r\nho\r\n)\r\n"),
        }.get(key, b"")

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("lies,code,expect", [
    ({}, 0, ""),
    # A FETCH without UID, a UID twice, junk, a message not sent.
    ({"UID FETCH": b"* 1 FETCH (FLAGS (\\Seen))\r\n* 1 FETCH (UID 3)\r\n* 2 FETCH (UID 3)\r\n"
                   b"* 3 FETCH (UID 5 FLAGS (\\Bogus ))\r\n* 4 FETCH (UID 7)\r\n* junk ((\r\n",
      "BODY": b"* 1 FETCH (UID 3 BODY[] {9}\r\nSubject:\r\n)\r\n* 9 FETCH (UID 99 BODY[] {1}\r\nx)\r\n"},
     0, "the server sent no BODY[] for UID 5"),
    ({"EXAMINE": b"* OK [UIDNEXT 10] x\r\n"}, 0, "has no UIDVALIDITY"),
    # An empty mailbox: no UID FETCH 1:* (which this server would not survive).
    ({"EXAMINE": b"* 0 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 42] x\r\n", "UID FETCH": None},
     0, ""),
    ({"BODY": b"* 1 FETCH (UID 3 BODY[] {999999999999}\r\n"}, 1,
     "kairanctl: 127.0.0.1 announced a literal of 999999999999 bytes, more than max_literal_size"),
    ({"LIST": b"* LIST () \"/\" " + b"x" * 70000 + b"\r\n"}, 1,
     "kairanctl: 127.0.0.1 sent a line longer than 65536 bytes"),
    ({"BODY": None}, 1, "kairanctl: 127.0.0.1 closed the connection"),
    ({"LOGIN": b"* BYE go away\r\n"}, 1, "kairanctl: 127.0.0.1 closed the connection"),
])
def test_imap_import_from_a_server_that_lies(env, tmp_path, lies, code, expect):
    dst = env.new_user("dst")
    if lies.get("LOGIN") is not None:
        lies = dict(lies, LOGIN=None)
    srv = LyingServer(lies)
    try:
        r = ctl(env, "import", dst, f"imap://u@127.0.0.1:{srv.port}",
                "--password-file", password_file(tmp_path), timeout=60)
    finally:
        srv.close()
    assert r.returncode == code, (r.stdout, r.stderr)
    assert expect in r.stderr, r.stderr
    assert "clear text" in r.stderr
    if lies == {}:
        c = session(env, dst)
        got = fetch_all(c, "INBOX")
        assert select(c, "INBOX") == (42, 10)
        assert got == {3: ({"\\Seen"}, calendar.timegm((2024, 3, 1, 12, 0, 0)),
                           b"Subject: a\r\n\r\nhi\r\n"),
                       5: (set(), got[5][1], b"Subject: b\r\n\r\nho\r\n")}
        c.close()


# -- progress ----------------------------------------------------------------

def test_progress_bar_on_a_terminal_summary_otherwise(env, tmp_path):
    """With standard error on a terminal, a bar redrawn in place ("\\r[###...]
    n/total"); the summary line on standard output either way (the other
    tests read it from a pipe, where no bar is drawn)."""
    import pty
    user = env.new_user("imp")
    root = dovecot_maildir(str(tmp_path / "Maildir"))
    master, slave = pty.openpty()
    e = ke._clean_env()
    p = subprocess.run([env.kairand.kairanctl, "-c", env.kairand.conf_path, "import", user, root],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=e,
                       timeout=120)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    assert p.returncode == 0
    assert re.search(rb"\r\[#{30}\] 7/7 +0\.0 MB", tty), tty
    assert p.stdout.decode().startswith("imported 7 messages")
    r = ctl(env, "export", user, str(tmp_path / "out"))
    assert "\r[" not in r.stderr and r.stdout.startswith("exported 7 messages")
