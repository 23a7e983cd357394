#!/bin/sh
# `make deps`: install, with apt-get, whatever building, running and testing
# Kairan needs and is not installed yet (Debian 12 "bookworm").
#
# It is called by `make test` and `make run` every time, so the common case
# (everything present) must be instant and quiet: one dpkg-query per package,
# no `apt-get update`, one line of output.
set -eu

# Why each package is here:
#   gcc make libc6-dev          build kairand and kairanctl
#   libpq-dev libssl-dev libldap-dev   headers and libraries they link against
#   zlib1g-dev                  COMPRESS=DEFLATE (RFC 4978, server/net/compress.c)
#   slapd ldap-utils            the private OpenLDAP server of `make run`/tests,
#                               slapadd/slappasswd/ldapsearch/ldapmodify
#   postgresql-15               the private PostgreSQL cluster (pg_trgm is
#                               shipped inside postgresql-15 in bookworm)
#   postgresql-contrib          metapackage for the contrib extensions; kept
#                               so that the dependency is explicit
#   python3 python3-pytest      protocol tests (run with /usr/bin/python3)
#   python3-prometheus-client   a real Prometheus text parser for the metrics tests
#   openssl                     self-signed test certificate
#   clang libclang-rt-14-dev    fuzz targets (libFuzzer) and sanitizer runtimes
#   isync                       mbsync, an interop client
#   offlineimap3                offlineimap, an interop client with its own
#                               certificate name check (tests/interop)
#   dovecot-imapd               a real Dovecot to import from, by IMAP and from its
#                               own Maildir (tests/interop/test_import_dovecot.py),
#                               and the benchmarks' reference server
#   groff-base man-db           render the manual pages (tests/protocol/test_install.py)
#   postfix                     a real MTA delivering to kairand over LMTP, run as a
#                               private instance (tests/interop/test_postfix.py);
#                               installed with "No configuration", so that no
#                               system-wide Postfix is set up or started
#   procps                      pgrep/pkill used when debugging leftovers
#   dovecot-lmtpd               Dovecot's LMTP, the reference of `make bench-lmtp`
#                               (tests/bench/bench_lmtp.py; pulls in dovecot-core)
#   dovecot-fts-xapian          Dovecot's Xapian FTS plugin, the reference of
#                               tests/bench/bench_search.py --with-dovecot-xapian
PKGS="gcc make libc6-dev libpq-dev libssl-dev libldap-dev zlib1g-dev slapd ldap-utils
postgresql-15 postgresql-contrib python3 python3-pytest python3-prometheus-client openssl clang
libclang-rt-14-dev isync offlineimap3 groff-base man-db procps postfix dovecot-lmtpd dovecot-imapd dovecot-fts-xapian"

# pg_trgm must be available: migrations create the extension.
TRGM=/usr/share/postgresql/15/extension/pg_trgm.control

# kairand started as root becomes this system user after binding its ports
# (config keys user and group); the test harness and `make run` use it.
ensure_kairan_user() {
	if id kairan >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: no 'kairan' user (only needed when kairand is started as root)" >&2
		return 0
	fi
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		--user-group kairan
	echo "deps: created the system user kairan"
}

missing=""
for p in $PKGS; do
	# "ii " = desired install, actually installed. Anything else (not found,
	# half-configured, removed with config files left) counts as missing.
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$status" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	if [ ! -f "$TRGM" ]; then
		echo "deps: all packages installed but $TRGM is missing (pg_trgm)" >&2
		exit 1
	fi
	ensure_kairan_user
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run 'make deps' as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
case " $missing " in
*" postfix "*)
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections ;;
esac
apt-get update
# Word splitting of $missing is intended: one argument per package.
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
# slapd's and postgresql's postinst scripts may try to start system-wide
# daemons (or be denied by policy-rc.d in a container). Neither matters: Kairan
# always runs its own private instances on other ports/sockets.

if [ ! -f "$TRGM" ]; then
	echo "deps: installed, but $TRGM is missing (pg_trgm)" >&2
	exit 1
fi
ensure_kairan_user
echo "deps: done"
