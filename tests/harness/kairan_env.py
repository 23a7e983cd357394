"""Private PostgreSQL, slapd, TLS certificate and kairand for tests and `make run`.

Used by tests/protocol/conftest.py (in a temporary directory) and by
tests/harness/run_demo.py (in ./var). Standard library only, so that Debian's
/usr/bin/python3 runs it without extra packages.

Lifetime rules, because a test run must never leave a daemon behind:

* every service registers itself while it runs; `stop_all()` stops them in
  reverse start order and is registered with atexit;
* every child is started in its own session (so a terminal's Ctrl-C reaches
  only us, and we can stop kairand before the databases it uses) and with a
  parent-death signal (PR_SET_PDEATHSIG), so that even `kill -9` of the Python
  process takes the children with it. The signal fires when the *thread* that
  started the child exits: start services from the main thread;
* services that outlive us anyway (a crashed `make run`) are found again
  through their pidfiles: see `stop_pidfile()`.

PostgreSQL refuses to run as root. When we are root, initdb and postgres run as
the `postgres` OS user, which therefore must be able to traverse every parent of
the data directory.
"""

import atexit
import ctypes
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
SLAPD = "/usr/sbin/slapd"
LDAP_MODULES = "/usr/lib/ldap"
LDAP_SCHEMAS = "/etc/ldap/schema"

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_LDIF = os.path.join(REPO, "tests", "fixtures", "demo.ldif")

BASE_DN = "dc=example,dc=org"
ADMIN_DN = "cn=admin,dc=example,dc=org"
ADMIN_PASSWORD = "admin"
DEMO_PASSWORD = "secret"
DB_NAME = "kairan"
DB_USER = "kairan"
KAIRAND_USER = "kairan"   # the OS user kairand runs as when started as root


class HarnessError(RuntimeError):
    """A service could not be set up; the message says what and why."""


# --------------------------------------------------------------------------
# Process lifetime


_live = []                      # services started and not yet stopped
_live_lock = threading.Lock()


def _register(service):
    with _live_lock:
        if service not in _live:
            _live.append(service)


def _unregister(service):
    with _live_lock:
        if service in _live:
            _live.remove(service)


def stop_all():
    """Stops every running service, most recently started first."""
    while True:
        with _live_lock:
            if not _live:
                return
            service = _live[-1]
        try:
            service.stop()
        except Exception as e:  # keep going: the others must stop too
            print(f"kairan_env: stopping {service!r}: {e}", file=sys.stderr)
        _unregister(service)


atexit.register(stop_all)


def install_signal_handlers():
    """Turns SIGTERM and SIGHUP into KeyboardInterrupt, like Ctrl-C.

    Python dies silently on SIGTERM by default, skipping finally blocks,
    fixture teardown and atexit; this makes all of them run."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _child_preexec(deathsig):
    """Returns a preexec_fn that asks the kernel to send `deathsig` to the
    child when we die. It runs after Popen's setuid (which would clear it)."""
    parent = os.getpid()

    def preexec():
        _libc.prctl(_PR_SET_PDEATHSIG, int(deathsig), 0, 0, 0)
        if os.getppid() != parent:   # we died before prctl took effect
            os.kill(os.getpid(), deathsig)
    return preexec


