# Kairan — build, run and test.
#
#   make          build kairand and kairanctl into build/
#   make run      the self-contained demo instance under ./var (PostgreSQL, slapd, kairand)
#   make test     unit tests + protocol tests against a private PostgreSQL and slapd
#   make asan     the same test suite built with AddressSanitizer + UBSan
#   make deps     install (apt-get) what building, running and testing need
#   make install  kairand, kairanctl, manual pages, example config and systemd unit
#                 under PREFIX (/usr/local), staged under DESTDIR if given
#
# Every source directory is compiled by wildcard: a new .c file needs no edit here.

CC       ?= gcc
BUILD    ?= build
PYTHON   ?= /usr/bin/python3
VERSION  := 0.1.0
SANFLAGS ?=
OPTFLAGS ?= -O2 -g
# CFLAGS and LDFLAGS from the command line are added, never replace these.
KCFLAGS  := -std=c11 -D_GNU_SOURCE -DKAIRAN_VERSION=\"$(VERSION)\" -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wformat=2 -Wno-format-nonliteral -fno-strict-aliasing -I. -I$(BUILD)/gen \
            $(OPTFLAGS) $(SANFLAGS) $(CFLAGS)
KLDFLAGS := $(SANFLAGS) $(LDFLAGS)
LDLIBS   := -lpq -lldap -llber -lssl -lcrypto -lz -lpthread

