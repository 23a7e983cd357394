"""Installation (issue 14, 2): `make install` with PREFIX and DESTDIR puts
the programs, the manual pages, the example configuration and the systemd
unit where docs/deployment.md says; the pages render without a warning;
every configuration key is documented in kairan.conf(5) and
docs/config.md, and both say which keys a SIGHUP reloads, as
server/core/config.c decides (LIVE_* keys)."""

import os
import re
import shutil
import stat
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN = os.path.join(REPO, "docs", "man")
PAGES = ["kairand.8", "kairanctl.8", "kairan.conf.5"]


def config_keys():
    """{key: live} from the table in server/core/config.c."""
    with open(os.path.join(REPO, "server", "core", "config.c")) as f:
        src = f.read()
    table = src[src.index("config_keys[] = {"):]
    table = table[:table.index("};")]
    keys = {m.group(2): m.group(1) == "LIVE"
            for m in re.finditer(r"\b(KEY|LIVE)_(?:STR|LONG|BOOL)\(\s*(\w+)", table)}
    # Guard against a regular expression that silently matches nothing.
    assert len(keys) > 50 and "imap_listen" in keys and keys["timeout_idle"]
    return keys


def between(text, begin, end):
    return text[text.index(begin) + len(begin):text.index(end)]


def read(*path):
    with open(os.path.join(REPO, *path)) as f:
        return f.read()


def test_every_key_is_in_kairan_conf_5_and_config_md():
    keys = config_keys()
    page = read("docs", "man", "kairan.conf.5")
    md = read("docs", "config.md")
    in_page = set(re.findall(r"^\\fB(\w+)\\fR = ", page, re.M))
    in_md = set(re.findall(r"^\| `(\w+)` \|", md, re.M))
    assert set(keys) - in_page == set(), "missing from kairan.conf.5"
    assert in_page - set(keys) == set(), "kairan.conf.5 documents keys that do not exist"
    assert set(keys) - in_md == set(), "missing from docs/config.md"
    assert in_md - set(keys) == set(), "docs/config.md documents keys that do not exist"


def test_the_reloadable_keys_are_the_live_ones():
    live = {k for k, is_live in config_keys().items() if is_live}
    md = between(read("docs", "config.md"), "<!-- reloadable keys: begin -->",
                 "<!-- reloadable keys: end -->")
    page = between(read("docs", "man", "kairan.conf.5"), '.\\" reloadable keys: begin',
                   '.\\" reloadable keys: end')
    assert set(re.findall(r"`([a-z_]+)`", md)) == live
    assert set(re.findall(r"^\.BR? (\w+)", page, re.M)) == live


def test_the_example_config_names_every_key():
    keys = set(config_keys())
    example = read("docs", "kairan.conf.example")
    named = set(re.findall(r"^#?(\w+) = ", example, re.M))
    assert named == keys


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff not installed (groff-base)")
@pytest.mark.parametrize("page", PAGES)
def test_manual_page_renders_without_warnings(page):
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(MAN, page)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    if shutil.which("man"):
        r = subprocess.run(["man", "-l", os.path.join(MAN, page)], capture_output=True, text=True,
                           env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
        assert r.returncode == 0, r.stderr
        assert page.split(".")[0].upper().encode() in r.stdout.upper().encode()


def make(build, *args):
    b = os.path.relpath(build, REPO) if build.startswith(REPO + os.sep) else build
    return subprocess.run(["make", "--no-print-directory", "-C", REPO, f"BUILD={b}", *args],
                          capture_output=True, text=True, timeout=600)


def test_make_install_into_destdir_and_uninstall(tmp_path):
    build = os.environ.get("KAIRAN_BUILD", os.path.join(REPO, "build"))
    dest = tmp_path / "stage"
    r = make(build, "install", f"DESTDIR={dest}", "PREFIX=/usr")
    assert r.returncode == 0, r.stdout + r.stderr

    def mode(rel):
        return stat.S_IMODE(os.stat(dest / rel).st_mode)

    for prog in ("kairand", "kairanctl"):
        assert mode(f"usr/sbin/{prog}") == 0o755
        with open(dest / f"usr/sbin/{prog}", "rb") as a, open(os.path.join(build, prog), "rb") as b:
            assert a.read() == b.read()
    for rel in ("usr/share/man/man8/kairand.8", "usr/share/man/man8/kairanctl.8",
                "usr/share/man/man5/kairan.conf.5", "usr/share/doc/kairan/kairan.conf.example",
                "usr/lib/systemd/system/kairand.service"):
        assert mode(rel) == 0o644, rel
    # The configuration is the administrator's: never installed over.
    assert not (dest / "etc").exists()
    # The migrations are in the binaries: nothing to install for them.
    assert not any("migration" in p for _, _, files in os.walk(dest) for p in files)
    unit = (dest / "usr/lib/systemd/system/kairand.service").read_text()
    assert "ExecStart=/usr/sbin/kairand -c /etc/kairan/kairan.conf" in unit
    assert "Type=notify" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    # The installed program runs (a usage error: status 2, its usage line).
    r = subprocess.run([str(dest / "usr/sbin/kairand"), "-x"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage: kairand" in r.stderr

    r = make(build, "uninstall", f"DESTDIR={dest}", "PREFIX=/usr")
    assert r.returncode == 0, r.stdout + r.stderr
    left = [os.path.join(d, f) for d, _, files in os.walk(dest) for f in files]
    assert left == []


def test_the_unit_file_is_valid():
    """systemd-analyze verify, when systemd is installed, with ExecStart=
    pointed at the built kairand (verify checks that it exists)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    build = os.environ.get("KAIRAN_BUILD", os.path.join(REPO, "build"))
    unit = read("docs", "kairand.service").replace("/usr/local/sbin/kairand",
                                                   os.path.join(build, "kairand"))
    d = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"kairan-unit-{os.getpid()}")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "kairand.service")
    with open(path, "w") as f:
        f.write(unit)
    try:
        r = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True)
    finally:
        shutil.rmtree(d)
    # Documentation= names pages that are not installed here: not an error of the unit.
    problems = [line for line in (r.stdout + r.stderr).splitlines()
                if line.strip() and "Command 'man " not in line]
    assert problems == [], problems
