/* The arguments of LIST, basic (RFC 3501 §6.3.8) and extended (RFC 5258
 * §3, RFC 6154 §3, RFC 5819, RFC 8440):
 *
 *   LIST [SP "(" selection options ")"] SP reference SP
 *        (pattern / "(" pattern *(SP pattern) ")")
 *        [SP "RETURN" SP "(" return options ")"]
 *
 * Pure: no I/O; results point into the command's arguments or arena;
 * errors are a static reason for the tagged BAD. Every list is bounded,
 * and an option we do not know is BAD (RFC 5258 §3: a server MUST reject
 * what it does not recognise rather than ignore it). */
#ifndef KAIRAN_IMAP_LIST_ARGS_H
#define KAIRAN_IMAP_LIST_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/arena.h"
#include "server/imap/parser.h"

/* Selection options (RFC 5258 §3.1, RFC 6154 §3). */
#define IMAP_LIST_SEL_SUBSCRIBED     0x1u
#define IMAP_LIST_SEL_REMOTE         0x2u
#define IMAP_LIST_SEL_RECURSIVEMATCH 0x4u
#define IMAP_LIST_SEL_SPECIAL_USE    0x8u
/* The options that select by a property of the mailbox: RECURSIVEMATCH
 * needs one of them, and CHILDINFO names them. */
#define IMAP_LIST_SEL_CRITERIA (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE)

/* Return options (RFC 5258 §3.2, RFC 6154 §3, RFC 5819, RFC 8440). */
#define IMAP_LIST_RET_SUBSCRIBED  0x1u
#define IMAP_LIST_RET_CHILDREN    0x2u
#define IMAP_LIST_RET_SPECIAL_USE 0x4u
#define IMAP_LIST_RET_STATUS      0x8u
#define IMAP_LIST_RET_MYRIGHTS    0x10u

/* Limits on what one command may ask (each pattern is matched against
 * every name the caller can see): more is BAD. */
#define IMAP_LIST_MAX_PATTERNS 64
#define IMAP_LIST_MAX_OPTIONS  16

struct imap_list_pattern_arg {
	const char *s;              /* modified UTF-7, as sent */
	size_t len;
};

struct imap_list_args {
	/* The command used RFC 5258 syntax (options, a pattern list or
	 * RETURN): its responses may carry \NonExistent. */
	bool extended;
	unsigned select;            /* IMAP_LIST_SEL_* */
	unsigned ret;               /* IMAP_LIST_RET_*; SUBSCRIBED selection implies its return */
	unsigned status_items;      /* IMAP_STATUS_* of RETURN (STATUS (...)) */
	const char *ref;
	size_t ref_len;
	struct imap_list_pattern_arg *patterns;
	size_t npatterns;
};

/* Parses LIST's arguments (nargs of them); with lsub only the basic form
 * is allowed (RFC 5258 leaves LSUB unchanged). Returns 0, or -1 with a
 * reason in *error_r. */
int imap_list_args_parse(struct arena *a, const struct imap_arg *args, size_t nargs, bool lsub,
			 struct imap_list_args *r, const char **error_r);

#endif
