/* The command table: the index of the protocol. Each entry names the
 * handler, the states it is allowed in (RFC 3501 §6) and how it runs. */
#ifndef KAIRAN_IMAP_COMMANDS_H
#define KAIRAN_IMAP_COMMANDS_H

#include "server/imap/session.h"

typedef void imap_command_fn(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be);

/* Runs in the event loop's thread: it needs neither database nor directory
 * and must act on the connection itself (STARTTLS). */
#define IMAP_CMD_IN_LOOP 0x1
/* A SASL exchange: the session reads the client's response line before the
 * command runs when imap_sasl_wants_response says one is due. */
#define IMAP_CMD_SASL 0x2
/* Works on the selected mailbox's messages: the caller's rights on it are
 * read again first (a revoked right takes effect at the next command). */
#define IMAP_CMD_MESSAGES 0x4

struct imap_command_def {
	const char *name;
	imap_command_fn *fn;
	unsigned states;
	unsigned flags;
};

/* name is the upper-cased command name; NULL if unknown. */
const struct imap_command_def *imap_command_find(const char *name);

/* Whether AUTHENTICATE needs the client's response line first: a known
 * mechanism without an initial response, on a connection allowed to log in. */
bool imap_sasl_wants_response(const struct imap_session *s, const struct imap_command *cmd);

/* The login steps shared by LOGIN and AUTHENTICATE: checks the password
 * against the directory, the optional authorisation identity (authz, may be
 * NULL), provisions the account, and answers. */
void imap_auth_login(struct imap_session *s, struct imap_backend *be,
		     const char *authc, size_t alen, const char *pass, size_t plen,
		     const char *authz, size_t zlen);

/* Checks the worker's database connection; answers NO [UNAVAILABLE]
 * itself and returns false when it is not usable (cmd_select.c). */
bool imap_db_ready(struct imap_session *s, struct imap_backend *be);

struct imap_flags;
/* Keywords as a PostgreSQL text[] literal, in the arena (cmd_store.c). */
const char *imap_keywords_array(struct imap_session *s, const struct imap_flags *f);
/* APPEND, COPY, MOVE: the warning that messages were stored without the
 * keywords their mailbox had no room for (cmd_store.c). */
void imap_keywords_dropped(struct imap_session *s);

struct imap_search_program;
/* Empties the saved search result after a failed SEARCH ... RETURN (SAVE). */
void imap_search_forget(struct imap_session *s, const struct imap_search_program *p);

/* Handlers, one family per file. */
imap_command_fn cmd_capability, cmd_noop, cmd_logout;   /* cmd_any.c */
imap_command_fn cmd_id, cmd_enable;                     /* cmd_session.c */
imap_command_fn cmd_login, cmd_starttls;                /* cmd_auth.c */
imap_command_fn cmd_authenticate;                       /* cmd_authenticate.c */
imap_command_fn cmd_select, cmd_examine, cmd_check, cmd_close, cmd_unselect; /* cmd_select.c */
imap_command_fn cmd_create, cmd_delete, cmd_rename;     /* cmd_mailbox.c */
imap_command_fn cmd_subscribe, cmd_unsubscribe;         /* cmd_mailbox.c */
imap_command_fn cmd_list, cmd_lsub;                     /* cmd_list.c */
imap_command_fn cmd_status;                             /* cmd_status.c */
imap_command_fn cmd_fetch, cmd_uid_fetch;               /* cmd_fetch.c */
imap_command_fn cmd_store, cmd_uid_store;               /* cmd_store.c */
imap_command_fn cmd_expunge, cmd_uid_expunge;           /* cmd_expunge.c */
imap_command_fn cmd_append;                             /* cmd_append.c */
imap_command_fn cmd_copy, cmd_uid_copy, cmd_move, cmd_uid_move; /* cmd_copy.c */
imap_command_fn cmd_search, cmd_uid_search;             /* cmd_search.c */
imap_command_fn cmd_setacl, cmd_deleteacl, cmd_getacl, cmd_listrights, cmd_myrights,
	cmd_namespace;                                  /* cmd_acl.c */

#endif
