/* Typed arguments of the flag-changing and STATUS commands: flag lists
 * (STORE, APPEND), STORE's data item and CONDSTORE modifier, STATUS's item
 * list. Pure: no I/O, results in the command's arena, errors as a static
 * reason for the tagged BAD. */
#ifndef KAIRAN_IMAP_STORE_ARGS_H
#define KAIRAN_IMAP_STORE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/arena.h"
#include "server/imap/parser.h"

/* System flags (RFC 3501 §2.3.2) as bits; the same values are stored in the
 * database, so they never change. */
#define IMAP_FLAG_SEEN     1u
#define IMAP_FLAG_ANSWERED 2u
#define IMAP_FLAG_FLAGGED  4u
#define IMAP_FLAG_DELETED  8u
#define IMAP_FLAG_DRAFT    16u

#define IMAP_FLAGS_MAX_KEYWORDS   1000

struct imap_flags {
	unsigned system;            /* IMAP_FLAG_* bits */
	const char **keywords;      /* NUL-terminated, as the client spelled them */
	size_t *keyword_lens;
	size_t nkeywords;           /* distinct (compared ignoring ASCII case) */
};

/* True when s is a valid flag-keyword (RFC 3501 §9: an atom, so no "\",
 * "]", "%", "*", quotes, parentheses, "{", SP or CTL). No length limit
 * but the command line's (max_line_length): the keyword registry and the
 * session's keyword set take any length (migrations/0009). SEARCH KEYWORD
 * uses it too. */
bool imap_keyword_valid(const char *s, size_t len);

/* Parses a flag-list "(\Seen $Forwarded)" (an empty list is valid), or a
 * single flag atom; with allow_list false only a single flag is accepted.
 * System flags become bits; keywords are kept once each, first spelling wins.
 * Rejected: \Recent ("\Recent cannot be stored"), \* and any other unknown
 * "\Word" (RFC 3501 §9 flag-extension: only a future standard may define
 * one, so a client cannot set it), quoted or literal flags, more than
 * IMAP_FLAGS_MAX_KEYWORDS keyword occurrences (duplicates counted, so a
 * hostile list costs no quadratic work). Keyword pointers refer to the parser's argument
 * memory (the same command arena). Returns 0, or -1 with *error_r. */
int imap_flags_parse(struct arena *a, const struct imap_arg *arg, bool allow_list,
		     struct imap_flags *flags_r, const char **error_r);

/* The keywords as a PostgreSQL text[] literal, {"a","b"} ("{}" for none),
 * in the arena: what the store takes for a message's keywords. Each was
 * validated as an atom (no quote or backslash), but is quoted anyway. */
const char *imap_keywords_array(struct arena *a, const struct imap_flags *f);

enum imap_store_mode { IMAP_STORE_REPLACE, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
	enum imap_store_mode mode;
	bool silent;
	struct imap_flags flags;
	bool unchangedsince_set;    /* RFC 7162 §3.1.3 */
	uint64_t unchangedsince;    /* 0 .. 2^63-1 */
};

/* STORE arguments after the sequence set (RFC 3501 §6.4.6, RFC 7162 §3.1.3):
 *   [ "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")" ]
 *   ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag *(SP flag))
 * Returns 0, or -1 with *error_r. */
int imap_store_parse(struct arena *a, const struct imap_arg *args, struct imap_store *store_r,
		     const char **error_r);

/* STATUS data items (RFC 3501 §6.3.10, RFC 9051 §6.3.11, RFC 7162 §3.1.6,
 * RFC 7889 §4, RFC 8474 §4.3). */
#define IMAP_STATUS_MESSAGES      (1u << 0)
#define IMAP_STATUS_RECENT        (1u << 1)
#define IMAP_STATUS_UIDNEXT       (1u << 2)
#define IMAP_STATUS_UIDVALIDITY   (1u << 3)
#define IMAP_STATUS_UNSEEN        (1u << 4)
#define IMAP_STATUS_DELETED       (1u << 5)
#define IMAP_STATUS_SIZE          (1u << 6)
#define IMAP_STATUS_HIGHESTMODSEQ (1u << 7)
#define IMAP_STATUS_APPENDLIMIT   (1u << 8)
#define IMAP_STATUS_MAILBOXID     (1u << 9)   /* RFC 8474 §4.3 */
#define IMAP_STATUS_DELETED_STORAGE (1u << 10) /* RFC 9208 §4.2 */

/* A parenthesised, non-empty list of the items above, in any case, repeats
 * allowed; anything else is -1 with *error_r. */
int imap_status_parse(const struct imap_arg *arg, unsigned *items_r, const char **error_r);

#endif
