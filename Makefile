# Kairan — build, run and test.
#
#   make          build kairand and kairanctl into build/
#   make run      the self-contained demo instance under ./var (PostgreSQL, slapd, kairand)
#   make test     unit tests + protocol tests against a private PostgreSQL and slapd
#   make asan     the same test suite built with AddressSanitizer + UBSan
#   make deps     install (apt-get) what building, running and testing need
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
LDLIBS   := -lpq -lldap -llber -lssl -lcrypto -lpthread

# Modules shared by both programs (everything but the two mains and kairanctl's code).
LIB_SRCS := $(wildcard server/core/*.c server/net/*.c server/imap/*.c \
                       acl/*.c directory/*.c schema/*.c) $(BUILD)/gen/migrations.c
KAIRAND_SRCS   := $(wildcard server/*.c)
KAIRANCTL_SRCS := $(wildcard server/ctl/*.c)
UNIT_SRCS      := $(wildcard tests/unit/test_*.c)
MIGRATIONS     := $(sort $(wildcard migrations/[0-9][0-9][0-9][0-9]_*.sql))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst $(BUILD)/%,%,$(1)))
LIB_OBJS := $(call obj,$(LIB_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps run test asan unit protocol clean clean-var fuzz
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

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KLDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@sh tests/harness/deps.sh

unit: $(UNIT_BINS)
	@sh tests/harness/run_unit.sh $(UNIT_BINS)

protocol: all
	KAIRAN_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/protocol $(PYTEST_ARGS)

test: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory protocol

asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan OPTFLAGS="-O1 -g" \
	    SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

run: deps all
	$(PYTHON) tests/harness/run_demo.py --build $(abspath $(BUILD)) --var $(abspath var)

clean:
	rm -rf build build-asan build-fuzz

clean-var:
	$(PYTHON) tests/harness/run_demo.py --var $(abspath var) --stop-only 2>/dev/null || true
	rm -rf var

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
