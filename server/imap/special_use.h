/* CREATE's parameters (RFC 4466 §2.2) and the one Kairan knows, USE
 * (RFC 6154 §3, CREATE-SPECIAL-USE):
 *
 *   CREATE name ("USE" SP "(" [use-attr *(SP use-attr)] ")")
 *
 * Pure: no I/O; results in the arena. */
#ifndef KAIRAN_IMAP_SPECIAL_USE_H
#define KAIRAN_IMAP_SPECIAL_USE_H

#include <stddef.h>

#include "server/core/arena.h"
#include "server/imap/parser.h"

/* At most this many attributes in one USE list. */
#define IMAP_SPECIAL_USE_MAX 8

enum imap_create_params_result {
	IMAP_CREATE_PARAMS_OK,
	IMAP_CREATE_PARAMS_BAD,       /* not the grammar, or an unknown parameter */
	IMAP_CREATE_PARAMS_USEATTR,   /* a special use Kairan cannot give: NO [USEATTR] */
};

/* Parses the create-params list arg. *uses_r gets the attributes, each
 * once, as the store keeps them ("\Sent", canonical case), *nuses_r their
 * number (0 without USE, or with an empty one). Kairan gives \Archive,
 * \Drafts, \Junk, \Sent and \Trash; \All and \Flagged name virtual
 * mailboxes it does not have, and any other flag is unknown: both are
 * USEATTR. *error_r says why when not OK. */
enum imap_create_params_result imap_create_params_parse(struct arena *a, const struct imap_arg *arg,
							const char ***uses_r, size_t *nuses_r,
							const char **error_r);

#endif
