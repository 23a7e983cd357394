/* Tokens of an IMAP response, client side (kairanctl import from another
 * server): a cursor over a response whose literals are inline ("{n}\r\n"
 * and n bytes, as imap_wire_response reads them), and FETCH's items. Pure:
 * no I/O. Tokens point into the response, or into the cursor's scratch
 * for a quoted string with escapes; both stay valid until the scratch is
 * freed. */
#ifndef KAIRAN_CTL_IMAP_TOKENS_H
#define KAIRAN_CTL_IMAP_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/buf.h"

/* Tokens of a response. */
enum imap_tok_kind {
	IMAP_TOK_END,
	IMAP_TOK_ATOM,            /* also a number; "BODY[]" with its brackets */
	IMAP_TOK_STRING,          /* quoted (unescaped into the scratch) or a literal */
	IMAP_TOK_NIL,
	IMAP_TOK_OPEN,
	IMAP_TOK_CLOSE,
	IMAP_TOK_BAD,             /* malformed */
};

struct imap_tok {
	enum imap_tok_kind kind;
	const char *p;
	size_t len;
};

struct imap_cursor {
	const char *begin, *p, *end;
	struct buf scratch;       /* unescaped quoted strings; caller frees */
};

/* A cursor over len bytes of data (a response, literals inline as
 * imap_wire_response reads them). */
void imap_cursor_init(struct imap_cursor *cur, const char *data, size_t len);
struct imap_tok imap_next(struct imap_cursor *cur);
/* Skips one value (a whole list with what it holds). false if malformed. */
bool imap_skip_value(struct imap_cursor *cur, struct imap_tok first);
/* Whether t is the atom s (ignoring ASCII case). */
bool imap_tok_is(struct imap_tok t, const char *s);
/* t as a number (an atom of digits), or -1. */
int64_t imap_tok_number(struct imap_tok t);
/* A string value as an arena copy (an atom too: an astring); NULL for NIL. */
struct arena;
const char *imap_tok_text(struct arena *a, struct imap_tok t);

/* What "* n FETCH (...)" says of a message (-1: not said). Tokens point
 * into the response and the cursor's scratch. */
struct imap_fetch_item {
	int64_t uid, size, date;
	unsigned flags;               /* DB_FLAG_* */
	struct imap_tok body;         /* BODY[]; IMAP_TOK_END: none */
	struct imap_tok keywords[64]; /* valid flag-keywords, the first 64 */
	size_t nkeywords;
};
/* Parses a FETCH response from the cursor's start; false when it is not
 * one, or is malformed. */
bool imap_fetch_parse(struct imap_cursor *cur, struct imap_fetch_item *it);

#endif
