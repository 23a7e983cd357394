"""pytest fixtures for the tests that need a running Kairan (tests/protocol,
tests/interop): one private PostgreSQL, slapd and kairand per test session,
in a fresh directory under /tmp, shared by every directory of the run (they
live here, in the common parent, so that `pytest tests/protocol
tests/interop` starts one environment, not one per directory).

    def test_something(env):
        c = imapclient.connect(env.imap_port)

`env.start_kairand(**overrides)` starts an extra kairand (own ports, own log)
for tests that must kill or misconfigure one without disturbing the shared
instance; `env.kairand_must_fail(**overrides)` runs one expected to exit.

The build directory comes from KAIRAN_BUILD (set by `make protocol`), default
<repo>/build. Everything is stopped at the end of the session, on failure and
on Ctrl-C/SIGTERM too. The directory is deleted if every test passed;
otherwise its logs are kept and their path printed.
"""

import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

import kairan_env as ke  # noqa: E402

# pytest imports every conftest.py as a module named "conftest", replacing
# the previous one; this alias lets tests/protocol/conftest.py re-export
# names from here (never the fixtures themselves: a second registration
# would give its directory a second, separate session environment).
sys.modules.setdefault("kairan_conftest", sys.modules[__name__])

LOG_TAIL_LINES = 40


class Env:
    """The running services of one test session."""

    def __init__(self, root, build):
        self.root = root
        self.build = build
        self.slapd = self.pg = self.kairand = None
        self.config = None
        self.extras = []
        self._n = 0

    def start(self):
        self.cert, self.key = ke.make_cert(os.path.join(self.root, "tls"))
        self.slapd = ke.Slapd(os.path.join(self.root, "ldap")).start()
        # pg_stat_statements (it ships with PostgreSQL): tests count the
        # statements a command costs (test_change_bus.py).
        self.pg = ke.Postgres(os.path.join(self.root, "pg"),
                              settings={"shared_preload_libraries": "pg_stat_statements"}).start()
        self.imap_port, self.imaps_port = ke.free_port(), ke.free_port()
        self.lmtp_port = ke.free_port()
        self.config = ke.default_config(self.imap_port, self.imaps_port, self.cert, self.key,
                                        self.pg.dsn, self.slapd.uri, lmtp_port=self.lmtp_port)
        # Many tests fail a login on purpose: short delays keep the suite
        # fast. Tests of the delay itself start their own kairand.
        self.config.update(auth_fail_delay_ms="100", auth_fail_delay_max_ms="400")
        # The suites pipeline APPENDs of any size with {n+} literals: they
        # run against LITERAL+ (RFC 7888). kairand's default, LITERAL-, is
        # tested on a kairand of its own (test_literal_minus.py).
        self.config.update(literal_plus="yes")
        # Tests open dozens of connections a second from 127.0.0.1; the
        # per-address rate limit is tested on kairands of its own
        # (test_slow_clients.py).
        self.config.update(max_connection_rate_per_ip="0")
        self.kairand = ke.Kairand(self.build, os.path.join(self.root, "kairand"),
                                  self.config).start()

    def make_config(self, overrides=None, **kw):
        """The shared instance's config with fresh listening ports, then
        `overrides` (a dict, for keys that are not identifiers) and **kw."""
        config = dict(self.config)
        config["imap_listen"] = f"127.0.0.1:{ke.free_port()}"
        config["imaps_listen"] = f"127.0.0.1:{ke.free_port()}"
        config["lmtp_listen"] = f"127.0.0.1:{ke.free_port()}"
        config.update(overrides or {})
        config.update(kw)
        return config

    def new_user(self, prefix="user"):
        """Adds a person to the directory (password "secret") and returns
        the login: tests that need an account nobody else touches use one,
        since every account starts with only its default mailboxes."""
        self._n += 1
        login = f"{prefix}{self._n}x{os.getpid()}"
        self.slapd.ldapmodify(
            f"dn: uid={login},ou=people,dc=example,dc=org\n"
            "changetype: add\n"
            "objectClass: inetOrgPerson\n"
            f"uid: {login}\ncn: {login}\nsn: {login}\n"
            f"mail: {login}@example.org\nuserPassword: secret\n")
        return login

    def _workdir(self, what):
        self._n += 1
        return os.path.join(self.root, f"{what}-{self._n}")

    def start_kairand(self, overrides=None, migrate=False, **kw):
        """Starts an extra kairand (stopped at session end if the test does
        not stop it) and returns its ke.Kairand: .imap_port, .pid, .stop()."""
        k = ke.Kairand(self.build, self._workdir("extra"), self.make_config(overrides, **kw))
        self.extras.append(k)
        return k.start(migrate=migrate)

    def kairand_must_fail(self, overrides=None, timeout=10, **kw):
        """Runs a kairand expected to exit by itself within `timeout` s.
        Returns (exit status or None if it did not exit, stderr text)."""
        return ke.run_kairand_expect_failure(self.build, self._workdir("failing"),
                                             self.make_config(overrides, **kw), timeout)

    def logs(self):
        """(name, path) of every log file, for failure reports."""
        out = []
        for k in [self.kairand] + self.extras:
            if k is not None:
                out.append((os.path.relpath(k.log_path, self.root), k.log_path))
        for svc in (self.slapd, self.pg):
            if svc is not None:
                out.append((os.path.relpath(svc.logfile, self.root), svc.logfile))
        return out

    def stop(self):
        # kairand first: it must not see its databases vanish under it.
        for k in reversed(self.extras):
            k.stop()
        for svc in (self.kairand, self.pg, self.slapd):
            if svc is not None:
                svc.stop()


