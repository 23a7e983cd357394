/* The client side of IMAP for kairanctl import: commands out, responses
 * in, with the server's literals read into the response, and a tokenizer
 * over a response. Blocking (server/net/client.h), bounded: a line longer
 * than IMAP_WIRE_LINE_MAX, a literal larger than the caller's limit, or a
 * response larger than twice it is an error that ends the import, never
 * an allocation the server chose. */
#ifndef KAIRAN_CTL_IMAP_WIRE_H
#define KAIRAN_CTL_IMAP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/buf.h"
#include "server/net/client.h"

#define IMAP_WIRE_LINE_MAX 65536

struct imap_wire {
	struct net_client *c;
	struct buf in;            /* read, not yet consumed (from in_pos) */
	size_t in_pos;
	struct buf resp;          /* the last response, literals inline */
	size_t literal_max;
	unsigned tag;
	const char *peer;         /* for messages: "HOST" */
};

/* Reads one response into w->resp (without its final CRLF). 0, or -1
 * with err. */
int imap_wire_response(struct imap_wire *w, char *err, size_t errlen);

/* Sends "TAG text\r\n" (text must not hold CR or LF) and reads responses
 * until the tagged one, calling untagged for each other (may be NULL).
 * 0 when the server answered OK; -1 with err otherwise ("HOST: TEXT
 * answered NO [...]"). */
int imap_wire_command(struct imap_wire *w, const char *text,
		      void (*untagged)(void *ctx, struct imap_wire *w), void *ctx,
		      char *err, size_t errlen);

/* A command with one string argument sent as a synchronising literal
 * after prefix (LOGIN's password): "TAG prefix {n}" + ... */
int imap_wire_command_literal(struct imap_wire *w, const char *prefix, const char *value,
			      const char *suffix, char *err, size_t errlen);

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
	const char *p, *end;
	struct buf scratch;       /* unescaped quoted strings; caller frees */
};

void imap_cursor_init(struct imap_cursor *cur, const struct imap_wire *w);
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

#endif
