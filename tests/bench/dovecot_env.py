"""A private Dovecot 2.3 for the store benchmark: the comparison point.

Started from a config written into its own directory (never /etc/dovecot),
listening on one loopback port, plaintext IMAP only (ssl = no; loopback
connections count as secured), one static password for every user
(passdb static), mail as the unprivileged `nobody` user in
maildir:DIR/home/<user>/Maildir. Everything else is Dovecot's default —
in particular mail_fsync = optimized, which fsyncs every message saved by
APPEND before the OK, and the default index/cache settings.

The master runs in the foreground (-F) as our child, in its own session and
with a parent-death signal, like the services of tests/harness/kairan_env.py,
and registers with that module so that kairan_env.stop_all() (atexit) stops
it too.
"""

import os
import pwd
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))

import kairan_env as ke  # noqa: E402

DOVECOT = "/usr/sbin/dovecot"
MAIL_USER = "nobody"

CONF = """\
# Written by tests/bench/dovecot_env.py: a private Dovecot for the benchmark.
# No !include of /etc/dovecot: only what is here and Dovecot's defaults.
instance_name = kairan-bench-{port}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = imap{protocols}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
# first_valid_uid defaults to 500: nobody (65534) qualifies.
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  # allow_all_users: LMTP asks the userdb whether a recipient exists.
  args = uid={uid} gid={gid} home={dir}/home/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  # Default 10: the benchmark opens up to `clients` + 2 at once.
  mail_max_userip_connections = 1000
}}
{lmtp}"""

# With lmtp_port (bench_lmtp.py): LMTP on that loopback port. Recipients
# "user@domain" are the user "user" (auth_username_format), as kairand's
# bench users are; Dovecot's LMTP saves one recipient's copy and, for the
# others of the same transaction, copies it (hard links in maildir).
LMTP_CONF = """\
auth_username_format = %Ln
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
"""

# With fts_xapian=True (Debian's dovecot-fts-xapian): full-text search
# through the Xapian plugin, as an admin who wants fast search enables it
# (its README's settings: substrings of 3 to 20 characters indexed).
# fts_enforced: a search the index cannot serve fails instead of quietly
# reading every message, so a timed search is the index's. verbose=1 makes
# the plugin log each query, which shows in dovecot.log that it was used.
XAPIAN_CONF = """\
mail_plugins = $mail_plugins fts fts_xapian
plugin {{
  fts = xapian
  fts_xapian = partial=3 full=20 verbose=1
  fts_autoindex = yes
  fts_enforced = yes
}}
"""
XAPIAN_PLUGIN = "/usr/lib/dovecot/modules/lib21_fts_xapian_plugin.so"
DOVEADM = "/usr/bin/doveadm"


def available():
    return os.access(DOVECOT, os.X_OK)


def xapian_available():
    return os.path.exists(XAPIAN_PLUGIN)


def version():
    r = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True)
    return r.stdout.strip()


def lmtp_available():
    return os.access("/usr/lib/dovecot/lmtp", os.X_OK)


def install(packages=("dovecot-imapd",)):
    """apt-get install dovecot-imapd (the caller asked for it with --with-dovecot),
    dovecot-lmtpd (bench_lmtp.py), or dovecot-fts-xapian with --with-dovecot-xapian.
    A single name may be given as a string. Debian's postinst would start the
    system-wide dovecot where an init system allows it; we never use that instance."""
    if isinstance(packages, str):
        packages = (packages,)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        r = subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or not available():
        raise ke.HarnessError(f"apt-get install {' '.join(packages)} failed:\n" + r.stdout[-2000:])


class ChildServer:
    """A server we run as a child (`proc`), registered with kairan_env while
    it runs so that kairan_env.stop_all() stops it too."""

    name = "server"
    stop_steps = [(signal.SIGTERM, 15), (signal.SIGKILL, 10)]
    proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self):
        if self.proc is not None:
            ke.terminate(self.name, self.stop_steps, proc=self.proc)
            self.proc = None
        ke._unregister(self)