# What AddressSanitizer, LeakSanitizer and UBSan print (make asan).
SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")


def sanitizer_reports(env):
    """(log, first lines of the report) for every kairand log that holds a
    sanitizer report. kairand runs with its stderr in its log, and LSan
    reports only at exit, so this is checked after every kairand stopped."""
    found = []
    for k in [env.kairand] + env.extras:
        if k is None:
            continue
        try:
            with open(k.log_path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for marker in SANITIZER_MARKERS:
            i = data.find(marker)
            if i >= 0:
                found.append((k.log_path, data[i:i + 3000].decode("utf-8", "replace")))
                break
    return found


def _tail(path, n=LOG_TAIL_LINES):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(none)"
    return "\n".join(lines[-n:])


@pytest.fixture(scope="session")
def env(request):
    ke.install_signal_handlers()
    build = os.path.abspath(os.environ.get("KAIRAN_BUILD", os.path.join(REPO, "build")))
    for prog in ("kairand", "kairanctl"):
        if not os.access(os.path.join(build, prog), os.X_OK):
            pytest.exit(f"{build}/{prog} does not exist: run `make` (or set KAIRAN_BUILD)",
                        returncode=2)
    root = tempfile.mkdtemp(prefix="kairan-test-", dir="/tmp")
    os.chmod(root, 0o755)   # the postgres user must traverse it
    e = Env(root, build)
    ok = False
    try:
        try:
            e.start()
        except ke.HarnessError as err:
            # Nothing can run without the services: one clear message, not
            # the same error repeated for every test.
            pytest.exit(f"test environment did not start: {err}", returncode=1)
        yield e
        ok = request.session.testsfailed == 0
    finally:
        reports = []
        try:
            e.stop()
            reports = sanitizer_reports(e)
        finally:
            if reports:
                ok = False
            ke.stop_all()
            if ok and not os.environ.get("KAIRAN_KEEP"):
                shutil.rmtree(root, ignore_errors=True)
            else:
                # Keep the logs for a post-mortem, but not the databases.
                shutil.rmtree(os.path.join(root, "pg", "data"), ignore_errors=True)
                shutil.rmtree(os.path.join(root, "ldap", "data"), ignore_errors=True)
                print(f"\nkairan test logs kept in {root}", file=sys.stderr)
    if reports:
        pytest.fail("sanitizer reports in kairand logs:\n" +
                    "\n".join(f"{path}:\n{text}" for path, text in reports), pytrace=False)


@pytest.fixture(autouse=True)
def _kairand_survives(request):
    """After each test that used `env`, checks that the shared kairand is
    still running: bad input must never crash the server. If it died, the
    test errors with the log tail, and kairand is restarted so that the
    following tests still mean something."""
    yield
    if "env" not in request.fixturenames:
        return
    e = request.getfixturevalue("env")
    k = e.kairand
    if k is not None and not k.running:
        status = k.proc.returncode if k.proc else None
        tail = _tail(k.log_path)
        k.start(migrate=False)
        pytest.fail(f"the shared kairand exited (status {status}) during this test; "
                    f"log tail:\n{tail}", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Appends the tails of kairand's (and slapd's) logs to a failing test's
    report: a protocol failure is rarely explained by the client side alone."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed and "env" in item.fixturenames:
        e = item.funcargs.get("env")
        if isinstance(e, Env):
            for name, path in e.logs():
                # slapd logs several lines per operation: its tail is shorter.
                n = LOG_TAIL_LINES if name.endswith("kairand.log") else 15
                if name.endswith(("kairand.log", "slapd.log")):
                    rep.sections.append((f"{name} (last {n} lines)", _tail(path, n)))
