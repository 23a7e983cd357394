/* libFuzzer target for the MIME analysis every stored message goes
 * through (server/mime, server/imap/message_analyse.c): APPEND and LMTP
 * run it on whatever a client or an MTA sends.
 *
 * The input is the raw message, as is, so the seed corpus
 * (tests/fuzz/corpus/mime) is plain mail. Each input is analysed twice:
 *
 *   1. imap_message_analyse, exactly what APPEND runs (default limits);
 *   2. mime_parse with tiny limits (depth 3, 12 parts, 400 header bytes,
 *      16 fields, 300 text bytes), so that every limit is crossed often.
 *
 * After each, the outputs are checked against their contracts (mime.h,
 * message_analyse.h): ENVELOPE, BODY and BODYSTRUCTURE are one well-formed
 * IMAP parenthesised list (RFC 3501 §4, §9: quoted strings without CR, LF,
 * NUL or 8-bit bytes, literals of the length they announce and without
 * NUL), ENVELOPE has its ten fields; the search fields and texts are valid
 * UTF-8 without NUL and within the limits; every part the part map names
 * (found with mime_section_find, as FETCH BODY[section] does) lies inside
 * the message, no deeper and no more of them than the limits allow, and
 * its content goes through mime_decode_content (FETCH BINARY[]).
 *
 * A broken contract calls abort(), which libFuzzer reports as a crash;
 * ASan and UBSan report the rest, LeakSanitizer any leak. */
#include "server/core/arena.h"
#include "server/core/buf.h"
#include "server/imap/message_analyse.h"
#include "server/imap/mutf7.h"
#include "server/mime/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILED(...) do { \
	fprintf(stderr, "fuzz_mime: " __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

static const struct mime_limits tiny_limits = {
	.max_depth = 3,
	.max_parts = 12,
	.max_header_bytes = 400,
	.max_fields = 16,
	.max_text_bytes = 300,
};

/* Sections looked up per message: each lookup reads the part map from
 * its start, so a message of 1,000 parts would cost a million steps. */
#define MAX_SECTIONS 200
#define MAX_PATH 64

/* --- IMAP values (RFC 3501 §9: body, envelope) ------------------------ */

struct scan {
	const char *p, *end;
	const char *what;
};

static void scan_value(struct scan *s, size_t depth);

static void scan_quoted(struct scan *s)
{
	s->p++;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;

		if (c == '\\') {
			if (s->p + 1 >= s->end || (s->p[1] != '"' && s->p[1] != '\\'))
				FAILED("%s: bad escape in a quoted string", s->what);
			s->p++;
		} else if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80) {
			FAILED("%s: byte 0x%02x in a quoted string", s->what, c);
		}
		s->p++;
	}
	if (s->p >= s->end)
		FAILED("%s: unterminated quoted string", s->what);
	s->p++;
}

static void scan_literal(struct scan *s)
{
	size_t n = 0;

	s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		FAILED("%s: literal without a length", s->what);
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		n = n * 10 + (size_t)(*s->p - '0');
		if (n > (size_t)(s->end - s->p))
			FAILED("%s: literal longer than the value", s->what);
		s->p++;
	}
	if (s->end - s->p < 3 || memcmp(s->p, "}\r\n", 3) != 0)
		FAILED("%s: literal length not followed by }CRLF", s->what);
	s->p += 3;
	if ((size_t)(s->end - s->p) < n)
		FAILED("%s: literal of %zu bytes runs past the value", s->what, n);
	if (memchr(s->p, '\0', n) != NULL)
		FAILED("%s: NUL in a literal", s->what);
	s->p += n;
}

/* A list's items, separated by one space, except that lists may follow
 * each other directly (RFC 3501 §9: "(" 1*address ")", 1*body SP
 * media-subtype); returns how many. */
static size_t scan_list(struct scan *s, size_t depth)
{
	size_t items = 0;

	s->p++;
	while (s->p < s->end && *s->p != ')') {
		if (items > 0) {
			if (*s->p == ' ')
				s->p++;
			else if (!(*s->p == '(' && s->p[-1] == ')'))
				FAILED("%s: list items not separated by a space", s->what);
		}
		scan_value(s, depth + 1);
		items++;
	}
	if (s->p >= s->end)
		FAILED("%s: unterminated list", s->what);
	s->p++;
	return items;
}

