/* The command table: the index of the protocol. Each entry names the
 * handler, the states it is allowed in (RFC 3501 §6) and how it runs. */
#ifndef KAIRAN_IMAP_COMMANDS_H
#define KAIRAN_IMAP_COMMANDS_H

#include "acl/command_rights.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

/* A handler: runs after dispatch checked the state, the arguments (the
 * check step) and the rights the table names; returns the result the
 * boundary writes as the tagged response. */
typedef struct imap_result imap_command_fn(struct imap_session *s, const struct imap_command *cmd,
					   struct imap_backend *be);
/* The check step: parses and validates every argument before any SQL runs,
 * keeping what the handler needs in s->parsed (arena). BAD on a syntax
 * error; a NO where the arguments alone decide (INBOX rules, an unknown
 * charset); anything else goes on (a non-OK result stops the command). */
typedef struct imap_result imap_check_fn(struct imap_session *s, const struct imap_command *cmd);
/* Rights that depend on the arguments (STORE: by flag): given the caller's
 * rights on the selected mailbox, refuses (false with *res_r) or allows,
 * narrowing s->parsed to what is permitted. */
typedef bool imap_authorize_fn(struct imap_session *s, acl_rights rights, struct imap_result *res_r);

/* Runs in the event loop's thread: it needs neither database nor directory
 * and must act on the connection itself (STARTTLS, COMPRESS). */
#define IMAP_CMD_IN_LOOP 0x1
/* A SASL exchange: the session reads the client's response lines before
 * the command runs, one per challenge imap_sasl_challenge asks for. */
#define IMAP_CMD_SASL 0x2
/* Works on the selected mailbox: before the handler runs, dispatch reads
 * and reports what changed and re-reads the caller's rights, in one round
 * trip (a revoked right takes effect at the next command). */
#define IMAP_CMD_MESSAGES 0x4
/* With IMAP_CMD_MESSAGES: the changes read before the command hold back
 * expunges (FETCH, STORE, SEARCH: RFC 3501 §7.4.1; CLOSE: §6.4.2). */
#define IMAP_CMD_HOLD_EXPUNGE 0x80
/* Changes the mailbox it names (APPEND, COPY, MOVE, DELETE, SETACL,
 * DELETEACL): announced on the change bus when it succeeds. */
#define IMAP_CMD_CHANGES_MAILBOX 0x100
/* Changes the selected mailbox: refused with NO [READ-ONLY] after EXAMINE. */
#define IMAP_CMD_WRITES 0x8
/* Needs no database connection (CAPABILITY, LOGOUT; NOOP checks its own). */
#define IMAP_CMD_NO_STORE 0x10
/* The named mailbox may be missing (APPEND, COPY, MOVE: the handler answers
 * TRYCREATE); otherwise dispatch answers NO [NONEXISTENT]. */
#define IMAP_CMD_TARGET 0x20
/* Deselects before anything is checked (SELECT, EXAMINE: RFC 3501 §6.3.1,
 * a failing SELECT leaves the session unselected). */
#define IMAP_CMD_DESELECT 0x40
/* Not part of IMAP4rev2 (RFC 9051 Appendix E: LSUB, CHECK): BAD once the
 * session enabled IMAP4rev2. */
#define IMAP_CMD_REV1_ONLY 0x200

struct imap_command_def {
	const char *name;
	imap_command_fn *fn;
	unsigned states;
	unsigned flags;
	imap_check_fn *check;         /* NULL: the handler checks its arguments */
	/* The argument that names the mailbox, counted from 1 (0: none), and
	 * the RFC 4314 operation checked on it before the handler runs; the
	 * handler finds the mailbox in s->mailbox. */
	unsigned mailbox_arg;
	enum acl_operation op;
	/* The operation checked on the selected mailbox (IMAP_CMD_MESSAGES):
	 * EXPUNGE's "e", MOVE's "t" and "e"; ACL_OP_NONE: "r" only, which
	 * every command on the messages needs. */
	enum acl_operation selected_op;
	imap_authorize_fn *authorize; /* STORE's rights by flag */
};