# Modules shared by both programs (everything but the two mains and kairanctl's code).
LIB_SRCS := $(wildcard server/core/*.c server/net/*.c server/imap/*.c server/bus/*.c \
                       acl/*.c directory/*.c schema/*.c server/mime/*.c) server/lmtp/data.c \
            $(BUILD)/gen/migrations.c
# server/lmtp/data.c (the DATA decoder) is pure, so the unit tests link it.
KAIRAND_SRCS   := $(wildcard server/*.c) $(filter-out server/lmtp/data.c,$(wildcard server/lmtp/*.c))
# kairanctl shares the translation of the directory settings with kairand,
# and the making of teams from LDAP groups (server/teams.c).
KAIRANCTL_SRCS := $(wildcard server/ctl/*.c) server/dir_settings.c server/teams.c \
                  server/lmtp/delivery.c server/lmtp/recipient.c
UNIT_SRCS      := $(wildcard tests/unit/test_*.c)
MIGRATIONS     := $(sort $(wildcard migrations/[0-9][0-9][0-9][0-9]_*.sql))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst $(BUILD)/%,%,$(1)))
LIB_OBJS := $(call obj,$(LIB_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps run test asan unit protocol clean clean-var fuzz fuzz-build install uninstall
# Keep object files of the unit tests (make would delete them as intermediates).
.SECONDARY:
all: $(BUILD)/kairand $(BUILD)/kairanctl

# V=1 shows the full compiler command lines.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

# Migrations are compiled into both binaries, so a binary always knows exactly
# which schema versions it understands (and can refuse a newer database).
$(BUILD)/gen/migrations.c: $(MIGRATIONS) schema/embed_migrations.sh
	@mkdir -p $(dir $@)
	sh schema/embed_migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/libkairan.a: $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/kairand: $(call obj,$(KAIRAND_SRCS)) $(BUILD)/libkairan.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KLDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/kairanctl: $(call obj,$(KAIRANCTL_SRCS)) $(BUILD)/libkairan.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KLDFLAGS) -o $@ $^ $(LDLIBS)

# The MIME dump tool of tests/mime/test_mime_vs_python.py.
$(BUILD)/tests/mime_dump: $(BUILD)/obj/tests/mime/mime_dump.o $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KLDFLAGS) -o $@ $^ $(LDLIBS)

# The \Seen mode driver of tests/protocol/test_seen_per_user.py.
$(BUILD)/tests/seen_mode: $(BUILD)/obj/tests/protocol/seen_mode.o $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KLDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KLDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@sh tests/harness/deps.sh

unit: $(UNIT_BINS)
	@sh tests/harness/run_unit.sh $(UNIT_BINS)

protocol: all $(BUILD)/tests/mime_dump $(BUILD)/tests/seen_mode
	KAIRAN_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/protocol tests/interop tests/mime $(PYTEST_ARGS)

test: deps
	@$(MAKE) --no-print-directory all unit fuzz-build
	@$(MAKE) --no-print-directory protocol

asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan OPTFLAGS="-O1 -g" \
	    SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

# The demo's ports: `make run IMAP_PORT=2143 IMAPS_PORT=2993 ...` beside another server.
IMAP_PORT    ?= 1143
IMAPS_PORT   ?= 1993
LDAP_PORT    ?= 1389
LMTP_PORT    ?= 2424
METRICS_PORT ?= 9143
run: deps all
	$(PYTHON) tests/harness/run_demo.py --build $(abspath $(BUILD)) --var $(abspath var) \
	    --imap-port $(IMAP_PORT) --imaps-port $(IMAPS_PORT) --ldap-port $(LDAP_PORT) \
	    --lmtp-port $(LMTP_PORT) --metrics-port $(METRICS_PORT)

# Installation (docs/deployment.md). Both programs go to sbin: kairanctl is an
# administrator's tool (section 8) that reads the config file holding the
# LDAP service password. The config itself is the administrator's: only the
# commented example is installed, never /etc/kairan/kairan.conf. The
# migrations are compiled into both binaries, so none are installed. The
# systemd unit goes where systemd looks for units of PREFIX (/usr/local/lib/
# systemd/system, /usr/lib/systemd/system), with ExecStart= pointing at SBINDIR.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/kairan
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install

install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 0755 $(BUILD)/kairand $(BUILD)/kairanctl $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 docs/man/kairand.8 docs/man/kairanctl.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 docs/man/kairan.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 docs/kairan.conf.example docs/deployment.md docs/config.md $(DESTDIR)$(DOCDIR)/
	sed 's|/usr/local/sbin/|$(SBINDIR)/|g' docs/kairand.service > $(DESTDIR)$(UNITDIR)/kairand.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/kairand.service.tmp
	mv $(DESTDIR)$(UNITDIR)/kairand.service.tmp $(DESTDIR)$(UNITDIR)/kairand.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/kairand $(DESTDIR)$(SBINDIR)/kairanctl \
	    $(DESTDIR)$(MANDIR)/man8/kairand.8 $(DESTDIR)$(MANDIR)/man8/kairanctl.8 \
	    $(DESTDIR)$(MANDIR)/man5/kairan.conf.5 $(DESTDIR)$(UNITDIR)/kairand.service \
	    $(DESTDIR)$(DOCDIR)/kairan.conf.example $(DESTDIR)$(DOCDIR)/deployment.md \
	    $(DESTDIR)$(DOCDIR)/config.md
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# Fuzzing (tests/fuzz/): libFuzzer targets built with clang into build-fuzz/
# from the few library sources each needs (no libpq, libldap or OpenSSL), run
# side by side for FUZZ_SECONDS each on a copy of their seed corpus in
# build-fuzz/corpus-<name> (the committed corpus never grows), with
# tests/fuzz/<name>.dict as dictionary when there is one. A crash, leak or
# sanitizer report stops its target, leaves the input in
# build-fuzz/artifacts-<name>/ and fails make. docs/testing.md says more.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DEFINES ?=
FUZZ_DIR     := build-fuzz
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -I. -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(FUZZ_DEFINES)
FUZZ_SRCS    := server/core/arena.c server/core/buf.c server/core/quoting.c server/imap/parser.c \
                server/imap/writer.c server/imap/imap_url.c server/imap/mutf7.c server/core/base64.c \
                server/imap/header_downgrade.c
FUZZ_NAMES   := parser writer url mime config header_downgrade lmtp import
# Each target's sources (FUZZ_SRCS_<name>) and, beside tests/fuzz/corpus/<name>,
# further seed directories (FUZZ_SEEDS_<name>).
FUZZ_SRCS_parser := $(FUZZ_SRCS)
FUZZ_SRCS_writer := $(FUZZ_SRCS)
FUZZ_SRCS_url    := $(FUZZ_SRCS)
FUZZ_SRCS_header_downgrade := $(FUZZ_SRCS)
# What APPEND and LMTP run on every message (server/imap/message_analyse.c).
FUZZ_SRCS_mime   := server/core/arena.c server/core/buf.c server/core/base64.c server/core/quoting.c \
                    $(wildcard server/mime/*.c) server/imap/message_analyse.c \
                    server/imap/datetime.c server/imap/mutf7.c server/core/spool.c server/core/utf8.c
FUZZ_SEEDS_mime  := tests/fixtures/mail
FUZZ_SRCS_config := server/core/buf.c server/core/config.c
# LMTP's command grammar and message decoder (server/lmtp/parse.c, data.c).
FUZZ_SRCS_lmtp   := server/core/buf.c server/lmtp/parse.c server/lmtp/data.c server/imap/mutf7.c \
                    server/core/base64.c
# What kairanctl import parses from a source (an mbox file, an IMAP server).
FUZZ_SRCS_import := server/core/arena.c server/core/buf.c server/core/utf8.c server/core/base64.c \
                    server/core/quoting.c server/imap/mutf7.c server/imap/args.c server/imap/parser.c \
                    server/imap/datetime.c server/imap/store_args.c server/ctl/import_source.c \
                    server/ctl/import_mbox.c server/ctl/imap_tokens.c

# Always rebuilt (a few seconds): FUZZ_DEFINES may differ from the last run.
# make test builds them too (fuzz-build), so a target cannot rot unnoticed.
fuzz-build:
	@mkdir -p $(FUZZ_DIR)
	@$(foreach t,$(FUZZ_NAMES),echo "  FUZZCC  $(FUZZ_DIR)/fuzz_$(t)" && \
	    $(FUZZ_CC) $(FUZZ_CFLAGS) -o $(FUZZ_DIR)/fuzz_$(t) tests/fuzz/fuzz_$(t).c $(FUZZ_SRCS_$(t)) &&) true

fuzz: fuzz-build
	@$(foreach t,$(FUZZ_NAMES),mkdir -p $(FUZZ_DIR)/corpus-$(t) $(FUZZ_DIR)/artifacts-$(t) && \
	    cp $(addsuffix /*,tests/fuzz/corpus/$(t) $(FUZZ_SEEDS_$(t))) $(FUZZ_DIR)/corpus-$(t)/ &&) true
	@echo "fuzzing $(FUZZ_NAMES) for $(FUZZ_SECONDS) s, side by side; logs in $(FUZZ_DIR)/"; \
	pids=; for t in $(FUZZ_NAMES); do \
	    dict=; if [ -f tests/fuzz/$$t.dict ]; then dict=-dict=tests/fuzz/$$t.dict; fi; \
	    { $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 $$dict \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts-$$t/ $(FUZZ_DIR)/corpus-$$t \
	        > $(FUZZ_DIR)/fuzz_$$t.log 2>&1; echo $$? > $(FUZZ_DIR)/fuzz_$$t.status; } & \
	    pids="$$pids $$!"; \
	done; \
	wait $$pids; status=0; \
	for t in $(FUZZ_NAMES); do \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/fuzz_$$t.log); \
	    if [ "$$(cat $(FUZZ_DIR)/fuzz_$$t.status)" = 0 ]; then \
	        echo "fuzz_$$t: $$runs executions, no crash"; \
	    else \
	        status=1; \
	        echo "fuzz_$$t: CRASH after $$runs executions (log: $(FUZZ_DIR)/fuzz_$$t.log)"; \
	        grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_)|runtime error|Test unit written' $(FUZZ_DIR)/fuzz_$$t.log; \
	    fi; \
	done; exit $$status

# Parser micro-benchmark (tests/bench/): optimised, no sanitizers, one core.
BENCH_SECONDS ?= 5
BENCH_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. -O2 -g $(CFLAGS)
BENCH_SRCS    := server/core/arena.c server/core/buf.c server/imap/parser.c

.PHONY: bench
$(BUILD)/bench/bench_parser: tests/bench/bench_parser.c $(BENCH_SRCS) server/core/arena.h \
                             server/core/buf.h server/imap/parser.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_SRCS)

bench: $(BUILD)/bench/bench_parser
	$(BUILD)/bench/bench_parser $(BENCH_SECONDS)

# Store benchmark (tests/bench/bench_store.py): APPEND, SELECT and FETCH against a private
# PostgreSQL + slapd + kairand, and Dovecot with BENCH_STORE_ARGS=--with-dovecot; a few
# minutes; the report goes to stdout and tests/bench/results-store.md.
BENCH_STORE_ARGS ?=
.PHONY: bench-store
bench-store: all
	$(PYTHON) tests/bench/bench_store.py --build $(abspath $(BUILD)) $(BENCH_STORE_ARGS)

# Search benchmark (tests/bench/bench_search.py): SEARCH over a 100,000-message mailbox,
# and Dovecot with BENCH_SEARCH_ARGS=--with-dovecot; up to 15 minutes; report on stdout
# (and in a file with BENCH_SEARCH_ARGS=--out FILE); figures in tests/bench/results-search.md.
BENCH_SEARCH_ARGS ?=
.PHONY: bench-search
bench-search: all
	$(PYTHON) tests/bench/bench_search.py --build $(abspath $(BUILD)) $(BENCH_SEARCH_ARGS)

# Mixed-workload benchmark (tests/bench/bench_mixed.py): 10 and 50 clients, each one long
# session cycling SELECT/FETCH/STORE/APPEND/EXPUNGE/LIST/STATUS with every response checked,
# on one shared mailbox and on one mailbox each, kairand (with pg_stat_statements) side by
# side with Dovecot (apt-get installs it if missing); about 5 minutes; every service stopped
# at the end. BENCH_MIXED_ARGS="--calibrate" also measures the load generator against a stub
# server, "--out FILE" writes the report; figures in tests/bench/results-mixed.md.
BENCH_MIXED_ARGS ?=
.PHONY: bench-mixed
bench-mixed: all
	$(PYTHON) tests/bench/bench_mixed.py --build $(abspath $(BUILD)) $(BENCH_MIXED_ARGS)

# IDLE at scale (tests/bench/bench_idle.py): 10,000 idling sessions plain and over TLS,
# 1,000 on a 100,000-message shared mailbox with APPEND-to-every-watcher latency, and
# Dovecot's memory for 1,000 idling clients; BENCH_IDLE_ARGS="--out FILE" appends the
# report; figures in tests/bench/results-idle.md. Some 5 minutes.
.PHONY: bench-idle
bench-idle: all
	$(PYTHON) tests/bench/bench_idle.py --build $(abspath $(BUILD)) $(BENCH_IDLE_ARGS)

# LMTP delivery benchmark (tests/bench/bench_lmtp.py): deliveries per second over 8 LMTP
# connections, 10 and 1 recipients per message, kairand (with pg_stat_statements) side by side
# with Dovecot's LMTP (dovecot-lmtpd, installed by make deps); about 2 minutes; figures in
# tests/bench/results-lmtp.md (BENCH_LMTP_ARGS="--out FILE" writes the report).
BENCH_LMTP_ARGS ?=
.PHONY: bench-lmtp
bench-lmtp: all
	$(PYTHON) tests/bench/bench_lmtp.py --build $(abspath $(BUILD)) $(BENCH_LMTP_ARGS)

clean:
	rm -rf build build-asan build-fuzz

clean-var:
	$(PYTHON) tests/harness/run_demo.py --var $(abspath var) --stop-only 2>/dev/null || true
	rm -rf var

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