static void scan_value(struct scan *s, size_t depth)
{
	const char *start = s->p;

	if (depth > 4 * MAX_PATH + 16)
		FAILED("%s: lists nested %zu deep", s->what, depth);
	if (s->p >= s->end)
		FAILED("%s: value missing", s->what);
	switch (*s->p) {
	case '(':
		scan_list(s, depth);
		return;
	case '"':
		scan_quoted(s);
		return;
	case '{':
		scan_literal(s);
		return;
	}
	/* Otherwise NIL or a number: the only atoms ENVELOPE and BODYSTRUCTURE hold. */
	while (s->p < s->end && ((*s->p >= 'A' && *s->p <= 'Z') || (*s->p >= '0' && *s->p <= '9')))
		s->p++;
	if (s->p == start)
		FAILED("%s: byte 0x%02x where a value starts", s->what, (unsigned char)*start);
	if (!(s->p - start == 3 && memcmp(start, "NIL", 3) == 0))
		for (const char *q = start; q < s->p; q++)
			if (*q < '0' || *q > '9')
				FAILED("%s: atom %.*s", s->what, (int)(s->p - start), start);
}

/* value must be exactly one parenthesised list; returns its item count. */
static size_t check_imap_list(const char *value, size_t len, const char *what)
{
	struct scan s = { value, value + len, what };
	size_t items;

	if (value == NULL || len == 0 || *value != '(')
		FAILED("%s: not a parenthesised list", what);
	items = scan_list(&s, 0);
	if (s.p != s.end)
		FAILED("%s: %zu bytes after the list", what, (size_t)(s.end - s.p));
	return items;
}

/* --- texts for PostgreSQL ---------------------------------------------- */

static void check_pg_text(const char *s, size_t len, const char *what)
{
	if (s == NULL)
		FAILED("%s: NULL", what);
	if (s[len] != '\0')
		FAILED("%s: not NUL-terminated at its length", what);
	if (memchr(s, '\0', len) != NULL)
		FAILED("%s: holds a NUL", what);
	if (!imap_utf8_valid(s, len))
		FAILED("%s: not valid UTF-8", what);
}

/* --- the part map, as FETCH reads it ------------------------------------ */

struct walk {
	const char *raw;
	size_t raw_len;
	const uint8_t *parts;
	size_t parts_len;
	size_t sections;
	size_t max_path;
	struct buf decoded;
};

static void check_range(const struct walk *w, struct mime_range r, const char *what)
{
	if (r.off > w->raw_len || r.len > w->raw_len - r.off)
		FAILED("section %s [%llu, +%llu) outside the message of %zu bytes", what,
		       (unsigned long long)r.off, (unsigned long long)r.len, w->raw_len);
}

static void walk_sections(struct walk *w, uint32_t *path, size_t depth)
{
	struct mime_section s;

	if (depth > w->max_path)
		FAILED("section path of depth %zu over the limit %zu", depth, w->max_path);
	for (uint32_t n = 1; depth < MAX_PATH && w->sections < MAX_SECTIONS; n++) {
		path[depth] = n;
		if (mime_section_find(w->parts, w->parts_len, path, depth + 1, &s) < 0)
			return;
		w->sections++;
		check_range(w, s.header, "header");
		check_range(w, s.body, "body");
		if (s.is_message) {
			check_range(w, s.msg_header, "message header");
			check_range(w, s.msg_text, "message text");
		}
		buf_clear(&w->decoded);
		if (mime_decode_content(w->raw + s.body.off, s.body.len, s.encoding,
					&w->decoded) < 0 && w->decoded.len != 0)
			FAILED("mime_decode_content failed but wrote %zu bytes", w->decoded.len);
		if (s.is_multipart || s.is_message)
			walk_sections(w, path, depth + 1);
	}
}

/* Looks up the whole message and every part reachable from it; returns
 * how many sections the map has (counting stops at MAX_SECTIONS). */
static size_t check_part_map(const char *raw, size_t raw_len, const char *parts, size_t parts_len,
			     size_t max_depth)
{
	struct walk w = { raw, raw_len, (const uint8_t *)parts, parts_len, 0, max_depth + 1, { 0 } };
	uint32_t path[MAX_PATH];
	struct mime_section s;

	if (parts == NULL)
		FAILED("no part map");
	if (mime_section_find(w.parts, parts_len, path, 0, &s) < 0)
		FAILED("the part map has no section for the whole message");
	check_range(&w, s.header, "whole header");
	check_range(&w, s.body, "whole text");
	buf_init(&w.decoded);
	walk_sections(&w, path, 0);
	buf_free(&w.decoded);
	return w.sections;
}

