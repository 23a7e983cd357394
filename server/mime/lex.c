/* Lexical pieces of structured header fields, shared by the address
 * (RFC 5322 §3.2) and media type (RFC 2045 §5.1) parsers. They work on the
 * raw, still folded value: CR and LF count as white space, which is what
 * unfolding (RFC 5322 §2.2.3) would have made of them. */
#include "server/mime/mime_internal.h"

#include <string.h>

void mime_lex_init(struct mime_lex *lx, struct mime_str v, struct buf *comment)
{
	lx->p = v.p;
	lx->end = v.p + v.len;
	lx->comment = comment;
	lx->saw_comment = false;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A comment (RFC 5322 §3.2.2): nested parentheses, quoted pairs. Its text
 * is kept (without the outer parentheses) because an address without a
 * display name takes its name from a comment, as Dovecot and Cyrus do:
 * "user@domain (Real Name)". Unterminated comments run to the end. */
static void skip_comment(struct mime_lex *lx)
{
	int depth = 0;

	if (lx->comment != NULL)
		buf_clear(lx->comment);
	lx->saw_comment = true;
	while (lx->p < lx->end) {
		char c = *lx->p++;

		if (c == '\\' && lx->p < lx->end) {
			c = *lx->p++;
		} else if (c == '(') {
			if (depth++ == 0)
				continue;
		} else if (c == ')') {
			if (--depth == 0)
				return;
		} else if (c == '\r' || c == '\n') {
			continue;
		}
		if (lx->comment != NULL)
			buf_append(lx->comment, &c, 1);
	}
}

bool mime_lex_cfws(struct mime_lex *lx)
{
	const char *start = lx->p;

	while (lx->p < lx->end) {
		if (is_ws(*lx->p))
			lx->p++;
		else if (*lx->p == '(')
			skip_comment(lx);
		else
			break;
	}
	return lx->p != start;
}

/* RFC 2045 tspecials and RFC 5322 specials (minus '.', which atoms in
 * dot-atoms and obs-phrases need and the parsers handle themselves). */
static bool is_token_char(unsigned char c, bool mime)
{
	if (c >= 0x80)
		return true;
	if (c <= 0x20 || c == 0x7f)
		return false;
	if (mime)
		return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
	return strchr("()<>@,;:\\\".[]", c) == NULL;
}

struct mime_str mime_lex_token(struct mime_lex *lx, bool mime)
{
	struct mime_str s = { lx->p, 0 };

	while (lx->p < lx->end && is_token_char((unsigned char)*lx->p, mime))
		lx->p++;
	s.len = (size_t)(lx->p - s.p);
	return s;
}

void mime_lex_quoted(struct mime_lex *lx, struct buf *out)
{
	lx->p++;        /* the opening quote */
	while (lx->p < lx->end) {
		const char *run = lx->p;

		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\\' &&
				*lx->p != '\r' && *lx->p != '\n')
			lx->p++;
		buf_append(out, run, (size_t)(lx->p - run));
		if (lx->p == lx->end)
			return;
		char c = *lx->p++;
		if (c == '"')
			return;
		if (c == '\\' && lx->p < lx->end)
			buf_append(out, lx->p++, 1);
		/* CR and LF of a folded quoted string are dropped (unfolding). */
	}
}
