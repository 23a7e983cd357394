"""The ACL matrix of the issue: every single right and every "all but one"
set, granted to the caller by login, by a group, by "anyone", and by a
negative entry (a group grants everything, "-<login>" takes the complement
away), in the three namespaces, against every command whose rights RFC 4314
§4 (and RFC 6851 §4.2 for MOVE) fixes. A command must succeed exactly when
the rights allow it, do exactly what it says (the effects are checked, not
only the responses), and a denial to a caller without "l" and "r" must be
byte for byte the answer for a mailbox that does not exist.

The rules the expectations follow are the project's reading of §4, in
acl/command_rights.h and docs/acl.md:

    LIST, LSUB             "l" (LSUB shows an invisible name as it shows a
                           subscribed name that does not exist)
    SELECT EXAMINE STATUS  "r"; with none of "s w i t e" SELECT is READ-ONLY
    MYRIGHTS               any of "l r i k x a"
    GETACL LISTRIGHTS
    SETACL DELETEACL       "a"
    APPEND, COPY/MOVE into "i"; the flags they carry need "s" (\\Seen),
                           "t" (\\Deleted), "w" (others) and are dropped
                           silently without them
    CREATE                 "k" on the parent
    DELETE                 "x"
    RENAME                 "x" on the old name, "k" on the new parent
    EXPUNGE                "e"
    STORE                  \\Seen "s", \\Deleted "t", other flags "w"; fails
                           only when none of its flags may change
    FETCH BODY[]           sets \\Seen only with "s"
    MOVE out of            "t" and "e" (RFC 6851 §4.2)
    CLOSE                  expunges only with "e", never fails for it
    selected state, read-only mailbox (r without s w i t e):
                           STORE, EXPUNGE, MOVE answer NO [READ-ONLY]

A denial is NO [NOPERM] when the caller has "l" or "r", and otherwise the
exact bytes a missing sibling name gets (NO [NONEXISTENT] for commands that
name the mailbox; CREATE and RENAME's new parent are checked on a mailbox
the client did not name, and there the missing parent's answer is NO
[NOPERM]). Commands of the selected state are checked when "r" lets the
caller select; otherwise the refused SELECT is their expected denial.

In the personal namespace the caller owns the mailboxes: an entry naming
the owner replaces the owner's default of all rights, but the owner always
keeps "l" and "a"; group and "anyone" entries do not name the owner, so the
default stays (docs/acl.md, acl/evaluate.h).

Each test is one (namespace, principal) pair and runs every rights set and
command through three pipelined sessions (setup, caller, a watcher with all
rights who checks the effects), collecting every mismatch into one failure.
The mailboxes belong to fresh owners; "anyone" entries are removed at the
end of their test, whatever happens, so that no other test of the shared
instance ever sees them.
"""

import os
import re
import threading

import pytest

from imapclient import connect

ALL = "lrswipkxtea"
RIGHTS_SETS = ([(f"one-{c}", c) for c in ALL] +
               [(f"but-{c}", ALL.replace(c, "")) for c in ALL])
KINDS = ("user", "group", "anyone", "negative")
NAMESPACES = ("personal", "other", "shared")

# The checks made for each (rights set, principal, namespace); the count of
# the "rights set x command x principal x namespace" cases.
COMMANDS = (
    "LIST", "LSUB", "SELECT", "EXAMINE", "STATUS", "MYRIGHTS", "GETACL", "LISTRIGHTS",
    "SETACL", "DELETEACL", "APPEND", "COPY into", "MOVE into", "CREATE child", "DELETE",
    "RENAME from", "RENAME to", "EXPUNGE", "STORE \\Seen", "STORE \\Deleted",
    "STORE \\Flagged", "STORE keyword", "STORE mixed", "FETCH BODY[]", "COPY from",
    "MOVE from", "CLOSE",
)

# Server bugs this matrix found, each as the exact (namespace, principal,
# rights set, check) cases it makes fail. A mismatch listed here does not
# fail the test; an entry that no longer mismatches does, so that the fix
# removes its block. Every other mismatch fails.
# Server bugs the matrix found, as (namespace, principal, rights set,
# check) tuples, kept here until fixed; each must still fail, so a fix
# makes the test say which entries to remove. None at the moment (COPY and
# MOVE used to keep flags the caller may not set in the target).
KNOWN_BUGS = set()

