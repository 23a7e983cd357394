/* FETCH data items, built by the real parser from whole command lines. */
#include "tests/unit/unit.h"
#include "tests/unit/parse_line.h"
#include "server/imap/fetch_args.h"
#include "server/imap/parser.h"

#include <stdlib.h>

static struct arena arena;

static const struct imap_parser_limits limits = {
	.max_line = 1 << 20, .max_literal = 1 << 16, .max_literals = 10,
	.max_depth = 100, .max_args = 100000,
};

static const struct imap_arg *parse_line(const char *line, size_t len)
{
	return unit_parse_line(&limits, &arena, line, len);
}

/* Runs "a FETCH 1 <atts>". */
static int fetch_n(const char *atts, size_t len, struct imap_fetch_request *req, const char **err)
{
	char *line = malloc(len + 16);
	const struct imap_arg *args;
	int r;

	memcpy(line, "a FETCH 1 ", 10);
	memcpy(line + 10, atts, len);
	memcpy(line + 10 + len, "\r\n", 2);
	args = parse_line(line, len + 12);
	free(line);
	*err = NULL;
	r = imap_fetch_parse(&arena, &args[1], req, err);
	if (r == 0)
		CHECK(*err == NULL);
	return r;
}

static int fetch(const char *atts, struct imap_fetch_request *req, const char **err)
{
	return fetch_n(atts, strlen(atts), req, err);
}

/* One attribute that must parse, and the response name it must get. */
static const struct imap_fetch_item *one(const char *att, const char *name)
{
	static struct imap_fetch_request req;
	const char *err;

	if (fetch(att, &req, &err) != 0 || req.count != 1) {
		fprintf(stderr, "  %s: %s\n", att, err ? err : "count != 1");
		unit_current_failed = 1;
		return NULL;
	}
	CHECK_STR(req.items[0].name, name);
	CHECK(req.items[0].name_len == strlen(name));
	return &req.items[0];
}

static void expect_error(const char *atts, const char *error)
{
	struct imap_fetch_request req;
	const char *err;
	int r = fetch(atts, &req, &err);

	if (r != -1 || err == NULL || strcmp(err, error) != 0) {
		fprintf(stderr, "  %s: got %d \"%s\", want \"%s\"\n", atts, r, err ? err : "", error);
		unit_current_failed = 1;
	}
}

