/* Tokens of an IMAP response as kairanctl import reads it (the client
 * side: server/ctl/imap_wire.h reads the responses). Pure: no I/O, so that
 * tests/fuzz/fuzz_import.c can feed it anything. */
#include "server/ctl/imap_tokens.h"
#include "server/core/arena.h"
#include "server/imap/datetime.h"
#include "server/imap/store_args.h"
#include "schema/db.h"

#include <string.h>
#include <strings.h>

void imap_cursor_init(struct imap_cursor *cur, const char *data, size_t len)
{
	cur->begin = cur->p = data;
	cur->end = data + len;
	buf_init(&cur->scratch);
}

static struct imap_tok tok(enum imap_tok_kind kind, const char *p, size_t len)
{
	struct imap_tok t = { kind, p, len };
	return t;
}

/* A malformed response: nothing after this can be read, so the cursor
 * goes to its end and every later token is IMAP_TOK_END. */
static struct imap_tok bad(struct imap_cursor *cur)
{
	const char *at = cur->p;

	cur->p = cur->end;
	return tok(IMAP_TOK_BAD, at, 0);
}

/* A quoted string without escapes is its bytes in the response; one with
 * escapes is unescaped into the scratch, which is given room for the whole
 * response the first time, so that it never moves and every token stays
 * valid until the cursor's end. */
static struct imap_tok quoted(struct imap_cursor *cur)
{
	const char *p = cur->p + 1, *start = p;
	size_t at;

	while (p < cur->end && *p != '"' && *p != '\\')
		p++;
	if (p < cur->end && *p == '"') {
		cur->p = p + 1;
		return tok(IMAP_TOK_STRING, start, (size_t)(p - start));
	}
	if (cur->scratch.cap == 0)
		buf_reserve(&cur->scratch, (size_t)(cur->end - cur->begin) + 1);
	at = cur->scratch.len;
	for (p = start; p < cur->end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < cur->end)
			p++;
		buf_append(&cur->scratch, p, 1);
	}
	if (p >= cur->end)
		return bad(cur);
	cur->p = p + 1;
	return tok(IMAP_TOK_STRING, (const char *)cur->scratch.data + at, cur->scratch.len - at);
}

static struct imap_tok literal(struct imap_cursor *cur)
{
	const char *p = cur->p + (*cur->p == '~' ? 2 : 1);
	uint64_t n = 0;
	const char *body;

	for (; p < cur->end && *p >= '0' && *p <= '9' && n < (1ull << 40); p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (p + 3 > cur->end || p[0] != '}' || p[1] != '\r' || p[2] != '\n')
		return bad(cur);
	body = p + 3;
	if ((uint64_t)(cur->end - body) < n)
		return bad(cur);
	cur->p = body + n;
	return tok(IMAP_TOK_STRING, body, (size_t)n);
}

struct imap_tok imap_next(struct imap_cursor *cur)
{
	const char *start;
	int depth = 0;