/* name is the upper-cased command name; NULL if unknown. */
const struct imap_command_def *imap_command_find(const char *name);
/* The command's slot in the metrics (0: NULL, not a command we know), and
 * the name of a slot: "unknown", a command's, or NULL past the table. */
size_t imap_command_slot(const struct imap_command_def *def);
const char *imap_command_slot_name(size_t slot);

/* The next challenge AUTHENTICATE sends before it runs (the text after
 * "+ ", base64), given the s->nsasl responses read so far; NULL when the
 * exchange has all it needs, or the handler answers at once (an unknown
 * mechanism, a connection not allowed to log in). */
const char *imap_sasl_challenge(const struct imap_session *s, const struct imap_command *cmd);

/* The login shared by LOGIN and AUTHENTICATE (cmd_auth.c), in four steps:
 * authentication (the password, against the directory), authorisation
 * (the optional identity to act as, authz, may be NULL; the admin flag),
 * the per-user connection slot, and provisioning of the account. Returns
 * the tagged OK with the new capabilities, or the first step's refusal;
 * a refused login changes nothing but s->auth_failed (set when the loop
 * should delay and count it). */
struct imap_result imap_auth_login(struct imap_session *s, struct imap_backend *be,
				   const char *authc, size_t alen, const char *pass, size_t plen,
				   const char *authz, size_t zlen);
/* Looks a login up in the directory without a password (cmd_auth.c): true
 * with *found_r, and when found the canonical login and the DN in the
 * caller's buffers (as dir_lookup_user); false with NO [UNAVAILABLE] in
 * *res_r when the directory cannot say. */
bool imap_user_lookup(struct imap_session *s, struct imap_backend *be, const char *name,
		      size_t len, char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		      bool *found_r, struct imap_result *res_r);

/* Checks the worker's database connection; false with NO [UNAVAILABLE]
 * in *res_r when it is not usable (dispatch.c). */
bool imap_store_ready(struct imap_session *s, struct imap_backend *be, struct imap_result *res_r);
/* Outside any command (NOTIFY's selected filter, cmd_notify.c): the
 * selected mailbox's changes read and reported as before a command, with
 * expunges or without, and the caller's rights on it evaluated afresh
 * (losing "r" closes it). false with *res_r. */
bool imap_sync_selected(struct imap_session *s, struct imap_backend *be, bool allow_expunge,
			struct imap_result *res_r);
/* Changes mailbox names or subscriptions (CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, SETACL, DELETEACL): announced on the change bus
 * when it succeeds, for NOTIFY's MailboxName and SubscriptionChange. */
#define IMAP_CMD_CHANGES_NAMES 0x400

/* Handlers, one family per file, with their check and authorize steps. */
imap_command_fn cmd_capability, cmd_noop, cmd_logout;   /* cmd_any.c */
imap_command_fn cmd_idle;                               /* cmd_idle.c */
imap_command_fn cmd_notify;                             /* cmd_notify.c */
imap_check_fn imap_check_notify;

/* cmd_session.c */
imap_command_fn cmd_id, cmd_enable;
imap_check_fn imap_check_id, imap_check_enable;

/* cmd_compress.c */
imap_command_fn cmd_compress;
imap_check_fn imap_check_compress;

/* cmd_auth.c, cmd_authenticate.c */
imap_command_fn cmd_login, cmd_starttls;
imap_command_fn cmd_authenticate;
imap_check_fn imap_check_login, imap_check_authenticate;

/* cmd_select.c */
imap_command_fn cmd_select, cmd_examine, cmd_check, cmd_close, cmd_unselect;
imap_check_fn imap_check_select, imap_check_no_args;

/* cmd_mailbox.c */
imap_command_fn cmd_create, cmd_delete, cmd_rename;
imap_command_fn cmd_subscribe, cmd_unsubscribe;
imap_check_fn imap_check_create, imap_check_delete, imap_check_rename, imap_check_subscribe;