static void test_simple(void)
{
	static const struct { const char *att, *name; enum imap_fetch_kind kind; } cases[] = {
		{ "ENVELOPE", "ENVELOPE", IMAP_FETCH_ENVELOPE },
		{ "flags", "FLAGS", IMAP_FETCH_FLAGS },
		{ "InternalDate", "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
		{ "RFC822", "RFC822", IMAP_FETCH_RFC822 },
		{ "rfc822.header", "RFC822.HEADER", IMAP_FETCH_RFC822_HEADER },
		{ "RFC822.SIZE", "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
		{ "RFC822.Text", "RFC822.TEXT", IMAP_FETCH_RFC822_TEXT },
		{ "body", "BODY", IMAP_FETCH_BODY },
		{ "BODYSTRUCTURE", "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
		{ "uid", "UID", IMAP_FETCH_UID },
		{ "ModSeq", "MODSEQ", IMAP_FETCH_MODSEQ },
		{ "emailid", "EMAILID", IMAP_FETCH_EMAILID },
		{ "ThreadId", "THREADID", IMAP_FETCH_THREADID },
		{ "savedate", "SAVEDATE", IMAP_FETCH_SAVEDATE },
	};
	struct imap_fetch_request req;
	const char *err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct imap_fetch_item *it = one(cases[i].att, cases[i].name);
		CHECK(it != NULL && it->kind == cases[i].kind && !it->partial && !it->peek);
	}
	/* Nothing precomputed needs the raw message or sets \Seen. */
	CHECK(fetch("(FLAGS UID ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE INTERNALDATE MODSEQ)",
		    &req, &err) == 0);
	CHECK(req.count == 8 && !req.needs_raw && !req.sets_seen);
	CHECK(fetch("RFC822.HEADER", &req, &err) == 0 && req.needs_raw && !req.sets_seen);
	CHECK(fetch("RFC822", &req, &err) == 0 && req.needs_raw && req.sets_seen);
	CHECK(fetch("(UID RFC822.TEXT)", &req, &err) == 0 && req.needs_raw && req.sets_seen);
}

static void test_macros(void)
{
	struct imap_fetch_request req;
	const char *err;

	CHECK(fetch("ALL", &req, &err) == 0 && req.count == 4);
	CHECK(req.items[0].kind == IMAP_FETCH_FLAGS && req.items[1].kind == IMAP_FETCH_INTERNALDATE &&
	      req.items[2].kind == IMAP_FETCH_RFC822_SIZE && req.items[3].kind == IMAP_FETCH_ENVELOPE);
	CHECK(!req.needs_raw && !req.sets_seen);
	CHECK(fetch("fast", &req, &err) == 0 && req.count == 3);
	CHECK(req.items[2].kind == IMAP_FETCH_RFC822_SIZE);
	CHECK(fetch("Full", &req, &err) == 0 && req.count == 5 && req.items[4].kind == IMAP_FETCH_BODY);
	CHECK_STR(req.items[4].name, "BODY");
	expect_error("(ALL)", "ALL, FAST and FULL cannot be used in a list");
	expect_error("(FLAGS fast)", "ALL, FAST and FULL cannot be used in a list");
	expect_error("(full)", "ALL, FAST and FULL cannot be used in a list");
}

static void test_sections(void)
{
	const struct imap_fetch_item *it;
	struct imap_fetch_request req;
	const char *err;

	it = one("BODY[]", "BODY[]");
	CHECK(it && it->kind == IMAP_FETCH_BODY_SECTION && !it->peek && it->section.nparts == 0 &&
	      it->section.text == IMAP_SECTION_ALL);
	CHECK(fetch("BODY[]", &req, &err) == 0 && req.sets_seen && req.needs_raw);
	CHECK(fetch("BODY.PEEK[]", &req, &err) == 0 && !req.sets_seen && req.needs_raw &&
	      req.items[0].peek);
	CHECK_STR(req.items[0].name, "BODY[]");

	it = one("BODY[1.2.MIME]", "BODY[1.2.MIME]");
	CHECK(it && it->section.nparts == 2 && it->section.parts[0] == 1 &&
	      it->section.parts[1] == 2 && it->section.text == IMAP_SECTION_MIME);
	it = one("body[3]", "BODY[3]");
	CHECK(it && it->section.nparts == 1 && it->section.parts[0] == 3 &&
	      it->section.text == IMAP_SECTION_ALL);
	it = one("BODY[header]", "BODY[HEADER]");
	CHECK(it && it->section.nparts == 0 && it->section.text == IMAP_SECTION_HEADER);
	it = one("BODY[Text]", "BODY[TEXT]");
	CHECK(it && it->section.text == IMAP_SECTION_TEXT);
	it = one("BODY[4.1.text]", "BODY[4.1.TEXT]");
	CHECK(it && it->section.nparts == 2 && it->section.text == IMAP_SECTION_TEXT);
	it = one("BODY[2.HEADER]", "BODY[2.HEADER]");
	CHECK(it && it->section.text == IMAP_SECTION_HEADER);
	it = one("BODY[4294967295]", "BODY[4294967295]");
	CHECK(it && it->section.parts[0] == 4294967295u);

	it = one("BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100>",
		 "BODY[HEADER.FIELDS (FROM TO)]<0>");
	CHECK(it && it->peek && it->partial && it->offset == 0 && it->length == 100);
	CHECK(it && it->section.text == IMAP_SECTION_HEADER_FIELDS && it->section.nfields == 2);
	if (it && it->section.nfields == 2) {
		CHECK_MEM(it->section.fields[0], it->section.field_lens[0], "FROM", 4);
		CHECK_MEM(it->section.fields[1], it->section.field_lens[1], "TO", 2);
	}
	it = one("body.peek[1.2.header.fields.not (x-spam-flag Received)]",
		 "BODY[1.2.HEADER.FIELDS.NOT (X-SPAM-FLAG RECEIVED)]");
	CHECK(it && it->section.text == IMAP_SECTION_HEADER_FIELDS_NOT && it->section.nparts == 2);
	/* Names an atom cannot carry are echoed quoted, escapes and all. */
	it = one("BODY[HEADER.FIELDS (\"x y\" \"a\\\"b\" \"\" \"c\\\\d\" \"e*\")]",
		 "BODY[HEADER.FIELDS (\"X Y\" \"A\\\"B\" \"\" \"C\\\\D\" \"E*\")]");
	if (it && it->section.nfields == 5) {
		CHECK_MEM(it->section.fields[0], it->section.field_lens[0], "X Y", 3);
		CHECK_MEM(it->section.fields[1], it->section.field_lens[1], "A\"B", 3);
		CHECK(it->section.field_lens[2] == 0);
		CHECK_MEM(it->section.fields[3], it->section.field_lens[3], "C\\D", 3);
	}
	it = one("BODY[]<10.5>", "BODY[]<10>");
	CHECK(it && it->partial && it->offset == 10 && it->length == 5);
	it = one("BODY[]<007.5>", "BODY[]<7>");
	it = one("BODY[]<4294967295.4294967295>", "BODY[]<4294967295>");
	CHECK(it && it->offset == 4294967295u && it->length == 4294967295u);
}

static void test_binary(void)
{
	const struct imap_fetch_item *it;
	struct imap_fetch_request req;
	const char *err;

	it = one("BINARY[1.2]<5.10>", "BINARY[1.2]<5>");
	CHECK(it && it->kind == IMAP_FETCH_BINARY && !it->peek && it->partial &&
	      it->offset == 5 && it->length == 10 && it->section.nparts == 2);
	CHECK(fetch("binary[]", &req, &err) == 0 && req.sets_seen && req.needs_raw);
	CHECK_STR(req.items[0].name, "BINARY[]");
	CHECK(fetch("BINARY.PEEK[3]", &req, &err) == 0 && !req.sets_seen && req.items[0].peek);
	CHECK_STR(req.items[0].name, "BINARY[3]");
	CHECK(fetch("binary.size[3.1]", &req, &err) == 0 && !req.sets_seen && req.needs_raw);
	CHECK(req.items[0].kind == IMAP_FETCH_BINARY_SIZE);
	CHECK_STR(req.items[0].name, "BINARY.SIZE[3.1]");
	CHECK(fetch("BINARY.SIZE[]", &req, &err) == 0);
	CHECK_STR(req.items[0].name, "BINARY.SIZE[]");
	expect_error("BINARY[HEADER]", "BINARY takes only part numbers");
	expect_error("BINARY[1.MIME]", "BINARY takes only part numbers");
	expect_error("BINARY.PEEK[1.TEXT]", "BINARY takes only part numbers");
	expect_error("BINARY.SIZE[1]<0.1>", "BINARY.SIZE takes no partial");
	expect_error("BINARY", "BINARY needs a [section]");
	expect_error("BINARY.PEEK", "BINARY.PEEK needs a [section]");
	expect_error("BINARY.SIZE", "BINARY.SIZE needs a [section]");
}

static void test_merge(void)
{
	struct imap_fetch_request req;
	const char *err;

	CHECK(fetch("(FLAGS flags BODY.PEEK[] UID BODY[] body.peek[1] BODY.PEEK[1])", &req, &err) == 0);
	CHECK(req.count == 4);
	CHECK(req.count == 4 && !req.items[1].peek && req.items[3].peek);
	CHECK_STR(req.items[1].name, "BODY[]");
	CHECK(req.sets_seen);
	/* A partial and the whole are different items. */
	CHECK(fetch("(BODY.PEEK[]<0.10> BODY.PEEK[] BODY.PEEK[]<0.20>)", &req, &err) == 0);
	CHECK(req.count == 2 && !req.sets_seen);
}

static void test_errors(void)
{
	struct imap_fetch_request req;
	const char *err;
	const struct imap_arg *args = parse_line("a FETCH 1\r\n", 11);

	CHECK(imap_fetch_parse(&arena, &args[1], &req, &err) == -1);
	CHECK_STR(err, "Missing fetch attributes");
	expect_error("()", "Empty fetch attribute list");
	expect_error("\"FLAGS\"", "Invalid fetch attribute");
	expect_error("(FLAGS \"UID\")", "Invalid fetch attribute");
	expect_error("(FLAGS (UID))", "Invalid fetch attribute");
	expect_error("{5}\r\nFLAGS", "Invalid fetch attribute");
	expect_error("FOO", "Unknown fetch attribute");
	expect_error("FLAGS[]", "Unknown fetch attribute");
	expect_error("BODY.PEK[]", "Unknown fetch attribute");
	expect_error("RFC822.PEEK", "Unknown fetch attribute");
	expect_error("BODY.PEEK", "BODY.PEEK needs a [section]");
	expect_error("BODY[0]", "Invalid section part number");
	expect_error("BODY[01]", "Invalid section part number");
	expect_error("BODY[1.0]", "Invalid section part number");
	expect_error("BODY[4294967296]", "Section part number too big");
	expect_error("BODY[99999999999999999999]", "Section part number too big");
	expect_error("BODY[MIME]", "MIME needs a part number");
	expect_error("BODY[FOO]", "Invalid section");
	expect_error("BODY[1.]", "Invalid section");
	expect_error("BODY[1..2]", "Invalid section");
	expect_error("BODY[1 ]", "Invalid section");
	expect_error("BODY[ ]", "Invalid section");
	expect_error("BODY[HEADER ]", "Invalid section");
	expect_error("BODY[HEADER.TEXT]", "Invalid section");
	expect_error("BODY[TEXT.1]", "Invalid section");
	expect_error("BODY[1.MIME.TEXT]", "Invalid section");
	expect_error("BODY[HEADER.FIELDS (A)x]", "Invalid section");
	expect_error("BODY[HEADER.FIELDS]", "HEADER.FIELDS needs a list of field names");
	expect_error("BODY[HEADER.FIELDS A]", "HEADER.FIELDS needs a list of field names");
	expect_error("BODY[HEADER.FIELDS.NOT]", "HEADER.FIELDS needs a list of field names");
	expect_error("BODY[HEADER.FIELDS ()]", "Empty header field list");
	expect_error("BODY[HEADER.FIELDS ({4})]", "Literals are not supported inside a section");
	expect_error("BODY[HEADER.FIELDS (From {4})]", "Literals are not supported inside a section");
	expect_error("BODY[HEADER.FIELDS (\"From)]", "Invalid quoted header field name");
	expect_error("BODY[HEADER.FIELDS (\"a\\b\")]", "Invalid quoted header field name");
	expect_error("BODY[HEADER.FIELDS (\"caf\xc3\xa9\")]", "Invalid header field name");
	expect_error("BODY[HEADER.FIELDS (\"a\x01\")]", "Invalid header field name");
	expect_error("BODY[HEADER.FIELDS (Fr*m)]", "Invalid header field name");
	expect_error("BODY[HEADER.FIELDS (A\"B\")]", "Invalid header field name");
	expect_error("BODY[HEADER.FIELDS (A  B)]", "Invalid header field list");
	expect_error("BODY[HEADER.FIELDS (A )]", "Invalid header field list");
	expect_error("BODY[HEADER.FIELDS ( A)]", "Invalid header field list");
	expect_error("BODY[]x", "Unexpected text after section");
	expect_error("BODY[]]", "Unexpected text after section");
	expect_error("BODY[]<>", "Invalid partial");
	expect_error("BODY[]<1.2>x", "Invalid partial");
	expect_error("BODY[]<1.2", "Invalid partial");
	expect_error("BODY[]<-1.2>", "Invalid partial");
	expect_error("BODY[]<5>", "Invalid partial: <offset.length> expected");
	expect_error("BODY[]<5.>", "Partial length must be a nonzero number");
	expect_error("BODY[]<0.0>", "Partial length must be a nonzero number");
	expect_error("BODY[]<0.01>", "Partial length must be a nonzero number");
	expect_error("BODY[]<4294967296.1>", "Partial offset too big");
	expect_error("BODY[]<0.4294967296>", "Partial length too big");
}

static void test_limits(void)
{
	struct imap_fetch_request req;
	const char *err;
	size_t cap = 64 * 1024, n;
	char *s = malloc(cap);

	/* 1000 attributes are fine, 1001 are not. */
	for (int total = 1000; total <= 1001; total++) {
		n = 0;
		s[n++] = '(';
		for (int i = 0; i < total; i++)
			n += (size_t)snprintf(s + n, cap - n, "%sBODY[%d]", i ? " " : "", i + 1);
		s[n++] = ')';
		if (total == 1000)
			CHECK(fetch_n(s, n, &req, &err) == 0 && req.count == 1000);
		else {
			CHECK(fetch_n(s, n, &req, &err) == -1);
			CHECK(err && strcmp(err, "Too many fetch attributes") == 0);
		}
	}
	/* 100 part levels are fine, 101 are not. */
	for (int total = 100; total <= 101; total++) {
		n = (size_t)snprintf(s, cap, "BODY[");
		for (int i = 0; i < total; i++)
			n += (size_t)snprintf(s + n, cap - n, "%s%d", i ? "." : "", i + 1);
		n += (size_t)snprintf(s + n, cap - n, ".MIME]");
		if (total == 100) {
			CHECK(fetch_n(s, n, &req, &err) == 0);
			CHECK(req.items[0].section.nparts == 100 && req.items[0].section.parts[99] == 100);
		} else {
			CHECK(fetch_n(s, n, &req, &err) == -1);
			CHECK(err && strcmp(err, "Too many section part levels") == 0);
		}
	}
	/* 1000 header fields are fine, 1001 are not. */
	for (int total = 1000; total <= 1001; total++) {
		n = (size_t)snprintf(s, cap, "BODY.PEEK[HEADER.FIELDS (");
		for (int i = 0; i < total; i++)
			n += (size_t)snprintf(s + n, cap - n, "%sX-F%d", i ? " " : "", i);
		n += (size_t)snprintf(s + n, cap - n, ")]<1.2>");
		if (total == 1000) {
			CHECK(fetch_n(s, n, &req, &err) == 0 && req.items[0].section.nfields == 1000);
			CHECK_MEM(req.items[0].section.fields[999], req.items[0].section.field_lens[999],
				  "X-F999", 6);
			/* The echo is the request, upper-cased, PEEK and length dropped. */
			CHECK(req.items[0].name_len == n - strlen(".PEEK") - strlen(".2"));
		} else {
			CHECK(fetch_n(s, n, &req, &err) == -1);
			CHECK(err && strcmp(err, "Too many header fields") == 0);
		}
	}
	free(s);
}

int main(void)
{
	arena_init(&arena);
	UNIT_RUN(test_simple);
	UNIT_RUN(test_macros);
	UNIT_RUN(test_sections);
	UNIT_RUN(test_binary);
	UNIT_RUN(test_merge);
	UNIT_RUN(test_errors);
	UNIT_RUN(test_limits);
	arena_free(&arena);
	return unit_report("test_fetch_args");
}
