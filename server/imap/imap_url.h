/* IMAP URLs (RFC 5092) naming a message or a part of one on this server,
 * as CATENATE takes them (RFC 4469 §3): the path form only, absolute
 *
 *   "/" enc-mailbox [";UIDVALIDITY=" nz-number] "/;UID=" nz-number
 *       ["/;SECTION=" enc-section] ["/;PARTIAL=" number ["." nz-number]]
 *
 * or relative to the selected mailbox (RFC 4469 §3, RFC 5092 §7.1), which
 * starts at ";UID=". The "imap://" form with a server is refused: the
 * server cannot know that the authority names itself, and it fetches from
 * no other. Keywords are case-insensitive; the mailbox name and the
 * section are percent-decoded (RFC 3986 §2.1) to UTF-8.
 * Pure: no I/O; results in the arena; errors are a static reason. */
#ifndef KAIRAN_IMAP_URL_H
#define KAIRAN_IMAP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/arena.h"

/* Longest URL taken, in bytes; RFC 5092 sets none, IMAP lines do. */
#define IMAP_URL_MAX 2048

struct imap_url {
	const char *mailbox;     /* UTF-8, NUL-terminated; NULL: the selected mailbox */
	uint32_t uidvalidity;    /* 0: not given */
	uint32_t uid;
	const char *section;     /* decoded, NUL-terminated; NULL: the whole message */
	bool partial;
	uint32_t offset;
	bool has_length;         /* ".length" was given; otherwise to the end */
	uint32_t length;         /* >= 1 */
};

/* 0, or -1 with *error_r. */
int imap_url_parse(struct arena *a, const char *s, size_t len, struct imap_url *u,
		   const char **error_r);

#endif
