/* FETCH's data items (RFC 3501 §6.4.5 and §9 fetch-att, RFC 3516 and RFC
 * 9051 §6.4.5 BINARY, RFC 7162 §3.1.4 MODSEQ, RFC 8474 EMAILID and
 * THREADID, RFC 8514 SAVEDATE), checked strictly and turned
 * into a list of typed items, each with the name its response must carry.
 * Pure: no I/O; results in the command's arena; errors are a static reason
 * for the tagged BAD. */
#ifndef KAIRAN_IMAP_FETCH_ARGS_H
#define KAIRAN_IMAP_FETCH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/arena.h"
#include "server/imap/parser.h"

#define IMAP_FETCH_MAX_ITEMS       1000
#define IMAP_FETCH_MAX_FIELDS      1000   /* HEADER.FIELDS names in one item */
#define IMAP_FETCH_MAX_PART_LEVELS 100

enum imap_fetch_kind {
	IMAP_FETCH_UID, IMAP_FETCH_FLAGS, IMAP_FETCH_INTERNALDATE, IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_ENVELOPE, IMAP_FETCH_BODY, IMAP_FETCH_BODYSTRUCTURE, IMAP_FETCH_RFC822,
	IMAP_FETCH_RFC822_HEADER, IMAP_FETCH_RFC822_TEXT, IMAP_FETCH_BODY_SECTION,
	IMAP_FETCH_BINARY, IMAP_FETCH_BINARY_SIZE, IMAP_FETCH_MODSEQ,
	IMAP_FETCH_PREVIEW,             /* RFC 8970 */
	IMAP_FETCH_EMAILID, IMAP_FETCH_THREADID,    /* RFC 8474 §5.3 */
	IMAP_FETCH_SAVEDATE,                        /* RFC 8514 §4.2 */
};

enum imap_section_text {
	IMAP_SECTION_ALL,               /* BODY[] or BODY[1.2]: the whole (part) */
	IMAP_SECTION_HEADER, IMAP_SECTION_HEADER_FIELDS, IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,              /* only with nparts > 0 */
};

struct imap_section {
	uint32_t *parts;                /* nparts part numbers, each >= 1 */
	size_t nparts;
	enum imap_section_text text;
	/* HEADER.FIELDS[.NOT] names, upper-cased and NUL-terminated (header
	 * field names compare case-insensitively, RFC 5322 §1.2.2). */
	const char **fields;
	size_t *field_lens;
	size_t nfields;
};

struct imap_fetch_item {
	enum imap_fetch_kind kind;
	bool peek;                      /* BODY.PEEK / BINARY.PEEK */
	bool lazy;                      /* PREVIEW (LAZY) */
	struct imap_section section;    /* BODY_SECTION, BINARY, BINARY_SIZE */
	bool partial;                   /* <offset.length> was given */
	uint32_t offset, length;        /* length >= 1; offset + length may exceed 2^32 */
	/* The item's name in the FETCH response (RFC 3501 §7.4.2, RFC 9051
	 * §7.5.2), NUL-terminated: keywords upper-case, ".PEEK" dropped, field
	 * names upper-cased (atoms, or quoted when they need it), and a partial
	 * reduced to its origin: BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>
	 * answers as BODY[HEADER.FIELDS (FROM TO)]<0>. */
	const char *name;
	size_t name_len;
};

struct imap_fetch_request {
	struct imap_fetch_item *items;  /* in request order, repeats merged */
	size_t count;
	/* A non-PEEK BODY[...], BINARY[...], RFC822 or RFC822.TEXT: the command
	 * sets \Seen (RFC 3501 §6.4.5) and must then report FLAGS. */
	bool sets_seen;
	/* Some item reads the message bytes (BODY[...], BINARY*, RFC822,
	 * RFC822.HEADER, RFC822.TEXT); ENVELOPE, BODY, BODYSTRUCTURE and
	 * RFC822.SIZE are precomputed. With a PREVIEW, needs_raw makes it
	 * computed now rather than NIL under LAZY. */
	bool needs_raw;
	/* ... and every such item reads the message's own header alone
	 * (BODY[HEADER], BODY[HEADER.FIELDS ...], RFC822.HEADER): a client
	 * listing new mail does not make kairand read its attachments. */
	bool header_only;
};

/* Parses FETCH's data item argument: ALL, FAST or FULL alone, one fetch-att,
 * or a non-empty parenthesised list of fetch-atts (the macros are not
 * allowed inside one). Items with the same response name are merged into
 * the first (peek only if all were PEEK), so a response never names a data
 * item twice. Keywords are case-insensitive. Returns 0, or -1 with *error_r.
 * UID FETCH's implicit UID item and the CHANGEDSINCE modifier are the
 * command's business, not this parser's. */
int imap_fetch_parse(struct arena *a, const struct imap_arg *arg,
		     struct imap_fetch_request *req_r, const char **error_r);

/* RFC 8970 §5: "(" preview-mod *(SP preview-mod) ")" after PREVIEW; the
 * only modifier is LAZY. Returns 0 with *lazy_r, or -1 with *error_r. */
int imap_fetch_preview_mods(const struct imap_arg *list, bool *lazy_r, const char **error_r);

#endif