class Dovecot(ChildServer):
    name = "dovecot"

    def __init__(self, dir, password, port=None, lmtp_port=None, extra_conf="", fts_xapian=False):
        self.fts_xapian = fts_xapian
        self.dir = os.path.abspath(dir)
        self.extra_conf = extra_conf    # appended to CONF (limits for many clients)
        self.password = password
        self.port = port or ke.free_port()
        self.lmtp_port = lmtp_port
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.logfile = os.path.join(self.dir, "dovecot.log")
        pw = pwd.getpwnam(MAIL_USER)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.proc = None

    def __repr__(self):
        return f"Dovecot({self.dir!r}, {self.port})"

    def home(self, user):
        return os.path.join(self.dir, "home", user)

    def maildir(self, user, mailbox="INBOX"):
        """The Maildir++ directory of `mailbox` (INBOX is the root)."""
        root = os.path.join(self.home(user), "Maildir")
        return root if mailbox == "INBOX" else os.path.join(root, "." + mailbox.replace("/", "."))

    def chown_tree(self, path):
        for d, dirs, files in os.walk(path):
            os.lchown(d, self.uid, self.gid)
            for f in files:
                os.lchown(os.path.join(d, f), self.uid, self.gid)

    def start(self, timeout=20):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        for d in ("run", "state", "home"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(os.path.join(self.dir, "home"), 0o755)
        text = CONF.format(dir=self.dir, port=self.port, password=self.password,
                           uid=self.uid, gid=self.gid,
                           protocols=" lmtp" if self.lmtp_port else "",
                           lmtp=LMTP_CONF.format(lmtp_port=self.lmtp_port) if self.lmtp_port
                           else "") + self.extra_conf
        if self.fts_xapian:
            text += XAPIAN_CONF.format()
        with open(self.conf, "w") as f:
            f.write(text)
        r = subprocess.run([DOVECOT, "-c", self.conf, "-n"], capture_output=True, text=True)
        if r.returncode != 0:
            raise ke.HarnessError(f"dovecot rejects its config:\n{r.stderr}")
        log = open(self.logfile, "ab")
        try:
            self.proc = subprocess.Popen(
                [DOVECOT, "-F", "-c", self.conf], stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, cwd=self.dir, env=ke._clean_env(), start_new_session=True,
                preexec_fn=ke._child_preexec(signal.SIGTERM))
        finally:
            log.close()
        ke._register(self)
        try:
            ke.wait_for_tcp("127.0.0.1", self.port, timeout, proc=self.proc, what="dovecot",
                            log=self.logfile)
        except BaseException:
            self.stop()
            raise
        return self

    def prepare_user(self, user):
        """Creates the user's home and Maildir owned by the mail user, so
        that files written directly (bulk fill) land in a valid tree."""
        md = self.maildir(user)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        self.chown_tree(self.home(user))

    def fill(self, user, mailbox, messages, total=None, flags=None, keywords=(), links=None):
        """Writes maildir entries straight into `mailbox`'s cur/, as Dovecot
        would store them (LF line ends, S= and W= sizes in the name, mtime =
        INTERNALDATE), to be indexed at the next SELECT: entry u = 1..total
        (default len(messages)) holds messages[(u - 1) % len(messages)].
        `flags(u)` gives its maildir flag letters (sorted system flags, then
        keyword letters: a = keywords[0], b = keywords[1], ...). A message
        already written (in this call, or in an earlier one sharing the dict
        `links`: index -> path) is hard-linked, not written again: maildir
        files are never modified in place."""
        md = self.maildir(user, mailbox)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        if keywords:
            with open(os.path.join(md, "dovecot-keywords"), "w") as f:
                f.writelines(f"{i} {k}\n" for i, k in enumerate(keywords))
        cur = os.path.join(md, "cur")
        links = {} if links is None else links
        base = 1700000000
        for uid in range(1, (total or len(messages)) + 1):
            k = (uid - 1) % len(messages)
            raw = messages[k]
            lf_size = len(raw) - raw.count(b"\r\n")
            name = (f"{base + uid}.M{uid}P1.bench,S={lf_size},W={len(raw)}:2,"
                    f"{flags(uid) if flags else ''}")
            path = os.path.join(cur, name)
            if k in links:
                os.link(links[k], path)
            else:
                with open(path, "wb") as f:
                    f.write(raw.replace(b"\r\n", b"\n"))
                os.utime(path, (base + uid, base + uid))
                links[k] = path
        self.chown_tree(md)

    def index(self, user, mailbox, timeout=3600):
        """`doveadm index`: builds the FTS index of the mailbox in the
        foreground (with the Xapian plugin, its Xapian database)."""
        # Its own process group, killed with SIGKILL on any way out (the
        # benchmark's watchdog included): doveadm finishes the message it is
        # at on SIGTERM, which on a big Xapian commit can take minutes.
        logfile = os.path.join(self.dir, "doveadm-index.log")
        with open(logfile, "wb") as log:
            p = subprocess.Popen([DOVEADM, "-c", self.conf, "index", "-u", user, mailbox],
                                 stdout=subprocess.DEVNULL, stderr=log, env=ke._clean_env(),
                                 start_new_session=True)
        try:
            p.wait(timeout=timeout)
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        if p.returncode != 0:
            with open(logfile, errors="replace") as f:
                raise ke.HarnessError(f"doveadm index failed ({p.returncode}):\n{f.read()[-2000:]}")
        return logfile

    def log_lines(self, needle):
        """The lines of dovecot.log that contain needle."""
        try:
            with open(self.logfile, errors="replace") as f:
                return [line.rstrip("\n") for line in f if needle in line]
        except OSError:
            return []

    def process_pids(self):
        """The master and all its descendants (imap, imap-login, auth, ...)."""
        if self.proc is None:
            return []
        return descendants(self.proc.pid)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def proc_stats():
    """(pid, text of /proc/PID/stat) of every process; those that exit
    meanwhile are skipped."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                yield int(name), f.read()
        except OSError:
            continue


def descendants(root):
    """root and every process below it, from /proc."""
    children = {}
    for pid, stat in proc_stats():
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out
