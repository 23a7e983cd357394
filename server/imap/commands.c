#include "server/imap/commands.h"
#include "server/core/metrics.h"

#include <string.h>

#define AUTH_OR_SELECTED (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)

/* Grouped by the file that implements them. Each entry says, before its
 * handler runs: in which states, what the pipeline checks (dispatch.c) and
 * on which mailbox. */
static const struct imap_command_def imap_commands[] = {
	/* cmd_any.c */
	{ .name = "CAPABILITY", .fn = cmd_capability, .states = IMAP_STATES_ANY,
	  .flags = IMAP_CMD_NO_STORE },
	{ .name = "NOOP", .fn = cmd_noop, .states = IMAP_STATES_ANY,
	  .flags = IMAP_CMD_NO_STORE | IMAP_CMD_MESSAGES },
	{ .name = "LOGOUT", .fn = cmd_logout, .states = IMAP_STATES_ANY,
	  .flags = IMAP_CMD_NO_STORE },

	/* cmd_idle.c: RFC 2177. Like NOOP it reports what changed before it
	 * idles, and again each time the idling session is woken. */
	{ .name = "IDLE", .fn = cmd_idle, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_NO_STORE | IMAP_CMD_MESSAGES, .check = imap_check_no_args },
	/* cmd_notify.c: RFC 5465. Parsed whole before any SQL; the handler
	 * checks the store itself (notify_scan.c). */
	{ .name = "NOTIFY", .fn = cmd_notify, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_NO_STORE, .check = imap_check_notify },

	/* cmd_auth.c, cmd_authenticate.c */
	{ .name = "STARTTLS", .fn = cmd_starttls, .states = IMAP_STATE_NOT_AUTH,
	  .flags = IMAP_CMD_IN_LOOP, .check = imap_check_no_args },
	{ .name = "LOGIN", .fn = cmd_login, .states = IMAP_STATE_NOT_AUTH,
	  .check = imap_check_login },
	{ .name = "AUTHENTICATE", .fn = cmd_authenticate, .states = IMAP_STATE_NOT_AUTH,
	  .flags = IMAP_CMD_SASL, .check = imap_check_authenticate },

	/* cmd_unauthenticate.c: RFC 8437; no store needed */
	{ .name = "UNAUTHENTICATE", .fn = cmd_unauthenticate, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_NO_STORE, .check = imap_check_no_args },

	/* cmd_session.c */
	{ .name = "ID", .fn = cmd_id, .states = IMAP_STATES_ANY, .flags = IMAP_CMD_IN_LOOP,
	  .check = imap_check_id },
	{ .name = "ENABLE", .fn = cmd_enable, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_IN_LOOP, .check = imap_check_enable },

	/* cmd_compress.c: RFC 4978 (command-auth: authenticated and selected
	 * states); in the loop, which owns the connection it switches over. */
	{ .name = "COMPRESS", .fn = cmd_compress, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_IN_LOOP, .check = imap_check_compress },

	/* cmd_acl.c: "a" for all but MYRIGHTS, which needs any of "lrikxa"
	 * (RFC 4314 §4) */
	{ .name = "NAMESPACE", .fn = cmd_namespace, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_IN_LOOP, .check = imap_check_no_args },
	{ .name = "SETACL", .fn = cmd_setacl, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_CHANGES_MAILBOX | IMAP_CMD_CHANGES_NAMES, .check = imap_check_setacl, .mailbox_arg = 1, .op = ACL_OP_SETACL },
	{ .name = "DELETEACL", .fn = cmd_deleteacl, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_CHANGES_MAILBOX | IMAP_CMD_CHANGES_NAMES, .check = imap_check_deleteacl, .mailbox_arg = 1, .op = ACL_OP_DELETEACL },
	{ .name = "GETACL", .fn = cmd_getacl, .states = AUTH_OR_SELECTED,
	  .check = imap_check_acl_mailbox, .mailbox_arg = 1, .op = ACL_OP_GETACL },
	{ .name = "LISTRIGHTS", .fn = cmd_listrights, .states = AUTH_OR_SELECTED,
	  .check = imap_check_listrights, .mailbox_arg = 1, .op = ACL_OP_LISTRIGHTS },
	{ .name = "MYRIGHTS", .fn = cmd_myrights, .states = AUTH_OR_SELECTED,
	  .check = imap_check_acl_mailbox, .mailbox_arg = 1, .op = ACL_OP_MYRIGHTS },

	/* cmd_quota.c: RFC 9208. GETQUOTAROOT needs "r" on the mailbox, as
	 * STATUS; the roots are checked by the handlers. */
	{ .name = "GETQUOTA", .fn = cmd_getquota, .states = AUTH_OR_SELECTED,
	  .check = imap_check_getquota },
	{ .name = "GETQUOTAROOT", .fn = cmd_getquotaroot, .states = AUTH_OR_SELECTED,
	  .check = imap_check_acl_mailbox, .mailbox_arg = 1, .op = ACL_OP_STATUS },
	{ .name = "SETQUOTA", .fn = cmd_setquota, .states = AUTH_OR_SELECTED,
	  .check = imap_check_setquota },

	/* cmd_select.c */
	{ .name = "SELECT", .fn = cmd_select, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_DESELECT, .check = imap_check_select, .mailbox_arg = 1,
	  .op = ACL_OP_SELECT },
	{ .name = "EXAMINE", .fn = cmd_examine, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_DESELECT, .check = imap_check_select, .mailbox_arg = 1,
	  .op = ACL_OP_EXAMINE },
	{ .name = "CHECK", .fn = cmd_check, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_REV1_ONLY, .check = imap_check_no_args },
	/* CLOSE expunges only with "e" and never fails for its lack (RFC 4314 §4). */
	{ .name = "CLOSE", .fn = cmd_close, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_HOLD_EXPUNGE, .check = imap_check_no_args },
	{ .name = "UNSELECT", .fn = cmd_unselect, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_NO_STORE, .check = imap_check_no_args },

	/* cmd_mailbox.c. CREATE's "k" and RENAME's "k" on the new name's
	 * parent, which the client does not name, are checked by the handler
	 * (mailbox_place.c); SUBSCRIBE needs no right (acl/command_rights.h). */
	{ .name = "CREATE", .fn = cmd_create, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_CHANGES_NAMES, .check = imap_check_create },
	{ .name = "DELETE", .fn = cmd_delete, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_CHANGES_MAILBOX | IMAP_CMD_CHANGES_NAMES, .check = imap_check_delete, .mailbox_arg = 1, .op = ACL_OP_DELETE },
	{ .name = "RENAME", .fn = cmd_rename, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_CHANGES_NAMES, .check = imap_check_rename, .mailbox_arg = 1, .op = ACL_OP_RENAME_SOURCE },
	{ .name = "SUBSCRIBE", .fn = cmd_subscribe, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_CHANGES_NAMES, .check = imap_check_subscribe },
	{ .name = "UNSUBSCRIBE", .fn = cmd_unsubscribe, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_CHANGES_NAMES, .check = imap_check_subscribe },

	/* cmd_list.c: each mailbox is shown only with "l" (list_shared.c) */
	{ .name = "LIST", .fn = cmd_list, .states = AUTH_OR_SELECTED, .check = imap_check_list },
	{ .name = "LSUB", .fn = cmd_list, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_REV1_ONLY, .check = imap_check_list },

	/* cmd_status.c */
	{ .name = "STATUS", .fn = cmd_status, .states = AUTH_OR_SELECTED,
	  .check = imap_check_status, .mailbox_arg = 1, .op = ACL_OP_STATUS },

	/* cmd_append.c: "i" on the target; the flags by right (RFC 4314 §4) */
	{ .name = "APPEND", .fn = cmd_append, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_TARGET | IMAP_CMD_CHANGES_MAILBOX, .check = imap_check_append, .mailbox_arg = 1,
	  .op = ACL_OP_APPEND },

	/* cmd_expunge.c */
	{ .name = "EXPUNGE", .fn = cmd_expunge, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES, .check = imap_check_no_args,
	  .selected_op = ACL_OP_EXPUNGE },
	{ .name = "UID EXPUNGE", .fn = cmd_uid_expunge, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES, .check = imap_check_uid_expunge,
	  .selected_op = ACL_OP_EXPUNGE },

	/* cmd_fetch.c: "r"; BODY[] sets \Seen only with "s" (RFC 4314 §4) */
	{ .name = "FETCH", .fn = cmd_fetch, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_HOLD_EXPUNGE,
	  .check = imap_check_fetch },
	{ .name = "UID FETCH", .fn = cmd_fetch, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_HOLD_EXPUNGE,
	  .check = imap_check_fetch },

	/* cmd_store.c: "s", "t" or "w" by flag (RFC 4314 §4) */
	{ .name = "STORE", .fn = cmd_store, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_HOLD_EXPUNGE | IMAP_CMD_WRITES,
	  .check = imap_check_store,
	  .authorize = imap_authorize_store },
	{ .name = "UID STORE", .fn = cmd_store, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_HOLD_EXPUNGE | IMAP_CMD_WRITES,
	  .check = imap_check_store,
	  .authorize = imap_authorize_store },

	/* cmd_search.c */
	{ .name = "SEARCH", .fn = cmd_search, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_HOLD_EXPUNGE,
	  .check = imap_check_search },
	{ .name = "UID SEARCH", .fn = cmd_search, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_HOLD_EXPUNGE,
	  .check = imap_check_search },

	/* cmd_esearch.c: "l" and "r" on each mailbox searched, checked there
	 * (RFC 7377 §2.2); in the authenticated state too */
	{ .name = "ESEARCH", .fn = cmd_esearch, .states = AUTH_OR_SELECTED,
	  .check = imap_check_esearch },

	/* cmd_copy.c: "i" on the target; MOVE also "t" and "e" on the source,
	 * read-write (RFC 6851 §4.2) */
	{ .name = "COPY", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_TARGET | IMAP_CMD_CHANGES_MAILBOX,
	  .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_COPY },
	{ .name = "MOVE", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES | IMAP_CMD_TARGET |
		   IMAP_CMD_CHANGES_MAILBOX, .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_MOVE_TARGET, .selected_op = ACL_OP_MOVE_SOURCE },
	{ .name = "UID COPY", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_TARGET | IMAP_CMD_CHANGES_MAILBOX,
	  .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_COPY },
	{ .name = "UID MOVE", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES | IMAP_CMD_TARGET |
		   IMAP_CMD_CHANGES_MAILBOX, .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_MOVE_TARGET, .selected_op = ACL_OP_MOVE_SOURCE },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (strcmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}

/* Metrics slots (server/core/metrics.h): 0 for what is not in the table,
 * then the table in order. */
size_t imap_command_slot(const struct imap_command_def *def)
{
	return def == NULL ? 0 : (size_t)(def - imap_commands) + 1;
}

const char *imap_command_slot_name(size_t slot)
{
	if (slot == 0)
		return "unknown";
	if (slot > sizeof(imap_commands) / sizeof(imap_commands[0]) ||
	    slot >= METRICS_COMMAND_SLOTS)
		return NULL;
	return imap_commands[slot - 1].name;
}