	while (cur->p < cur->end && *cur->p == ' ')
		cur->p++;
	if (cur->p >= cur->end)
		return tok(IMAP_TOK_END, cur->p, 0);
	switch (*cur->p) {
	case '(':
		return cur->p++, tok(IMAP_TOK_OPEN, cur->p - 1, 1);
	case ')':
		return cur->p++, tok(IMAP_TOK_CLOSE, cur->p - 1, 1);
	case '"':
		return quoted(cur);
	case '{':
		return literal(cur);
	case '~':
		if (cur->p + 1 < cur->end && cur->p[1] == '{')
			return literal(cur);
		break;
	default:
		break;
	}
	start = cur->p;
	/* An atom, with a section's brackets ("BODY[HEADER.FIELDS (A)]"). */
	for (; cur->p < cur->end; cur->p++) {
		char ch = *cur->p;
		if (ch == '[')
			depth++;
		else if (ch == ']' && depth > 0)
			depth--;
		else if (depth == 0 && (ch == ' ' || ch == '(' || ch == ')' || ch == '"' ||
					(unsigned char)ch < 0x20))
			break;
	}
	if (cur->p == start)
		return bad(cur);
	if (cur->p - start == 3 && strncasecmp(start, "NIL", 3) == 0)
		return tok(IMAP_TOK_NIL, start, 3);
	return tok(IMAP_TOK_ATOM, start, (size_t)(cur->p - start));
}

bool imap_skip_value(struct imap_cursor *cur, struct imap_tok first)
{
	int depth = first.kind == IMAP_TOK_OPEN ? 1 : 0;

	if (first.kind == IMAP_TOK_END || first.kind == IMAP_TOK_BAD ||
	    first.kind == IMAP_TOK_CLOSE)
		return false;
	while (depth > 0) {
		struct imap_tok t = imap_next(cur);
		if (t.kind == IMAP_TOK_END || t.kind == IMAP_TOK_BAD || depth > 64)
			return false;
		depth += t.kind == IMAP_TOK_OPEN ? 1 : t.kind == IMAP_TOK_CLOSE ? -1 : 0;
	}
	return true;
}

bool imap_tok_is(struct imap_tok t, const char *s)
{
	return t.kind == IMAP_TOK_ATOM && t.len == strlen(s) && strncasecmp(t.p, s, t.len) == 0;
}

int64_t imap_tok_number(struct imap_tok t)
{
	int64_t n = 0;

	if (t.kind != IMAP_TOK_ATOM || t.len == 0 || t.len > 12)
		return -1;
	for (size_t i = 0; i < t.len; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return -1;
		n = n * 10 + (t.p[i] - '0');
	}
	return n;
}

const char *imap_tok_text(struct arena *a, struct imap_tok t)
{
	if (t.kind != IMAP_TOK_STRING && t.kind != IMAP_TOK_ATOM)
		return NULL;
	return arena_strndup(a, t.p, t.len);
}

static unsigned system_flag(struct imap_tok t)
{
	static const struct { const char *name; unsigned flag; } flags[] = {
		{ "\\Seen", DB_FLAG_SEEN }, { "\\Answered", DB_FLAG_ANSWERED },
		{ "\\Flagged", DB_FLAG_FLAGGED }, { "\\Deleted", DB_FLAG_DELETED },
		{ "\\Draft", DB_FLAG_DRAFT },
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (imap_tok_is(t, flags[i].name))
			return flags[i].flag;
	return 0;
}

bool imap_fetch_parse(struct imap_cursor *cur, struct imap_fetch_item *it)
{
	struct imap_tok t;

	memset(it, 0, sizeof(*it));
	it->uid = it->size = it->date = -1;
	imap_next(cur);
	if (imap_tok_number(imap_next(cur)) < 0 || !imap_tok_is(imap_next(cur), "FETCH") ||
	    imap_next(cur).kind != IMAP_TOK_OPEN)
		return false;
	while ((t = imap_next(cur)).kind == IMAP_TOK_ATOM) {
		struct imap_tok v = imap_next(cur);

		if (imap_tok_is(t, "UID")) {
			it->uid = imap_tok_number(v);
		} else if (imap_tok_is(t, "RFC822.SIZE")) {
			it->size = imap_tok_number(v);
		} else if (imap_tok_is(t, "INTERNALDATE") && v.kind == IMAP_TOK_STRING) {
			int64_t utc;
			int zone;
			if (imap_datetime_parse(v.p, v.len, &utc, &zone) == 0)
				it->date = utc;
		} else if (imap_tok_is(t, "BODY[]") && v.kind == IMAP_TOK_STRING) {
			it->body = v;
		} else if (imap_tok_is(t, "FLAGS") && v.kind == IMAP_TOK_OPEN) {
			struct imap_tok f;
			while ((f = imap_next(cur)).kind == IMAP_TOK_ATOM) {
				it->flags |= system_flag(f);
				if (f.p[0] != '\\' && it->nkeywords < 64 && imap_keyword_valid(f.p, f.len))
					it->keywords[it->nkeywords++] = f;
			}
			if (f.kind != IMAP_TOK_CLOSE)
				return false;
		} else if (!imap_skip_value(cur, v)) {
			return false;
		}
	}
	return t.kind == IMAP_TOK_CLOSE;
}
