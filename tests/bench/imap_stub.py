#!/usr/bin/python3
"""A trivial IMAP server for calibrating the load generator (imap_load.py).

    imap_stub.py PROCS PORT MESSAGES STATUS_COUNT MAILBOX...

Answers every command at once with canned but well-formed responses, from
a per-session mailbox of MESSAGES messages (UIDs 1..MESSAGES): SELECT,
UID FETCH 1:* (FLAGS), FETCH of ENVELOPE/BODYSTRUCTURE/header fields, UID
STORE (keeps the flags it was given), APPEND (LITERAL+; announces the new
message with EXISTS and answers APPENDUID), UID EXPUNGE, LIST (the
MAILBOX names), STATUS (MESSAGES = STATUS_COUNT), LOGIN, LOGOUT, NOOP. Nothing
is stored and nothing is shared between sessions, so its cost per command
is a few microseconds of Python: what the load generator reaches against
it is the generator's own ceiling on this machine (it shares the cores).

PROCS processes serve the port: this one and PROCS - 1 forked children that
share its listening socket and die with it (bench_mixed.py starts as many as
the load generator has, and counts their CPU as one process tree).
"""

import ctypes
import os
import re
import selectors
import signal
import socket
import sys

RE_LITERAL = re.compile(rb"\{(\d+)\+?\}$")
FLAGS = rb"\Answered \Flagged \Deleted \Seen \Draft $Forwarded $Label1 $Label2 $Label3 $Label4 $Label5"
ENVELOPE = (b'ENVELOPE ("Mon, 3 Mar 2025 10:00:00 +0100" "Quarterly report meeting schedule" '
            b'(("Alice Adams" NIL "alice.adams" "example.org")) '
            b'(("Alice Adams" NIL "alice.adams" "example.org")) '
            b'(("Alice Adams" NIL "alice.adams" "example.org")) '
            b'(("Bob Baker" NIL "bob.baker" "example.com")) NIL NIL NIL '
            b'"<1.abcdef@example.org>") '
            b'BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 1520 31 NIL NIL '
            b'NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 2210 40 NIL '
            b'NIL NIL NIL) "alternative" ("boundary" "=_alt_1") NIL NIL NIL)')
HEADER = (b"From: Alice Adams <alice.adams@example.org>\r\nTo: Bob Baker <bob.baker@example.com>"
          b"\r\nSubject: Quarterly report meeting schedule\r\n"
          b"Date: Mon, 3 Mar 2025 10:00:00 +0100\r\n\r\n")
FETCH_HEADER = b" BODY[HEADER.FIELDS (FROM TO SUBJECT DATE)] {%d}\r\n" % len(HEADER) + HEADER + b")\r\n"