/* cmd_list.c */
imap_command_fn cmd_list;   /* and LSUB */
imap_check_fn imap_check_list;
/* The LIST response SELECT sends an IMAP4rev2 session (RFC 9051 §6.3.2):
 * name in UTF-8; children 1, 0, or -1 to say nothing of inferiors. */
void imap_list_write_selected(struct imap_session *s, const char *name, size_t len,
			      int children, const char *special_use);

/* cmd_status.c */
imap_command_fn cmd_status;
imap_check_fn imap_check_status;
struct db_mailbox_status;
/* The items of a STATUS response, "MESSAGES 3 UNSEEN 1", in a fixed
 * order; also LIST-STATUS's (list_return.c). */
void imap_status_write_items(struct imap_session *s, unsigned items,
			     const struct db_mailbox_status *st);

/* cmd_fetch.c */
imap_command_fn cmd_fetch;
imap_check_fn imap_check_fetch;
/* SELECT (QRESYNC ...): the messages changed after modseq, as FETCH (UID
 * FLAGS MODSEQ) responses. */
struct imap_result imap_fetch_changed_since(struct imap_session *s, struct imap_backend *be,
					    uint64_t modseq);

/* cmd_store.c */
imap_command_fn cmd_store;
imap_check_fn imap_check_store;
imap_authorize_fn imap_authorize_store;

/* cmd_expunge.c */
imap_command_fn cmd_expunge, cmd_uid_expunge;
imap_check_fn imap_check_uid_expunge;

/* cmd_append.c */
imap_command_fn cmd_append;
imap_check_fn imap_check_append;

/* cmd_copy.c */
imap_command_fn cmd_copy;    /* COPY, MOVE and their UID forms */
imap_check_fn imap_check_copy;

/* cmd_search.c */
imap_command_fn cmd_search;
imap_check_fn imap_check_search;
struct imap_search_program;
struct db_search_node;
/* SEARCH's arguments from args (RETURN, CHARSET, the keys) as the store's
 * query in *root, in the arena; the refusal (BAD, NO [BADCHARSET]) when
 * they are not valid. multi: for mailboxes that need not be selected
 * (ESEARCH), where message numbers, "$", RECENT, NEW, OLD and MODSEQ are
 * BAD and a private keyword is private in the per-user mailboxes. */
struct imap_result imap_search_program(struct imap_session *s, const struct imap_arg *args,
				      bool multi, struct imap_search_program *prog,
				      struct db_search_node *root);
/* ESEARCH's result items (RFC 4731 §3.1) for the n ascending numbers:
 * " MIN a MAX b COUNT n ALL set", as opts asks (IMAP_SEARCH_RETURN_*). */
void imap_esearch_items(struct buf *out, unsigned opts, const uint32_t *items, size_t n);

/* cmd_esearch.c: RFC 7377 */
imap_command_fn cmd_esearch;
imap_check_fn imap_check_esearch;

/* cmd_unauthenticate.c: RFC 8437. Whether the command is offered
 * (allow_unauthenticate). */
imap_command_fn cmd_unauthenticate;
bool imap_unauthenticate_offered(const struct imap_session *s);

/* cmd_quota.c: RFC 9208 */
imap_command_fn cmd_getquota, cmd_getquotaroot, cmd_setquota;
imap_check_fn imap_check_getquota, imap_check_setquota;

/* cmd_acl.c */
imap_command_fn cmd_setacl, cmd_deleteacl, cmd_getacl, cmd_listrights, cmd_myrights,
	cmd_namespace;
imap_check_fn imap_check_setacl, imap_check_deleteacl, imap_check_listrights,
	imap_check_acl_mailbox;
/* "* MYRIGHTS <name> <rights>" (RFC 4314 §3.8), name UTF-8; also
 * LIST-MYRIGHTS's (list_return.c). */
void imap_myrights_write(struct imap_session *s, const char *name, size_t len, acl_rights rights);

#endif