KW = "$MatrixKw"
MSG = ("From: Owner <owner@example.org>\r\nTo: team@example.org\r\n"
       "Subject: matrix {n}\r\nMessage-ID: <matrix{n}@example.org>\r\n\r\n"
       "Body {n}.\r\n")


def q(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def letters(rights):
    """MYRIGHTS's form: canonical letters, then the virtual "c" and "d"."""
    out = "".join(c for c in ALL if c in rights)
    if "k" in rights:
        out += "c"
    if rights & set("xte"):
        out += "d"
    return out


def effective(ns, kind, rights):
    """The caller's rights on a matrix mailbox."""
    if ns == "personal":
        if kind in ("group", "anyone"):
            return set(ALL)          # the owner's default, not replaced
        return set(rights) | {"l", "a"}
    return set(rights)


class Pipe:
    """Pipelined commands on one connection: add() them, run() sends them
    all at once (from a thread, so that neither side blocks on a full
    socket buffer) and returns {key: (response after the tag, untagged)}."""

    def __init__(self, client, prefix):
        self.c, self.prefix = client, prefix
        self.items, self.chunks, self.keys = [], [], set()

    def add(self, key, text):
        assert key not in self.keys, key
        self.keys.add(key)
        tag = f"{self.prefix}{len(self.items)}"
        self.items.append((tag, key))
        if isinstance(text, str):
            text = text.encode()
        self.chunks.append(tag.encode() + b" " + text + b"\r\n")

    def run(self):
        data = b"".join(self.chunks)
        err = []

        def send():
            try:
                self.c.send(data)
            except OSError as e:      # reported by the reads that follow
                err.append(e)
        t = threading.Thread(target=send)
        t.start()
        out = {}
        try:
            for tag, key in self.items:
                tagged, untagged = self.c.read_tagged(tag, timeout=60)
                out[key] = (tagged[len(tag) + 1:], untagged)
        finally:
            t.join()
        assert not err, err
        self.items, self.chunks, self.keys = [], [], set()
        return out


def append_cmd(mailbox, msgs):
    """One (MULTI)APPEND: msgs is [(flags, text)], non-synchronising literals."""
    parts = [f"APPEND {q(mailbox)}".encode()]
    for flags, text in msgs:
        body = text.encode()
        parts.append(f" ({flags}) {{{len(body)}+}}\r\n".encode() + body)
    return b"".join(parts)


def appenduids(resp):
    m = re.search(rb"\[APPENDUID \d+ (\d+)(?::(\d+))?\]", resp)
    assert m, resp
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    return list(range(lo, hi + 1))


def code(resp):
    """'OK', 'NO [NOPERM]', 'OK [READ-ONLY]', ... of a tagged response."""
    m = re.match(rb"(OK|NO|BAD)(?: \[([A-Z-]+))?", resp)
    if not m:
        return resp.decode(errors="replace")
    word = m.group(1).decode()
    return f"{word} [{m.group(2).decode()}]" if m.group(2) else word


def fetched_flags(untagged):
    """{uid: set of flags} from FETCH responses (\\Recent left out)."""
    out = {}
    for line in untagged:
        if not re.match(rb"\* \d+ FETCH ", line):
            continue
        uid = re.search(rb"UID (\d+)", line)
        flags = re.search(rb"FLAGS \(([^)]*)\)", line)
        if uid and flags:
            out[int(uid.group(1))] = {f.decode() for f in flags.group(1).split()} - {"\\Recent"}
    return out


def list_names(untagged, kind="LIST"):
    """{name: attributes} from LIST or LSUB responses."""
    out = {}
    for line in untagged:
        line = line.decode()
        m = re.match(r'\* ' + kind + r' \(([^)]*)\) (?:"/"|NIL) (.*)$', line)
        if m:
            name = m.group(2)
            if name.startswith('"'):
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            out[name] = m.group(1)
    return out


def login(port, user):
    c = connect(port)
    tagged, _ = c.cmd("l", f"LOGIN {user} secret")
    assert tagged.startswith(b"l OK"), tagged
    return c


def new_people(env, prefixes, group_prefix, group_members):
    """Fresh people (password "secret") and one group of some of them, in
    one ldapmodify. group_members are indexes into prefixes."""
    logins, ldif = [], []
    for p in prefixes:
        env._n += 1
        login_ = f"{p}{env._n}m{os.getpid()}"
        logins.append(login_)
        ldif.append(f"dn: uid={login_},ou=people,dc=example,dc=org\nchangetype: add\n"
                    f"objectClass: inetOrgPerson\nuid: {login_}\ncn: {login_}\nsn: {login_}\n"
                    f"mail: {login_}@example.org\nuserPassword: secret\n")
    env._n += 1
    group = f"{group_prefix}{env._n}g"
    members = "".join(f"member: uid={logins[i]},ou=people,dc=example,dc=org\n"
                      for i in group_members)
    ldif.append(f"dn: cn={group},ou=groups,dc=example,dc=org\nchangetype: add\n"
                f"objectClass: groupOfNames\ncn: {group}\n{members}")
    env.slapd.ldapmodify("\n".join(ldif))
    return logins, group


class Matrix:
    """One (namespace, principal) run."""

    def __init__(self, env, ns, kind):
        self.env, self.ns, self.kind = env, ns, kind
        self.mismatches = []
        self.cases = 0

    # -- names ----------------------------------------------------------

    def names(self):
        ns = self.ns
        if ns == "personal":
            self.setup_base, self.caller_base = "", ""
            self.watch_base = f"Other Users/{self.owner}/"
        elif ns == "other":
            self.setup_base = ""
            self.caller_base = self.watch_base = f"Other Users/{self.owner}/"
        else:
            self.setup_base = self.caller_base = self.watch_base = f"Shared/{self.owner}/"

    def acl_entries(self, rights):
        """The (identifier, rights) entries that give the caller `rights`."""
        if self.kind == "user":
            return [(self.caller, rights)]
        if self.kind == "group":
            return [(f"group:{self.group}", rights)]
        if self.kind == "anyone":
            return [("anyone", rights)]
        return [(f"group:{self.group}", ALL),
                (f"-{self.caller}", "".join(c for c in ALL if c not in rights))]

    # -- reporting ------------------------------------------------------

    def mismatch(self, rset, cmd, expected, got):
        self.mismatches.append((self.ns, self.kind, rset, cmd, str(expected), str(got)))

    def check(self, rset, cmd, expected, resp, hidden_as=None):
        """expected: 'OK', 'OK [READ-ONLY]', 'NO [NOPERM]', ... or 'HIDDEN'
        (the answer for a missing mailbox, `hidden_as`, byte for byte)."""
        tagged, untagged = resp
        if expected == "HIDDEN":
            assert hidden_as is not None, (self.ns, cmd)
            if (tagged, untagged) != hidden_as:
                self.mismatch(rset, cmd, f"as for a missing mailbox: {hidden_as[0]!r} "
                              f"{hidden_as[1]!r}", f"{tagged!r} {untagged!r}")
            return False
        got = code(tagged)
        ok = got == expected if "[" in expected else got.split(" ")[0] == expected
        if not ok:
            self.mismatch(rset, cmd, expected, tagged.decode(errors="replace"))
        return ok and expected.startswith("OK")

    # -- the run --------------------------------------------------------

    def setup(self):
        env = self.env
        prefixes = ["mxcaller", "mxwatch"] + (["mxowner"] if self.ns == "other" else [])
        people, self.group = new_people(env, prefixes, "mxgrp", [0])
        self.caller, self.watcher = people[0], people[1]
        if self.ns == "personal":
            self.owner = self.caller
        elif self.ns == "other":
            self.owner = people[2]
        else:
            env._n += 1
            self.owner = f"mxteam{env._n}t"
            env.pg.psql(
                f"INSERT INTO accounts (login, kind) VALUES ('{self.owner}', 'shared');"
                f"INSERT INTO mailboxes (owner_id, name, seen_per_user) SELECT id, 'INBOX', true"
                f" FROM accounts WHERE login = '{self.owner}';"
                f"INSERT INTO acl (mailbox_id, identifier, rights) SELECT m.id, '{self.watcher}',"
                f" '{ALL}' FROM mailboxes m JOIN accounts a ON a.id = m.owner_id"
                f" WHERE a.login = '{self.owner}' AND m.name = 'INBOX';")
        self.names()
        port = env.imap_port
        self.c = login(port, self.caller)
        self.w = login(port, self.watcher)
        if self.ns == "other":
            self.s = login(port, self.owner)
        elif self.ns == "shared":
            self.s = self.w
        else:
            self.s = login(port, self.caller)

        # The caller's own Scratch: the other end of COPY and MOVE.
        p = Pipe(self.c, "c")
        p.add("create", "CREATE Scratch")
        n = 2 * len(RIGHTS_SETS) + 2
        p.add("append", append_cmd("Scratch", [(f"\\Seen \\Flagged \\Deleted {KW}",
                                                 MSG.format(n=f"s{i}")) for i in range(n)]))
        r = p.run()
        assert r["create"][0].startswith(b"OK"), r["create"]
        suids = appenduids(r["append"][0])
        self.scratch_copy = {rs: suids[2 * i] for i, (rs, _) in enumerate(RIGHTS_SETS)}
        self.scratch_move = {rs: suids[2 * i + 1] for i, (rs, _) in enumerate(RIGHTS_SETS)}
        self.scratch_spare = suids[-2:]

        # The owner's mailboxes: per rights set the main one (4 messages,
        # the third \Deleted), /D to delete, /R to rename, /T to insert
        # into; Open (all rights for the caller) with one child per set to
        # rename below the matrix mailbox, and one spare.
        b = self.setup_base
        p = Pipe(self.s, "s")
        matrix_boxes = []
        for rs, _ in RIGHTS_SETS:
            matrix_boxes += [rs, f"{rs}/D", f"{rs}/R", f"{rs}/T"]
        open_boxes = ["Open"] + [f"Open/{rs}" for rs, _ in RIGHTS_SETS] + ["Open/spare"]
        for box in matrix_boxes + open_boxes:
            p.add(("create", box), f"CREATE {q(b + box)}")
        for rs, _ in RIGHTS_SETS:
            p.add(("append", rs), append_cmd(b + rs, [
                ("", MSG.format(n=f"{rs}-1")), ("", MSG.format(n=f"{rs}-2")),
                ("\\Deleted", MSG.format(n=f"{rs}-3")), ("", MSG.format(n=f"{rs}-4"))]))
        for box in matrix_boxes + open_boxes:
            p.add(("watcher", box), f"SETACL {q(b + box)} {self.watcher} {ALL}")
        if self.ns != "personal":
            for box in open_boxes:
                p.add(("open", box), f"SETACL {q(b + box)} {self.caller} {ALL}")
        for rs, rights in RIGHTS_SETS:
            for box in (rs, f"{rs}/D", f"{rs}/R", f"{rs}/T"):
                for ident, letters_ in self.acl_entries(rights):
                    p.add(("grant", box, ident), f"SETACL {q(b + box)} {ident} {letters_}")
                # The entry DELETEACL removes; nobody is in this group.
                if box == rs:
                    p.add(("grant", box, "xd"), f"SETACL {q(b + box)} group:{self.group}xd lr")
        r = p.run()
        bad = {k: v for k, v in r.items() if not v[0].startswith(b"OK")}
        assert not bad, f"setup failed: {bad}"
        self.uids = {rs: appenduids(r[("append", rs)][0]) for rs, _ in RIGHTS_SETS}

    def run_caller(self):
        """Everything the caller does, in one pipeline; returns its answers."""
        cb, grp = self.caller_base, self.group
        p = Pipe(self.c, "m")
        missing = cb + "nope"
        hidden = self.ns != "personal"       # the caller owns (and sees) the personal ones

        # Authenticated state.
        for rs, _ in RIGHTS_SETS:
            p.add(("SUBSCRIBE", rs), f"SUBSCRIBE {q(cb + rs)}")
        p.add("SUBSCRIBE missing", f"SUBSCRIBE {q(missing)}")
        p.add("LIST", f'LIST "" {q(cb + "*")}')
        p.add("LSUB", f'LSUB "" {q(cb + "*")}')
        for rs, _ in RIGHTS_SETS:
            box = q(cb + rs)
            p.add(("STATUS", rs), f"STATUS {box} (MESSAGES)")
            p.add(("MYRIGHTS", rs), f"MYRIGHTS {box}")
            p.add(("GETACL", rs), f"GETACL {box}")
            p.add(("LISTRIGHTS", rs), f"LISTRIGHTS {box} group:{grp}xs")
            p.add(("SETACL", rs), f"SETACL {box} group:{grp}xs lr")
            p.add(("DELETEACL", rs), f"DELETEACL {box} group:{grp}xd")
            p.add(("EXAMINE", rs), f"EXAMINE {box}")
        if hidden:
            box = q(missing)
            p.add(("STATUS", None), f"STATUS {box} (MESSAGES)")
            p.add(("MYRIGHTS", None), f"MYRIGHTS {box}")
            p.add(("GETACL", None), f"GETACL {box}")
            p.add(("LISTRIGHTS", None), f"LISTRIGHTS {box} group:{grp}xs")
            p.add(("SETACL", None), f"SETACL {box} group:{grp}xs lr")
            p.add(("DELETEACL", None), f"DELETEACL {box} group:{grp}xd")
            p.add(("EXAMINE", None), f"EXAMINE {box}")
            p.add(("SELECT", None), f"SELECT {box}")

        # Selected state in each matrix mailbox.
        for rs, rights in RIGHTS_SETS:
            e = effective(self.ns, self.kind, rights)
            p.add(("SELECT", rs), f"SELECT {q(cb + rs)}")
            if "r" not in e:
                continue
            u1, u2, _, u4 = self.uids[rs]
            p.add(("EXPUNGE", rs), "EXPUNGE")
            p.add(("STORE \\Seen", rs), f"UID STORE {u1} +FLAGS (\\Seen)")
            p.add(("STORE \\Deleted", rs), f"UID STORE {u1} +FLAGS (\\Deleted)")
            p.add(("STORE \\Flagged", rs), f"UID STORE {u1} +FLAGS (\\Flagged)")
            p.add(("STORE keyword", rs), f"UID STORE {u1} +FLAGS ({KW})")
            p.add(("STORE mixed", rs), f"UID STORE {u4} +FLAGS (\\Seen \\Deleted \\Flagged)")
            p.add(("FETCH BODY[]", rs), f"UID FETCH {u2} BODY[]")
            p.add(("flags", rs), f"UID FETCH {u1},{u2},{u4} (FLAGS)")
            p.add(("COPY from", rs), f"UID COPY {u2} Scratch")
            p.add(("MOVE from", rs), f"UID MOVE {u2} Scratch")
            p.add(("CLOSE", rs), "CLOSE")

        # Inserting into /T from Scratch, and the mailbox-level commands.
        p.add("SELECT Scratch", "SELECT Scratch")
        for rs, _ in RIGHTS_SETS:
            t = q(cb + rs + "/T")
            p.add(("COPY into", rs), f"UID COPY {self.scratch_copy[rs]} {t}")
            p.add(("MOVE into", rs), f"UID MOVE {self.scratch_move[rs]} {t}")
            p.add(("APPEND", rs), append_cmd(cb + rs + "/T", [
                (f"\\Seen \\Flagged \\Deleted {KW}", MSG.format(n=f"{rs}-a"))]))
        if hidden:
            p.add(("COPY into", None), f"UID COPY {self.scratch_spare[0]} {q(missing)}")
            p.add(("MOVE into", None), f"UID MOVE {self.scratch_spare[1]} {q(missing)}")
            p.add(("APPEND", None), append_cmd(missing, [("", MSG.format(n="missing"))]))
        p.add("UNSELECT Scratch", "UNSELECT")
        for rs, _ in RIGHTS_SETS:
            p.add(("CREATE child", rs), f"CREATE {q(cb + rs + '/C')}")
            p.add(("DELETE", rs), f"DELETE {q(cb + rs + '/D')}")
            p.add(("RENAME from", rs), f"RENAME {q(cb + rs + '/R')} {q(cb + 'Open/R-' + rs)}")
            p.add(("RENAME to", rs), f"RENAME {q(cb + 'Open/' + rs)} {q(cb + rs + '/N')}")
        if hidden:
            p.add(("CREATE child", None), f"CREATE {q(missing + '/C')}")
            p.add(("DELETE", None), f"DELETE {q(missing)}")
            p.add(("RENAME from", None), f"RENAME {q(missing)} {q(cb + 'Open/R-missing')}")
            p.add(("RENAME to", None), f"RENAME {q(cb + 'Open/spare')} {q(missing + '/N')}")

        # What the caller sees of what was inserted (\Seen is the reader's).
        for rs, rights in RIGHTS_SETS:
            if "r" in effective(self.ns, self.kind, rights):
                p.add(("EXAMINE T", rs), f"EXAMINE {q(cb + rs + '/T')}")
                p.add(("flags T", rs), "UID FETCH 1:* (FLAGS)")
        return p.run()

    def run_watcher(self):
        wb = self.watch_base
        p = Pipe(self.w, "w")
        p.add("LIST", f'LIST "" {q(wb + "*")}')
        for rs, _ in RIGHTS_SETS:
            p.add(("GETACL", rs), f"GETACL {q(wb + rs)}")
            p.add(("EXAMINE", rs), f"EXAMINE {q(wb + rs)}")
            p.add(("flags", rs), "UID FETCH 1:* (FLAGS)")
            p.add(("EXAMINE T", rs), f"EXAMINE {q(wb + rs + '/T')}")
            p.add(("flags T", rs), "UID FETCH 1:* (FLAGS)")
        r = p.run()
        bad = {k: v for k, v in r.items() if not v[0].startswith(b"OK")}
        assert not bad, f"the watcher could not look: {bad}"
        return r

    def verify(self, r, w):
        cb, wb = self.caller_base, self.watch_base
        hidden = self.ns != "personal"
        missing = cb + "nope"
        listed = list_names(r["LIST"][1])
        lsubbed = list_names(r["LSUB"][1], "LSUB")
        watched = list_names(w["LIST"][1])
        if hidden:
            assert missing not in listed, listed
            assert missing in lsubbed, lsubbed
            # The answers for a mailbox that does not exist: the standard.
            for key, resp in r.items():
                if isinstance(key, tuple) and key[1] is None:
                    want = "NO [NOPERM]" if key[0] in ("CREATE child", "RENAME to") \
                        else "NO [NONEXISTENT]"
                    if code(resp[0]) != want:
                        self.mismatch("(missing)", key[0], want, resp[0].decode())

        for rs, rights in RIGHTS_SETS:
            e = effective(self.ns, self.kind, rights)
            self.cases += len(COMMANDS)
            # Who may know the mailbox exists is refused with NOPERM.
            deny = "NO [NOPERM]" if e & {"l", "r"} else "HIDDEN"

            def chk(cmd, allowed, rs=rs, deny=deny):
                return self.check(rs, cmd, "OK" if allowed else deny, r[(cmd, rs)],
                                  r.get((cmd, None)))

            # LIST and LSUB.
            name = cb + rs
            if ("l" in e) != (name in listed):
                self.mismatch(rs, "LIST", "listed" if "l" in e else "not listed",
                              "listed" if name in listed else "not listed")
            if name not in lsubbed:
                self.mismatch(rs, "LSUB", "subscribed name listed", "absent")
            elif "l" in e and "\\Noselect" in lsubbed[name]:
                self.mismatch(rs, "LSUB", "()", f"({lsubbed[name]})")
            elif "l" not in e and lsubbed[name] != lsubbed.get(missing):
                self.mismatch(rs, "LSUB", f"({lsubbed.get(missing)}) as for a missing name",
                              f"({lsubbed[name]})")

            # Authenticated-state commands on the mailbox.
            if chk("STATUS", "r" in e) and \
                    b"MESSAGES 4" not in b"".join(r[("STATUS", rs)][1]):
                self.mismatch(rs, "STATUS", "MESSAGES 4", r[("STATUS", rs)][1])
            if chk("MYRIGHTS", e & set("lrikxa")):
                u = r[("MYRIGHTS", rs)][1]
                if len(u) != 1 or u[0].split()[-1].decode() != letters(e):
                    self.mismatch(rs, "MYRIGHTS", letters(e), u)
            if chk("GETACL", "a" in e) and \
                    not r[("GETACL", rs)][1][0].startswith(b"* ACL "):
                self.mismatch(rs, "GETACL", "* ACL", r[("GETACL", rs)][1])
            if chk("LISTRIGHTS", "a" in e) and \
                    not r[("LISTRIGHTS", rs)][1][0].startswith(b"* LISTRIGHTS "):
                self.mismatch(rs, "LISTRIGHTS", "* LISTRIGHTS", r[("LISTRIGHTS", rs)][1])
            acl = w[("GETACL", rs)][1][0].decode()
            chk("SETACL", "a" in e)
            if (f" group:{self.group}xs lr" in acl) != ("a" in e):
                self.mismatch(rs, "SETACL", "entry added" if "a" in e else "no entry added", acl)
            chk("DELETEACL", "a" in e)
            if (f" group:{self.group}xd " in acl) == ("a" in e):
                self.mismatch(rs, "DELETEACL", "entry removed" if "a" in e else "entry kept", acl)
            exam = r[("EXAMINE", rs)]
            if self.check(rs, "EXAMINE", "OK [READ-ONLY]" if "r" in e else deny,
                          exam, r.get(("EXAMINE", None))) and b"* 4 EXISTS" not in exam[1]:
                self.mismatch(rs, "EXAMINE", "* 4 EXISTS", exam[1])

            # SELECT and the selected state.
            rw = "r" in e and bool(e & set("swite"))
            want_select = ("OK [READ-WRITE]" if rw else "OK [READ-ONLY]") if "r" in e \
                else deny
            self.check(rs, "SELECT", want_select, r[("SELECT", rs)], r.get(("SELECT", None)))
            u1, u2, u3, u4 = self.uids[rs]
            # The state the watcher must find: {uid: flags but \Seen}.
            state = {u1: set(), u2: set(), u3: {"\\Deleted"}, u4: set()}
            if "r" in e and code(r[("SELECT", rs)][0]).startswith("OK"):
                ro = "NO [READ-ONLY]"

                def sel(cmd, allowed):
                    return self.check(rs, cmd, ("OK" if allowed else "NO [NOPERM]") if rw
                                      else ro, r[(cmd, rs)])
                if sel("EXPUNGE", "e" in e):
                    del state[u3]
                    if b"* 3 EXPUNGE" not in r[("EXPUNGE", rs)][1]:
                        self.mismatch(rs, "EXPUNGE", "* 3 EXPUNGE", r[("EXPUNGE", rs)][1])
                want1, want2, want4 = set(), set(), set()
                for cmd, right, flag in (("STORE \\Seen", "s", "\\Seen"),
                                         ("STORE \\Deleted", "t", "\\Deleted"),
                                         ("STORE \\Flagged", "w", "\\Flagged"),
                                         ("STORE keyword", "w", KW)):
                    sel(cmd, right in e)
                    if rw and right in e:
                        want1.add(flag)
                sel("STORE mixed", e & set("stw"))
                if rw:
                    want4 = ({"\\Seen"} if "s" in e else set()) | \
                        ({"\\Deleted"} if "t" in e else set()) | \
                        ({"\\Flagged"} if "w" in e else set())
                    if "s" in e:
                        want2.add("\\Seen")
                self.check(rs, "FETCH BODY[]", "OK", r[("FETCH BODY[]", rs)])
                got = fetched_flags(r[("flags", rs)][1])
                for cmd, uid, want in (("STORE (effect on flags)", u1, want1),
                                       ("FETCH BODY[] (\\Seen)", u2, want2),
                                       ("STORE mixed (effect on flags)", u4, want4)):
                    if got.get(uid) != want:
                        self.mismatch(rs, cmd, sorted(want), sorted(got.get(uid, {"(none)"})))
                state[u1] = want1 - {"\\Seen"}
                state[u4] = want4 - {"\\Seen"}
                if self.check(rs, "COPY from", "OK", r[("COPY from", rs)]) and \
                        b"[COPYUID " not in r[("COPY from", rs)][0]:
                    self.mismatch(rs, "COPY from", "COPYUID", r[("COPY from", rs)][0])
                if sel("MOVE from", "t" in e and "e" in e):
                    del state[u2]
                self.check(rs, "CLOSE", "OK", r[("CLOSE", rs)])
                if rw and "e" in e:
                    state = {u: f for u, f in state.items() if "\\Deleted" not in f}
            got = {u: f - {"\\Seen"} for u, f in fetched_flags(w[("flags", rs)][1]).items()}
            if got != state:
                who = {u1: "STORE/CLOSE", u2: "MOVE from", u3: "EXPUNGE", u4: "STORE mixed/CLOSE"}
                for uid in sorted(set(got) | set(state)):
                    if got.get(uid) != state.get(uid):
                        self.mismatch(rs, f"{who[uid]} (final state of uid {uid})",
                                      sorted(state[uid]) if uid in state else "expunged",
                                      sorted(got[uid]) if uid in got else "expunged")

            # Inserting: APPEND, COPY and MOVE into /T, flags by the rights.
            chk("APPEND", "i" in e)
            chk("COPY into", "i" in e)
            chk("MOVE into", "i" in e)
            kept = (({"\\Flagged", KW} if "w" in e else set()) |
                    ({"\\Deleted"} if "t" in e else set()))
            got = {u: f - {"\\Seen"} for u, f in fetched_flags(w[("flags T", rs)][1]).items()}
            if "i" not in e and got:
                self.mismatch(rs, "APPEND/COPY/MOVE into (effect)", "nothing inserted",
                              [sorted(f) for f in got.values()])
            inserted = self.inserted(r, rs) if "i" in e else {}
            if "i" in e and len(got) != 3:
                self.mismatch(rs, "APPEND/COPY/MOVE into (effect)", "3 new messages",
                              f"{len(got)} messages")
            for cmd, uid in inserted.items():
                if got.get(uid) != kept:
                    self.mismatch(rs, f"{cmd} (flags of the new message)", sorted(kept),
                                  sorted(got[uid]) if uid in got else "no such message")
            if ("EXAMINE T", rs) in r:
                seen = fetched_flags(r[("flags T", rs)][1])
                for cmd, uid in inserted.items():
                    if uid not in seen or ("\\Seen" in seen[uid]) != ("s" in e):
                        self.mismatch(rs, f"{cmd} (\\Seen for the caller)",
                                      "\\Seen" if "s" in e else "no \\Seen",
                                      sorted(seen[uid]) if uid in seen else "no such message")

            # Mailbox-level commands, and what the watcher finds after them.
            chk("CREATE child", "k" in e)
            chk("DELETE", "x" in e)
            chk("RENAME from", "x" in e)
            chk("RENAME to", "k" in e)
            for cmd, box, there in (("CREATE child", f"{rs}/C", "k" in e),
                                    ("DELETE", f"{rs}/D", "x" not in e),
                                    ("RENAME from", f"{rs}/R", "x" not in e),
                                    ("RENAME from", f"Open/R-{rs}", "x" in e),
                                    ("RENAME to", f"Open/{rs}", "k" not in e),
                                    ("RENAME to", f"{rs}/N", "k" in e)):
                if (wb + box in watched) != there:
                    self.mismatch(rs, f"{cmd} (effect)", f"{box} {'exists' if there else 'gone'}",
                                  f"{box} {'exists' if wb + box in watched else 'gone'}")

    def inserted(self, r, rs):
        """{command: UID of the message it put into <rs>/T}, from APPENDUID
        and COPYUID (MOVE's comes untagged, RFC 6851 §4.3)."""
        out = {}
        m = re.search(rb"\[APPENDUID \d+ (\d+)\]", r[("APPEND", rs)][0])
        if m:
            out["APPEND"] = int(m.group(1))
        m = re.search(rb"\[COPYUID \d+ \S+ (\d+)\]", r[("COPY into", rs)][0])
        if m:
            out["COPY into"] = int(m.group(1))
        for line in r[("MOVE into", rs)][1]:
            m = re.search(rb"\[COPYUID \d+ \S+ (\d+)\]", line)
            if m:
                out["MOVE into"] = int(m.group(1))
        for cmd in ("APPEND", "COPY into", "MOVE into"):
            if cmd not in out:
                self.mismatch(rs, cmd, "a UID for the new message (APPENDUID/COPYUID)",
                              r[(cmd, rs)])
        return out

    def cleanup(self):
        for conn in {id(x): x for x in (self.c, self.w, getattr(self, "s", None)) if x}.values():
            conn.close()

    def drop_anyone(self):
        """No "anyone" entry may outlive the test: other tests compare exact
        LIST output on the shared instance."""
        self.env.pg.psql(
            "DELETE FROM acl WHERE identifier IN ('anyone', '-anyone') AND mailbox_id IN"
            " (SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.owner_id"
            f"  WHERE a.login = '{self.owner}')")
        left = self.env.pg.psql(
            "SELECT count(*) FROM acl JOIN mailboxes m ON m.id = acl.mailbox_id"
            " JOIN accounts a ON a.id = m.owner_id"
            f" WHERE acl.identifier = 'anyone' AND a.login = '{self.owner}'")
        assert left.strip() == "0", left


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ns", NAMESPACES)
def test_acl_matrix(env, ns, kind):
    m = Matrix(env, ns, kind)
    try:
        m.setup()
        r = m.run_caller()
        w = m.run_watcher()
        m.verify(r, w)
    finally:
        try:
            if hasattr(m, "owner") and (kind == "anyone"):
                m.drop_anyone()
        finally:
            if hasattr(m, "c"):
                m.cleanup()
    assert m.cases == len(RIGHTS_SETS) * len(COMMANDS)
    bugs = {b for b in KNOWN_BUGS if b[:2] == (ns, kind)}
    failing = {x[:4] for x in m.mismatches}
    new = [x for x in m.mismatches if x[:4] not in bugs]
    fixed = sorted(bugs - failing)
    lines = [f"{n}/{k} {rs}: {cmd}: expected {exp}, got {got}"
             for n, k, rs, cmd, exp, got in new]
    lines += [f"KNOWN_BUGS entry {b} no longer fails: remove it" for b in fixed]
    assert not lines, f"{len(lines)} ACL matrix mismatches:\n" + "\n".join(lines)