class Session:
    def __init__(self, srv, sock):
        self.srv, self.sock = srv, sock
        self.buf = bytearray()
        self.uids = list(range(1, srv.messages + 1))
        self.flags = {}                 # uid -> flags (bytes) once stored
        self.uidnext = srv.messages + 1
        self.flags_cache = None
        sock.sendall(b"* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] stub ready\r\n")

    def on_readable(self):
        data = self.sock.recv(1 << 18)
        if not data:
            return self.close()
        self.buf += data
        pos = 0
        while True:
            e = self.buf.find(b"\r\n", pos)
            if e < 0:
                break
            m = RE_LITERAL.search(self.buf, max(pos, e - 24), e)
            if m:                       # APPEND: the literal and the rest of the line
                end = self.buf.find(b"\r\n", e + 2 + int(m.group(1)))
                if end < 0:
                    break
                line, pos = bytes(self.buf[pos:e]), end + 2
            else:
                line, pos = bytes(self.buf[pos:e]), e + 2
            out = self.command(line)
            if out is None:
                return self.close()
            self.sock.sendall(out)
        del self.buf[:pos]

    def close(self):
        self.srv.sel.unregister(self.sock)
        self.sock.close()

    def command(self, line):
        tag, _, rest = line.partition(b" ")
        words = rest.split(b" ")
        cmd = words[0].upper()
        if cmd == b"UID":
            cmd = b"UID " + words[1].upper()
        h = HANDLERS.get(cmd)
        if h is None:
            return tag + b" BAD unknown command\r\n"
        return h(self, tag, words)

    def c_login(self, tag, w):
        return tag + b" OK logged in\r\n"

    def c_logout(self, tag, w):
        self.sock.sendall(b"* BYE logging out\r\n" + tag + b" OK LOGOUT completed\r\n")
        return None

    def c_noop(self, tag, w):
        return tag + b" OK NOOP completed\r\n"

    def c_select(self, tag, w):
        return (b"* FLAGS (%s)\r\n* OK [PERMANENTFLAGS (%s \\*)] ok\r\n* %d EXISTS\r\n"
                b"* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT %d] ok\r\n"
                b"%s OK [READ-WRITE] SELECT completed\r\n"
                % (FLAGS, FLAGS, len(self.uids), self.uidnext, tag))

    def c_uid_fetch(self, tag, w):
        if self.flags_cache is None:
            fl = self.flags
            self.flags_cache = b"".join(b"* %d FETCH (UID %d FLAGS (%s))\r\n"
                                        % (i + 1, u, fl.get(u, b"\\Seen"))
                                        for i, u in enumerate(self.uids))
        return self.flags_cache + tag + b" OK FETCH completed\r\n"

    def c_fetch(self, tag, w):
        lo, hi = (int(x) for x in w[1].split(b":"))
        out = [b"* %d FETCH (UID %d %s%s" % (n, self.uids[n - 1], ENVELOPE, FETCH_HEADER)
               for n in range(lo, min(hi, len(self.uids)) + 1)]
        return b"".join(out) + tag + b" OK FETCH completed\r\n"

    def c_uid_store(self, tag, w):
        uid = int(w[2])
        if uid not in self.uids:
            return tag + b" OK STORE completed\r\n"
        have = set(self.flags.get(uid, b"\\Seen").split())
        given = set(b" ".join(w[4:]).strip(b"()").split())
        have = have | given if w[3].startswith(b"+") else have - given
        self.flags[uid] = b" ".join(sorted(have))
        self.flags_cache = None
        return (b"* %d FETCH (UID %d FLAGS (%s))\r\n%s OK STORE completed\r\n"
                % (self.uids.index(uid) + 1, uid, self.flags[uid], tag))

    def c_append(self, tag, w):
        uid = self.uidnext
        self.uidnext += 1
        self.uids.append(uid)
        self.flags_cache = None
        return (b"* %d EXISTS\r\n%s OK [APPENDUID 1 %d] APPEND completed\r\n"
                % (len(self.uids), tag, uid))

    def c_uid_expunge(self, tag, w):
        uid = int(w[2])
        out = b""
        if uid in self.uids:
            out = b"* %d EXPUNGE\r\n" % (self.uids.index(uid) + 1)
            self.uids.remove(uid)
            self.flags.pop(uid, None)
            self.flags_cache = None
        return out + tag + b" OK EXPUNGE completed\r\n"

    def c_list(self, tag, w):
        return b"".join(b'* LIST (\\HasNoChildren) "/" "%s"\r\n' % n
                        for n in self.srv.names) + tag + b" OK LIST completed\r\n"

    def c_status(self, tag, w):
        return (b"* STATUS %s (MESSAGES %d UIDNEXT %d UNSEEN 0)\r\n%s OK STATUS completed\r\n"
                % (w[1], self.srv.status_count, self.srv.status_count + 1, tag))


HANDLERS = {b"LOGIN": Session.c_login, b"LOGOUT": Session.c_logout, b"NOOP": Session.c_noop,
            b"SELECT": Session.c_select, b"UID FETCH": Session.c_uid_fetch,
            b"FETCH": Session.c_fetch, b"UID STORE": Session.c_uid_store,
            b"APPEND": Session.c_append, b"UID EXPUNGE": Session.c_uid_expunge,
            b"LIST": Session.c_list, b"STATUS": Session.c_status}


class Server:
    def __init__(self, port, messages, status_count, names):
        self.messages, self.status_count = messages, status_count
        self.names = [n.encode() for n in names]
        self.sel = None
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(512)
        self.lsock.setblocking(False)

    def serve(self):
        # One selector per process, made after the fork: an epoll set is
        # shared across fork.
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.lsock, selectors.EVENT_READ, None)
        while True:
            for key, _ in self.sel.select():
                if key.data is None:
                    try:
                        sock, _ = self.lsock.accept()
                    except BlockingIOError:     # another process took it
                        continue
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.sel.register(sock, selectors.EVENT_READ, Session(self, sock))
                else:
                    try:
                        key.data.on_readable()
                    except OSError:
                        key.data.close()


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    srv = Server(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:])
    children = []
    for _ in range(int(sys.argv[1]) - 1):
        pid = os.fork()
        if pid == 0:
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG
            srv.serve()
        children.append(pid)

    def stop(signum, frame):
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    srv.serve()


if __name__ == "__main__":
    main()