def _clean_env(**extra):
    """Our environment without PG*/LDAP* variables, which would silently
    redirect libpq or libldap clients away from the private servers."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PG", "LDAP"))}
    env.update(extra)
    return env


def proc_alive(pid):
    """True if `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def proc_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def terminate(what, steps, proc=None, pid=None):
    """Sends each (signal, seconds) of `steps` in turn until the process is
    gone. Works on our own child (`proc`, which gets reaped) or on any pid.
    Returns the signal that finally worked, or None if it was already gone."""
    for sig, seconds in steps:
        try:
            if proc is not None:
                if proc.poll() is not None:
                    return None
                proc.send_signal(sig)
            else:
                if not proc_alive(pid):
                    return None
                os.kill(pid, sig)
        except ProcessLookupError:
            return None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if proc is not None:
                try:
                    proc.wait(timeout=0.05)
                    return sig
                except subprocess.TimeoutExpired:
                    continue
            if not proc_alive(pid):
                return sig
            time.sleep(0.05)
        if sig != signal.SIGKILL:
            print(f"kairan_env: {what} still running {seconds} s after "
                  f"{signal.Signals(sig).name}", file=sys.stderr)
    raise HarnessError(f"{what} survived SIGKILL")


def stop_pidfile(path, names, steps, what):
    """Stops a process left behind by an earlier run, found through its
    pidfile. Only signals it if its name is one of `names`, so that a stale
    pidfile whose pid was reused never kills an unrelated process.
    Returns True if something was stopped."""
    pid = read_pidfile(path)
    if pid is None or pid == os.getpid() or not proc_alive(pid):
        return False
    if proc_name(pid) not in names:
        return False
    terminate(f"{what} (pid {pid})", steps, pid=pid)
    return True


def _tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no log)"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _run(argv, what, **kw):
    """Runs a short helper program; raises HarnessError with its output if
    it fails, so that a broken setup says why instead of timing out later."""
    kw.setdefault("env", _clean_env())
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=kw.pop("stdin", subprocess.DEVNULL), **kw)
    if r.returncode != 0:
        raise HarnessError(f"{what} failed (exit {r.returncode}): {' '.join(argv)}\n"
                           + r.stdout.decode("utf-8", "replace"))
    return r.stdout.decode("utf-8", "replace")


# --------------------------------------------------------------------------
# Ports


_ports_given = set()


def port_is_free(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host="127.0.0.1"):
    """A loopback port nobody listens on. Chosen below the kernel's ephemeral
    range (32768+) so that outgoing connections (kairand to slapd, ...) cannot
    take it between now and the moment a server binds it, and never the same
    port twice in one process."""
    for _ in range(1000):
        port = random.randrange(20000, 32000)
        if port not in _ports_given and port_is_free(port, host):
            _ports_given.add(port)
            return port
    raise HarnessError("no free loopback port found")


def wait_for_tcp(host, port, timeout, proc=None, what="server", log=None):
    """Waits until host:port accepts a TCP connection. Fails fast, with the
    tail of `log`, if `proc` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise HarnessError(f"{what} exited with status {proc.returncode} before "
                               f"listening on {host}:{port}; log tail:\n{_tail(log)}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise HarnessError(f"{what} not listening on {host}:{port} after {timeout} s; "
                               f"log tail:\n{_tail(log)}")
        time.sleep(0.05)


# --------------------------------------------------------------------------
# PostgreSQL


def _postgres_user():
    """The (uid, gid) PostgreSQL runs as: `postgres` when we are root,
    otherwise ourselves (then no ownership change is needed)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise HarnessError("running as root but there is no 'postgres' user "
                           "(install postgresql-15: make deps)")
    return pw.pw_uid, pw.pw_gid


def check_traversable_by_postgres(path):
    """Raises a clear HarnessError if the postgres user cannot reach `path`
    (or, if it does not exist yet, its nearest existing parent)."""
    ids = _postgres_user()
    if ids is None:
        return
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    # Name the first directory on the way that the postgres user cannot search.
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i]) or "/"
        r = subprocess.run(["/usr/bin/test", "-x", d], user=ids[0], group=ids[1],
                           extra_groups=[], cwd="/", env=_clean_env())
        if r.returncode != 0:
            raise HarnessError(
                f"PostgreSQL runs as the unprivileged 'postgres' user (it refuses root), "
                f"and that user cannot traverse {d} on the way to {path}.\n"
                f"Fix: chmod o+x {d}  (or put the data directory under a path it can reach)")


class Postgres:
    """A private PostgreSQL 15 cluster in `dir`: data in dir/data, the Unix
    socket in dir/run, the server log in dir/postgres.log. No TCP listener:
    `port` only names the socket file. An existing cluster is reused.
    `settings` (name -> value) are passed as `-c name=value` after the
    harness's own, so they win."""

    def __init__(self, dir, port=None, settings=None):
        self.dir = os.path.abspath(dir)
        self.settings = dict(settings or {})
        self.datadir = os.path.join(self.dir, "data")
        self.sockdir = os.path.join(self.dir, "run")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.port = port or free_port()
        self.proc = None

    def __repr__(self):
        return f"Postgres({self.dir!r})"

    @property
    def dsn(self):
        return f"host={self.sockdir} port={self.port} dbname={DB_NAME} user={DB_USER}"

    @property
    def pidfile(self):
        return os.path.join(self.datadir, "postmaster.pid")

    def _as_postgres(self):
        ids = _postgres_user()
        kw = {"cwd": self.dir, "env": _clean_env(LC_ALL="C")}
        if ids:
            kw.update(user=ids[0], group=ids[1], extra_groups=[])
            kw["env"]["HOME"] = pwd.getpwuid(ids[0]).pw_dir
        return kw

    def _prepare_dirs(self):
        check_traversable_by_postgres(self.dir)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)   # the postgres user must traverse it
        self._make_owned_dir(self.sockdir, 0o755)

    @staticmethod
    def _make_owned_dir(d, mode):
        os.makedirs(d, exist_ok=True)
        ids = _postgres_user()
        if ids:
            os.chown(d, *ids)
        os.chmod(d, mode)

    def _initdb(self):
        if os.path.exists(os.path.join(self.datadir, "PG_VERSION")):
            return
        # initdb into a scratch directory renamed into place when complete,
        # so that an interrupted initdb never leaves a half-made cluster that
        # the next run would take for a real one.
        tmp = self.datadir + ".initdb"
        shutil.rmtree(tmp, ignore_errors=True)
        self._make_owned_dir(tmp, 0o700)
        _run([f"{PG_BIN}/initdb", "-D", tmp, f"--username={DB_USER}",
              "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions"],
             "initdb", **self._as_postgres())
        shutil.rmtree(self.datadir, ignore_errors=True)
        os.rename(tmp, self.datadir)

    def start(self, timeout=30):
        if self.proc is not None and self.proc.poll() is None:
            return self
        self._prepare_dirs()
        self._initdb()
        pid = read_pidfile(self.pidfile)
        if pid is not None and proc_alive(pid) and proc_name(pid) == "postgres":
            raise HarnessError(f"a PostgreSQL server (pid {pid}) already runs on "
                               f"{self.datadir}; stop it first (make clean-var stops "
                               f"the demo's)")
        log = open(self.logfile, "ab")
        try:
            self.proc = subprocess.Popen(
                [f"{PG_BIN}/postgres", "-D", self.datadir, "-p", str(self.port),
                 "-c", "listen_addresses=", "-c", f"unix_socket_directories={self.sockdir}",
                 "-c", "logging_collector=off"]
                + [a for k, v in self.settings.items() for a in ("-c", f"{k}={v}")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
                # SIGINT = "fast shutdown": roll back, disconnect, checkpoint.
                preexec_fn=_child_preexec(signal.SIGINT), **self._as_postgres())
        finally:
            log.close()
        _register(self)
        try:
            self._wait_ready(timeout)
            self._create_db()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise HarnessError(f"postgres exited with status {self.proc.returncode}; "
                                   f"log tail:\n{_tail(self.logfile)}")
            r = subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", self.sockdir,
                                "-p", str(self.port), "-U", DB_USER, "-d", "postgres"],
                               env=_clean_env())
            if r.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise HarnessError(f"postgres not ready after {timeout} s; "
                                   f"log tail:\n{_tail(self.logfile)}")
            time.sleep(0.1)

    def _create_db(self):
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'",
                           db="postgres")
        if exists.strip() != "1":
            # A UTF-8 character classification (LC_CTYPE) makes ILIKE,
            # lower() and pg_trgm fold case beyond ASCII, which SEARCH needs
            # (docs/schema.md); byte order (LC_COLLATE C) keeps sorting and
            # prefix scans of mailbox names simple.
            _run([f"{PG_BIN}/createdb", "-h", self.sockdir, "-p", str(self.port),
                  "-U", DB_USER, "-T", "template0", "-E", "UTF8", "--lc-collate=C",
                  "--lc-ctype=C.UTF-8", DB_NAME], "createdb")

    def psql(self, sql, db=DB_NAME):
        """Runs SQL with psql (as superuser `kairan`, over the socket) and
        returns its unaligned, tuples-only output. Raises on any error."""
        return _run([f"{PG_BIN}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                     "-h", self.sockdir, "-p", str(self.port), "-U", DB_USER,
                     "-d", db, "-c", sql], "psql")

    def stop(self):
        """Fast shutdown; escalates to immediate shutdown, then SIGKILL.
        Also stops a server left running by an earlier run of this dir."""
        steps = [(signal.SIGINT, 60), (signal.SIGQUIT, 10), (signal.SIGKILL, 10)]
        if self.proc is not None:
            terminate("postgres", steps, proc=self.proc)
            self.proc = None
        else:
            stop_pidfile(self.pidfile, {"postgres"}, steps, "postgres")
        _unregister(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------
# slapd


SLAPD_CONF = """\
# Written by tests/harness/kairan_env.py for a private test/demo slapd.
include {schemas}/core.schema
include {schemas}/cosine.schema
include {schemas}/inetorgperson.schema
include {schemas}/nis.schema

modulepath {modules}
moduleload back_mdb

pidfile  {dir}/slapd.pid
argsfile {dir}/slapd.args

database mdb
# The map is a sparse file; 100 MB is a ceiling, not an allocation.
maxsize  104857600
suffix   "{base}"
rootdn   "{admin}"
rootpw   {rootpw}
directory {dir}/data
index objectClass eq
index uid,mail eq
index member eq

# Without access directives slapd lets anyone (even anonymous) read every
# attribute, passwords included. Passwords: a user may change their own,
# anonymous may only use them to bind ("auth"), nobody may read them.
# The rootdn (kairand's search account in the demo) bypasses ACLs.
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by * read
"""


class Slapd:
    """A private OpenLDAP slapd on ldap://127.0.0.1:`port`, configured by a
    slapd.conf in `dir`, with an mdb database in dir/data seeded once from
    tests/fixtures/demo.ldif. It can be stopped and started again (to test an
    LDAP outage); the database survives."""

    def __init__(self, dir, port=None, ldif=DEMO_LDIF):
        self.dir = os.path.abspath(dir)
        self.port = port or free_port()
        self.ldif = ldif
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.datadir = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "slapd.log")
        self.pidfile = os.path.join(self.dir, "slapd.pid")
        self.proc = None

    def __repr__(self):
        return f"Slapd({self.dir!r}, {self.port})"

    @property
    def uri(self):
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _write_conf(self):
        rootpw = _run(["/usr/sbin/slappasswd", "-s", ADMIN_PASSWORD], "slappasswd").strip()
        text = SLAPD_CONF.format(schemas=LDAP_SCHEMAS, modules=LDAP_MODULES, dir=self.dir,
                                 base=BASE_DN, admin=ADMIN_DN, rootpw=rootpw)
        with open(self.conf + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.conf + ".tmp", self.conf)

    def _seed(self):
        # A marker, not the presence of data.mdb, says "seeded": an
        # interrupted slapadd leaves a partial database that must be redone.
        marker = os.path.join(self.datadir, ".seeded")
        if os.path.exists(marker):
            return
        shutil.rmtree(self.datadir, ignore_errors=True)
        os.makedirs(self.datadir, mode=0o700)
        _run(["/usr/sbin/slapadd", "-q", "-f", self.conf, "-l", self.ldif], "slapadd")
        open(marker, "w").close()

    def start(self, timeout=15):
        if self.running:
            return self
        os.makedirs(self.dir, exist_ok=True)
        self._write_conf()
        self._seed()
        log = open(self.logfile, "ab")
        try:
            # -d keeps slapd in the foreground as our child; "stats" logs one
            # line per operation (connections, binds, searches) to the log,
            # which is what one wants to read when a login test fails.
            self.proc = subprocess.Popen(
                [SLAPD, "-f", self.conf, "-h", self.uri + "/", "-d", "stats"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.dir,
                env=_clean_env(), start_new_session=True,
                preexec_fn=_child_preexec(signal.SIGTERM))
        finally:
            log.close()
        _register(self)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise HarnessError(f"slapd exited with status {self.proc.returncode}; "
                                   f"log tail:\n{_tail(self.logfile)}")
            r = subprocess.run(["ldapsearch", "-x", "-H", self.uri, "-b", BASE_DN,
                                "-s", "base", "-LLL", "dn"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=_clean_env(LDAPNOINIT="1"))
            if r.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise HarnessError(f"slapd not answering on {self.uri} after {timeout} s; "
                                   f"log tail:\n{_tail(self.logfile)}")
            time.sleep(0.1)

    def stop(self):
        steps = [(signal.SIGTERM, 15), (signal.SIGKILL, 10)]
        if self.proc is not None:
            terminate("slapd", steps, proc=self.proc)
            self.proc = None
        else:
            stop_pidfile(self.pidfile, {"slapd"}, steps, "slapd")
        _unregister(self)

    def ldapmodify(self, ldif_text, add=False):
        """Applies LDIF as the admin (changetype records, or plain entries
        with add=True). Returns ldapmodify's output; raises on failure."""
        argv = ["ldapmodify", "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD]
        if add:
            argv.append("-a")
        return _run(argv, "ldapmodify", input=ldif_text.encode(),
                    stdin=None, env=_clean_env(LDAPNOINIT="1"))

    def ldapsearch(self, *args, bind_dn=ADMIN_DN, password=ADMIN_PASSWORD, base=BASE_DN):
        """Runs ldapsearch (as the admin unless told otherwise; bind_dn=None
        binds anonymously) and returns its LDIF output; raises on failure."""
        argv = ["ldapsearch", "-x", "-LLL", "-H", self.uri, "-b", base]
        if bind_dn is not None:
            argv += ["-D", bind_dn, "-w", password]
        return _run(argv + list(args), "ldapsearch", env=_clean_env(LDAPNOINIT="1"))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------
# TLS


# The names a client may connect by. 127.0.0.1 is there twice: as an IP
# address, which RFC 6125 clients (OpenSSL, Python, Thunderbird) compare, and
# as a DNS name, which is all that clients comparing only DNS names and the
# common name see (offlineimap's own check, imaplibutil._verifycert).
CERT_SAN = "DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1"


def _cert_san(cert):
    """The subjectAltName of a PEM file as openssl prints it, or None."""
    r = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", cert],
                       capture_output=True, text=True, env=_clean_env())
    if r.returncode != 0:
        return None
    return ",".join(part.strip().replace("IP Address:", "IP:")
                    for part in r.stdout.splitlines()[1:] for part in part.split(","))


def make_cert(dir):
    """A self-signed EC P-256 certificate for CN=localhost (SAN CERT_SAN),
    valid ten years, as dir/cert.pem and dir/key.pem; kept if they already
    exist and name what CERT_SAN names (an older demo's certificate is made
    anew). Returns (cert_path, key_path)."""
    dir = os.path.abspath(dir)
    os.makedirs(dir, exist_ok=True)
    cert, key = os.path.join(dir, "cert.pem"), os.path.join(dir, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)) or _cert_san(cert) != CERT_SAN:
        _run(["openssl", "req", "-x509", "-newkey", "ec",
              "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3650",
              "-subj", "/CN=localhost",
              "-addext", f"subjectAltName={CERT_SAN}",
              "-keyout", key + ".tmp", "-out", cert + ".tmp"], "openssl req")
        os.chmod(key + ".tmp", 0o600)
        os.replace(key + ".tmp", key)
        os.replace(cert + ".tmp", cert)
    share_key_with_kairand(key)
    return cert, key


def kairand_user():
    """The user kairand becomes when we start it as root (`make deps`
    creates it), or None when we are not root (kairand then stays us)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(KAIRAND_USER)
    except KeyError:
        raise HarnessError(f"running as root but there is no '{KAIRAND_USER}' user, which "
                           f"kairand becomes after start-up: run `make deps`")


def share_key_with_kairand(key):
    """Makes `key` root:kairan 0640, as docs/config.md asks of a key that
    SIGHUP reloads after kairand dropped root. A no-op when not root."""
    pw = kairand_user()
    if pw is None:
        return
    os.chown(key, 0, pw.pw_gid)
    os.chmod(key, 0o640)


# --------------------------------------------------------------------------
# kairand


def default_config(imap_port, imaps_port, cert, key, db_dsn, ldap_uri, lmtp_port=None):
    """The kairan.conf keys, in the documented order, for a private instance."""
    return {
        "imap_listen": f"127.0.0.1:{imap_port}",
        "imaps_listen": f"127.0.0.1:{imaps_port}",
        "lmtp_listen": f"127.0.0.1:{lmtp_port}" if lmtp_port else "",
        "tls_cert": cert,
        "tls_key": key,
        "db_dsn": db_dsn,
        "ldap_uri": ldap_uri,
        "ldap_bind_dn": ADMIN_DN,
        "ldap_bind_password": ADMIN_PASSWORD,
        "ldap_base_dn": BASE_DN,
        "ldap_user_filter": "(&(objectClass=inetOrgPerson)(uid=%u))",
        "ldap_login_attribute": "uid",
        "ldap_timeout": "3",
        "workers": "4",
        "max_line_length": "65536",
        "log_syslog": "no",
        **({"user": KAIRAND_USER} if kairand_user() is not None else {}),
    }


def write_config(path, config):
    """Writes `key = value` lines. Values go verbatim after "= " (kairand
    trims surrounding whitespace, so a value may itself contain '=' and spaces)."""
    lines = ["# kairan.conf written by tests/harness/kairan_env.py"]
    for k, v in config.items():
        if "\n" in str(v):
            raise ValueError(f"config value for {k} contains a newline")
        lines.append(f"{k} = {v}")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def split_hostport(value):
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


class Kairand:
    """One kairand process run from `build_dir`, with its config in
    workdir/kairan.conf and its stderr in workdir/kairand.log.

    stderr: "file" (the log only), "tee" (the log and our stderr: make run),
    or "inherit" (our stderr only; log_text() is then empty)."""

    def __init__(self, build_dir, workdir, config, stderr="file"):
        self.build_dir = os.path.abspath(build_dir)
        self.workdir = os.path.abspath(workdir)
        self.config = dict(config)
        self.stderr_mode = stderr
        self.conf_path = os.path.join(self.workdir, "kairan.conf")
        self.log_path = os.path.join(self.workdir, "kairand.log")
        self.pidfile = os.path.join(self.workdir, "kairand.pid")
        self.proc = None
        self.extra_env = {}          # added to kairand's environment (NOTIFY_SOCKET)
        self.extra_args = []         # after "-c conf": "-o", "KEY=VALUE", ...
        self.killed = False          # True if stop() had to use SIGKILL
        self.returncode = None
        self._tee = None

    def __repr__(self):
        return f"Kairand({self.workdir!r})"

    @property
    def kairand(self):
        return os.path.join(self.build_dir, "kairand")

    @property
    def kairanctl(self):
        return os.path.join(self.build_dir, "kairanctl")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def imap_port(self):
        return split_hostport(self.config["imap_listen"])[1]

    @property
    def imaps_port(self):
        return split_hostport(self.config["imaps_listen"])[1]

    def write_config(self):
        os.makedirs(self.workdir, exist_ok=True)
        write_config(self.conf_path, self.config)

    def ctl(self, *args, check=True):
        """Runs `kairanctl -c conf ARGS...`; returns CompletedProcess
        (text). With check=True a non-zero exit raises HarnessError."""
        self.write_config()
        r = subprocess.run([self.kairanctl, "-c", self.conf_path, *args],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", env=_clean_env(), timeout=120)
        if check and r.returncode != 0:
            raise HarnessError(f"kairanctl {' '.join(args)} failed (exit {r.returncode}):\n"
                               f"{r.stdout}{r.stderr}")
        return r

    def migrate(self):
        return self.ctl("migrate")

    def start(self, migrate=True, timeout=20):
        if self.running:
            return self
        for prog in (self.kairand,) + ((self.kairanctl,) if migrate else ()):
            if not os.access(prog, os.X_OK):
                raise HarnessError(f"{prog} not found or not executable: build it with `make`")
        self.write_config()
        if migrate:
            self.migrate()
        log = open(self.log_path, "wb")
        try:
            if self.stderr_mode == "inherit":
                err = None
            elif self.stderr_mode == "tee":
                err = subprocess.PIPE
            else:
                err = log
            self.proc = subprocess.Popen(
                [self.kairand, "-c", self.conf_path, *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=err if err is not None else None,
                stderr=err, cwd=self.workdir, env=_clean_env(**self.extra_env),
                start_new_session=True,
                preexec_fn=_child_preexec(signal.SIGTERM))
        except BaseException:
            log.close()
            raise
        if self.stderr_mode == "tee":
            self._tee = threading.Thread(target=self._tee_loop, args=(self.proc.stderr, log),
                                         daemon=True)
            self._tee.start()
        else:
            log.close()
        self.killed, self.returncode = False, None
        with open(self.pidfile, "w") as f:
            f.write(f"{self.proc.pid}\n")
        _register(self)
        host, port = split_hostport(self.config["imap_listen"])
        try:
            wait_for_tcp(host, port, timeout, proc=self.proc, what="kairand", log=self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _tee_loop(pipe, log):
        """Copies kairand's stderr to the log file and to our stderr as it
        arrives (unbuffered: a log line is visible at once in both)."""
        with log:
            fd = pipe.fileno()
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                try:
                    sys.stderr.buffer.write(chunk)
                    sys.stderr.buffer.flush()
                except (OSError, ValueError):
                    pass
            pipe.close()

    def wait(self, timeout=None):
        """Waits for kairand to exit on its own; returns its status."""
        self.returncode = self.proc.wait(timeout)
        self._finish()
        return self.returncode

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after `timeout` s (saying so, and setting
        .killed). Returns the exit status (negative = killed by a signal)."""
        if self.proc is None:
            _unregister(self)
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"kairan_env: kairand (pid {self.proc.pid}) did not exit within "
                      f"{timeout} s of SIGTERM; sending SIGKILL", file=sys.stderr)
                self.killed = True
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self._finish()
        return self.returncode

    def _finish(self):
        if self._tee is not None:
            self._tee.join(5)
            self._tee = None
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass
        _unregister(self)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def run_kairand_expect_failure(build_dir, workdir, config, timeout=10):
    """Runs kairand with `config` (written to workdir/kairan.conf) expecting it
    to exit by itself. Returns (exit status, stderr text); the status is None
    if it was still running after `timeout` s (it is then killed)."""
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    conf = os.path.join(workdir, "kairan.conf")
    write_config(conf, config)
    proc = subprocess.Popen([os.path.join(os.path.abspath(build_dir), "kairand"), "-c", conf],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=workdir, env=_clean_env(),
                            start_new_session=True,
                            preexec_fn=_child_preexec(signal.SIGKILL))
    try:
        out, err = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        status = None
    return status, err.decode("utf-8", "replace")
