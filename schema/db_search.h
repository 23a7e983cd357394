/* SEARCH in the store: a search program becomes one SQL query whose
 * structure comes from the program's shape and whose values all travel as
 * parameters. The node type is the store's own, so that schema/ does not
 * depend on the protocol layer; server/imap/cmd_search.c converts. */
#ifndef KAIRAN_SCHEMA_DB_SEARCH_H
#define KAIRAN_SCHEMA_DB_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "schema/db_message.h"

enum db_search_op {
	DB_SEARCH_AND, DB_SEARCH_OR, DB_SEARCH_NOT,
	DB_SEARCH_TRUE, DB_SEARCH_FALSE,
	DB_SEARCH_UIDS,           /* ranges */
	DB_SEARCH_FLAGS_SET,      /* number: every bit set (\Seen: the reader's own) */
	DB_SEARCH_FLAGS_CLEAR,    /* number: every bit clear */
	DB_SEARCH_KEYWORD,        /* value */
	DB_SEARCH_PRIVATE_KEYWORD,/* value: the reader's own keyword (migrations/0013) */
	DB_SEARCH_BEFORE, DB_SEARCH_ON, DB_SEARCH_SINCE,              /* number: days since 1970-01-01 */
	DB_SEARCH_SENTBEFORE, DB_SEARCH_SENTON, DB_SEARCH_SENTSINCE,  /* number: days */
	DB_SEARCH_LARGER, DB_SEARCH_SMALLER,                          /* number: octets */
	DB_SEARCH_HEADER,         /* field (lower case) and value ("" = has the field) */
	DB_SEARCH_BODY, DB_SEARCH_TEXT,                               /* value */
	DB_SEARCH_OLDER, DB_SEARCH_YOUNGER,                           /* number: seconds */
	DB_SEARCH_MODSEQ,         /* number: modseq >= */
	DB_SEARCH_MESSAGE_ID,     /* number: messages.id (EMAILID, RFC 8474 §6) */
	/* number: days; the save date, INTERNALDATE for rows without one
	 * (migrations/0017, RFC 8514 §4.3) */
	DB_SEARCH_SAVEDBEFORE, DB_SEARCH_SAVEDON, DB_SEARCH_SAVEDSINCE,
	DB_SEARCH_SAVED_KNOWN,    /* the row has a save date (SAVEDATESUPPORTED) */
};

struct db_search_node {
	enum db_search_op op;
	int64_t number;
	const char *field, *value;
	size_t field_len, value_len;
	struct db_uid_ranges ranges;
	struct db_search_node *children;
	size_t nchildren;
};

/* Calls uid_cb for each matching message with uid <= max_uid, ascending.
 * String matches are case-insensitive substring matches in which %, _ and
 * \ are ordinary characters. \Seen (SEEN, UNSEEN, NEW, OLD ...) is the one
 * of reader_id, the logged-in account: in a mailbox with per-user \Seen its
 * seen row, elsewhere the common flag. The query may run timeout_ms at most:
 * DB_TIMEOUT after that. */
enum db_result db_search(db *d, int64_t reader_id, int64_t mailbox_id, uint32_t max_uid,
			 long timeout_ms, const struct db_search_node *root,
			 void (*uid_cb)(void *ctx, uint32_t uid, uint64_t modseq), void *ctx,
			 char *err, size_t errlen);

/* A match of db_search_multi: a message of one of the mailboxes. */
struct db_search_match {
	int64_t mailbox_id;
	uint32_t uidvalidity, uid;
	uint64_t modseq;          /* the shared one: MODSEQ is not asked of several mailboxes */
};

/* The same program over the n mailboxes mailbox_ids (RFC 7377 ESEARCH), in
 * one statement: row_cb gets every match, by mailbox id, then UID. The
 * caller has checked the reader's rights on each mailbox; \Seen is the
 * reader's in each (per user or common, as db_search). The program may not
 * name message numbers or the reader's \Recent: they belong to a view. */
enum db_result db_search_multi(db *d, int64_t reader_id, const int64_t *mailbox_ids, size_t n,
			       long timeout_ms, const struct db_search_node *root,
			       void (*row_cb)(void *ctx, const struct db_search_match *m), void *ctx,
			       char *err, size_t errlen);

#endif