/* --- the two runs --------------------------------------------------------- */

static void check_bodystructure(const char *envelope, size_t envelope_len, const char *body,
				size_t body_len, const char *bs, size_t bs_len)
{
	size_t n = check_imap_list(envelope, envelope_len, "ENVELOPE");

	if (n != 10)
		FAILED("ENVELOPE has %zu fields, not 10", n);
	check_imap_list(body, body_len, "BODY");
	check_imap_list(bs, bs_len, "BODYSTRUCTURE");
}

/* What APPEND stores (imap_message_analyse, default limits). */
static void check_analyse(const char *raw, size_t len)
{
	struct db_append_msg m;
	struct mime_limits l;
	struct arena a;

	mime_limits_default(&l);
	memset(&m, 0, sizeof(m));
	m.raw = raw;
	m.raw_len = len;
	arena_init(&a);
	imap_message_analyse(&a, &m);
	check_bodystructure(m.envelope, m.envelope_len, m.body, m.body_len, m.bodystructure,
			    m.bodystructure_len);
	if (m.nheader_fields > l.max_fields)
		FAILED("%zu header fields over the limit", m.nheader_fields);
	for (size_t i = 0; i < m.nheader_fields; i++) {
		const char *f = m.header_fields[i];
		size_t flen = strlen(f);

		check_pg_text(f, flen, "header field");
		if (memchr(f, ':', flen) == NULL)
			FAILED("header field %zu without ':'", i);
	}
	check_pg_text(m.header_text, strlen(m.header_text), "header text");
	check_pg_text(m.body_text, m.body_text_len, "body text");
	if (m.body_text_len > l.max_text_bytes)
		FAILED("body text of %zu bytes over the limit", m.body_text_len);
	check_part_map(raw, len, m.parts, m.parts_len, l.max_depth);
	arena_free(&a);
}

/* The limits, crossed: the same contracts, and no more than they allow. */
static void check_tiny_limits(const char *raw, size_t len)
{
	const struct mime_limits *l = &tiny_limits;
	struct mime_message mm;
	size_t sections;

	mime_message_init(&mm);
	mime_parse(raw, len, l, &mm);
	check_bodystructure((const char *)mm.envelope.data, mm.envelope.len,
			    (const char *)mm.body.data, mm.body.len,
			    (const char *)mm.bodystructure.data, mm.bodystructure.len);
	if (mm.nfields > l->max_fields)
		FAILED("%zu header fields over the limit %zu", mm.nfields, l->max_fields);
	for (size_t i = 0; i < mm.nfields; i++) {
		const struct mime_field *f = &mm.fields[i];

		if (f->name < raw || f->name_len > len || f->name > raw + len - f->name_len)
			FAILED("field name %zu not inside the message", i);
		if (f->value == NULL || f->value[f->value_len] != '\0' ||
		    memchr(f->value, '\0', f->value_len) != NULL)
			FAILED("field value %zu holds a NUL or is not terminated", i);
	}
	if (mm.text.len > l->max_text_bytes)
		FAILED("text of %zu bytes over the limit %zu", mm.text.len, l->max_text_bytes);
	if (mm.text.len > 0 && memchr(mm.text.data, '\0', mm.text.len) != NULL)
		FAILED("text holds a NUL");
	if (mm.text.len > 0 && !imap_utf8_valid((const char *)mm.text.data, mm.text.len))
		FAILED("text is not valid UTF-8");
	if (mm.degraded & ~0x7fu)
		FAILED("unknown degraded bits 0x%x", mm.degraded);
	sections = check_part_map(raw, len, (const char *)mm.parts.data, mm.parts.len,
				  l->max_depth);
	/* A multipart left without parts gets one made-up part (tree.c). */
	if (sections > 2 * l->max_parts + 1)
		FAILED("%zu sections over the limit of %zu parts", sections, l->max_parts);
	mime_message_free(&mm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_analyse((const char *)data, size);
	check_tiny_limits((const char *)data, size);
	return 0;
}
