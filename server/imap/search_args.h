/* The SEARCH program (RFC 3501 §6.4.4 and §9 search-key; RFC 4731 and RFC
 * 5182 RETURN options; RFC 5032 OLDER/YOUNGER; RFC 7162 §3.1.5 MODSEQ;
 * RFC 8474 §6 EMAILID/THREADID; RFC 8514 §4.3 SAVED*),
 * checked strictly and turned into a tree of keys. Pure: no I/O; results in
 * the command's arena; errors are a static reason for the tagged BAD. */
#ifndef KAIRAN_IMAP_SEARCH_ARGS_H
#define KAIRAN_IMAP_SEARCH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/arena.h"
#include "server/imap/datetime.h"
#include "server/imap/parser.h"
#include "server/imap/seqset.h"

/* Hostile-input bounds: NOT, OR and a parenthesised list each open one level
 * (the top-level AND is level 0); every node counts as one key. */
#define IMAP_SEARCH_MAX_DEPTH  64
#define IMAP_SEARCH_MAX_KEYS   10000
/* Elements of one sequence set in a search key. */
#define IMAP_SEARCH_MAX_RANGES 100000

enum imap_search_op {
	IMAP_SK_AND,        /* children[0..nchildren): all must match */
	IMAP_SK_OR,         /* exactly 2 children */
	IMAP_SK_NOT,        /* exactly 1 child */
	IMAP_SK_ALL,
	IMAP_SK_SEQSET,     /* u.set: message sequence numbers, unresolved */
	IMAP_SK_UIDSET,     /* u.set: UIDs, unresolved */
	IMAP_SK_FLAG,       /* flag (an IMAP_FLAG_* bit) set, or clear if negate */
	IMAP_SK_KEYWORD,    /* u.str.value: the keyword is set */
	IMAP_SK_UNKEYWORD,  /* u.str.value: the keyword is not set */
	IMAP_SK_NEW,        /* RECENT and UNSEEN */
	IMAP_SK_OLD,        /* not RECENT */
	IMAP_SK_RECENT,
	IMAP_SK_BEFORE, IMAP_SK_ON, IMAP_SK_SINCE,                /* u.date, internal date */
	IMAP_SK_SENTBEFORE, IMAP_SK_SENTON, IMAP_SK_SENTSINCE,    /* u.date, Date: field */
	IMAP_SK_LARGER, IMAP_SK_SMALLER,  /* u.number: RFC822.SIZE, 0 .. 2^63-1 */
	/* u.str: field and value. FROM, TO, CC and BCC set address (and the
	 * upper-case field name): they match the decoded addresses of that
	 * field. SUBJECT and HEADER match the field's decoded value; HEADER's
	 * field is the client's name and an empty value matches every message
	 * that has the field (RFC 3501 §6.4.4). */
	IMAP_SK_HEADER,
	IMAP_SK_BODY,       /* u.str.value */
	IMAP_SK_TEXT,       /* u.str.value: header and body */
	IMAP_SK_OLDER, IMAP_SK_YOUNGER,   /* u.number: seconds, 1 .. 2^32-1 (RFC 5032) */
	IMAP_SK_MODSEQ,     /* u.modseq (RFC 7162 §3.1.5) */
	/* u.str.value: a valid objectid (RFC 8474 §6), which may name no
	 * message of this server (objectid.h) */
	IMAP_SK_EMAILID, IMAP_SK_THREADID,
	/* RFC 8514 §4.3: u.date, the save date (or INTERNALDATE without one) */
	IMAP_SK_SAVEDBEFORE, IMAP_SK_SAVEDON, IMAP_SK_SAVEDSINCE,
	IMAP_SK_SAVEDATESUPPORTED,
};

enum imap_search_modseq_type {
	IMAP_SEARCH_MODSEQ_ANY,     /* the simple form: no entry given */
	IMAP_SEARCH_MODSEQ_PRIV, IMAP_SEARCH_MODSEQ_SHARED, IMAP_SEARCH_MODSEQ_ALL,
};

struct imap_search_key {
	enum imap_search_op op;
	unsigned flag;                   /* IMAP_SK_FLAG: one IMAP_FLAG_* bit */
	bool negate;                     /* IMAP_SK_FLAG: UNSEEN, UNANSWERED, ... */
	struct imap_search_key *children;  /* AND, OR, NOT */
	size_t nchildren;
	union {
		struct imap_seqset set;
		struct imap_date date;
		int64_t number;
		struct {
			const char *field;   /* HEADER only */
			size_t field_len;
			const char *value;   /* may hold NUL when it came as a literal */
			size_t value_len;
			bool address;
		} str;
		struct {
			uint64_t value;      /* 0 .. 2^63-1 */
			/* The full form's entry name, e.g. "/flags/\Seen", and
			 * its type; the simple form leaves entry NULL, type ANY. */
			const char *entry;
			size_t entry_len;
			enum imap_search_modseq_type type;
		} modseq;
	} u;
};

/* RETURN options (RFC 4731 §3.1, RFC 5182 §2). */
#define IMAP_SEARCH_RETURN_MIN   (1u << 0)
#define IMAP_SEARCH_RETURN_MAX   (1u << 1)
#define IMAP_SEARCH_RETURN_COUNT (1u << 2)
#define IMAP_SEARCH_RETURN_ALL   (1u << 3)
#define IMAP_SEARCH_RETURN_SAVE  (1u << 4)

struct imap_search_program {
	struct imap_search_key *root;   /* always an AND of the top-level keys */
	unsigned return_opts;           /* RETURN () reads as (ALL), RFC 4731 §3.1 */
	bool esearch;                   /* RETURN was given: answer with ESEARCH */
	bool modseq;                    /* some key is MODSEQ (RFC 7162 §3.1.5) */
};

/* Parses SEARCH's arguments (args up to the EOL):
 *   [RETURN (opts)] [CHARSET astring] search-key *(SP search-key)
 * RETURN is recognised only when allow_return (SEARCH and UID SEARCH).
 * CHARSET must be UTF-8 or US-ASCII (any case); the strings are taken as
 * UTF-8 either way. Returns 0; -1 with *error_r for the tagged BAD; or -2
 * (*error_r = "BADCHARSET") for an unsupported charset, which the command
 * answers NO [BADCHARSET (UTF-8 US-ASCII)]. Strings, field names and entry
 * names point into the parser's argument memory (the same command arena);
 * sequence sets are unresolved (imap_seqset_resolve) and may be "$". */
int imap_search_parse(struct arena *a, const struct imap_arg *args, bool allow_return,
		      struct imap_search_program *prog_r, const char **error_r);

#endif
