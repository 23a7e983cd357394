/* CATENATE (RFC 4469): an APPENDed message made of literal text and of
 * messages or parts the user may read, named by IMAP URLs (imap_url.h).
 *
 * Limits, each answered NO [TOOBIG]: at most IMAP_CATENATE_MAX_PARTS parts
 * per message; a message at most max_literal_size bytes (APPENDLIMIT);
 * the URL parts of one command (MULTIAPPEND included) fetch at most
 * max_literal_size bytes in all, so that a command holds no more than
 * twice what its literals may. A URL that cannot be used (bad syntax, no
 * such mailbox, no "r" right on it, another UIDVALIDITY, no such message
 * or section) is NO [BADURL url], the same answer for each, so that a URL
 * never tells whether a mailbox the user may not read exists. */
#ifndef KAIRAN_IMAP_CATENATE_H
#define KAIRAN_IMAP_CATENATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/imap/fetch_args.h"
#include "server/imap/imap_url.h"
#include "server/imap/parser.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

#define IMAP_CATENATE_MAX_PARTS 100

struct imap_cat_part {
	bool is_url;
	const char *data;           /* TEXT: the literal; URL: the URL as sent */
	size_t len;
	struct imap_url url;        /* URL: parsed */
	struct imap_fetch_item section;  /* URL: BODY[section] to cut */
};

struct imap_catenate {
	struct imap_cat_part *parts;
	size_t nparts;
};

/* Check step (no SQL): parses "(" cat-part *(SP cat-part) ")" (list) into
 * c, in the command arena. false with the answer in *res_r: BAD for the
 * grammar, NO [BADURL] for a URL that cannot name a message part, NO
 * [TOOBIG] for too many parts or text over the limit. */
bool imap_catenate_parse(struct imap_session *s, const struct imap_arg *list,
			 struct imap_catenate *c, struct imap_result *res_r);

/* Proceed step: the message bytes, in the command arena (*raw_r,
 * *len_r). *url_budget is what URL parts may still fetch in this command
 * and is decreased. false with NO [BADURL], NO [TOOBIG] or NO
 * [UNAVAILABLE] in *res_r. */
bool imap_catenate_build(struct imap_session *s, struct imap_backend *be,
			 const struct imap_catenate *c, uint64_t *url_budget,
			 const char **raw_r, size_t *len_r, struct imap_result *res_r);

#endif
