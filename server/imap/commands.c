#include "server/imap/commands.h"

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
	  .flags = IMAP_CMD_NO_STORE },
	{ .name = "LOGOUT", .fn = cmd_logout, .states = IMAP_STATES_ANY,
	  .flags = IMAP_CMD_NO_STORE },

	/* cmd_auth.c, cmd_authenticate.c */
	{ .name = "STARTTLS", .legacy = cmd_starttls, .states = IMAP_STATE_NOT_AUTH,
	  .flags = IMAP_CMD_IN_LOOP },
	{ .name = "LOGIN", .legacy = cmd_login, .states = IMAP_STATE_NOT_AUTH },
	{ .name = "AUTHENTICATE", .legacy = cmd_authenticate, .states = IMAP_STATE_NOT_AUTH,
	  .flags = IMAP_CMD_SASL },

	/* cmd_session.c */
	{ .name = "ID", .legacy = cmd_id, .states = IMAP_STATES_ANY, .flags = IMAP_CMD_IN_LOOP },
	{ .name = "ENABLE", .legacy = cmd_enable, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_IN_LOOP },

	/* cmd_acl.c */
	{ .name = "NAMESPACE", .legacy = cmd_namespace, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_IN_LOOP },
	{ .name = "SETACL", .legacy = cmd_setacl, .states = AUTH_OR_SELECTED },
	{ .name = "DELETEACL", .legacy = cmd_deleteacl, .states = AUTH_OR_SELECTED },
	{ .name = "GETACL", .legacy = cmd_getacl, .states = AUTH_OR_SELECTED },
	{ .name = "LISTRIGHTS", .legacy = cmd_listrights, .states = AUTH_OR_SELECTED },
	{ .name = "MYRIGHTS", .legacy = cmd_myrights, .states = AUTH_OR_SELECTED },

	/* cmd_select.c */
	{ .name = "SELECT", .fn = cmd_select, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_DESELECT, .check = imap_check_select, .mailbox_arg = 1,
	  .op = ACL_OP_SELECT },
	{ .name = "EXAMINE", .fn = cmd_examine, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_DESELECT, .check = imap_check_select, .mailbox_arg = 1,
	  .op = ACL_OP_EXAMINE },
	{ .name = "CHECK", .fn = cmd_check, .states = IMAP_STATE_SELECTED,
	  .check = imap_check_no_args },
	/* CLOSE expunges only with "e" and never fails for its lack (RFC 4314 §4). */
	{ .name = "CLOSE", .fn = cmd_close, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES, .check = imap_check_no_args },
	{ .name = "UNSELECT", .fn = cmd_unselect, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_NO_STORE, .check = imap_check_no_args },

	/* cmd_mailbox.c */
	{ .name = "CREATE", .legacy = cmd_create, .states = AUTH_OR_SELECTED },
	{ .name = "DELETE", .legacy = cmd_delete, .states = AUTH_OR_SELECTED },
	{ .name = "RENAME", .legacy = cmd_rename, .states = AUTH_OR_SELECTED },
	{ .name = "SUBSCRIBE", .legacy = cmd_subscribe, .states = AUTH_OR_SELECTED },
	{ .name = "UNSUBSCRIBE", .legacy = cmd_unsubscribe, .states = AUTH_OR_SELECTED },

	/* cmd_list.c */
	{ .name = "LIST", .legacy = cmd_list, .states = AUTH_OR_SELECTED },
	{ .name = "LSUB", .legacy = cmd_lsub, .states = AUTH_OR_SELECTED },

	/* cmd_status.c */
	{ .name = "STATUS", .legacy = cmd_status, .states = AUTH_OR_SELECTED },

	/* cmd_append.c: "i" on the target; the flags by right (RFC 4314 §4) */
	{ .name = "APPEND", .fn = cmd_append, .states = AUTH_OR_SELECTED,
	  .flags = IMAP_CMD_TARGET, .check = imap_check_append, .mailbox_arg = 1,
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
	  .flags = IMAP_CMD_MESSAGES, .check = imap_check_fetch },
	{ .name = "UID FETCH", .fn = cmd_fetch, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES, .check = imap_check_fetch },

	/* cmd_store.c: "s", "t" or "w" by flag (RFC 4314 §4) */
	{ .name = "STORE", .fn = cmd_store, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES, .check = imap_check_store,
	  .authorize = imap_authorize_store },
	{ .name = "UID STORE", .fn = cmd_store, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES, .check = imap_check_store,
	  .authorize = imap_authorize_store },

	/* cmd_search.c */
	{ .name = "SEARCH", .fn = cmd_search, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES, .check = imap_check_search },
	{ .name = "UID SEARCH", .fn = cmd_search, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES, .check = imap_check_search },

	/* cmd_copy.c: "i" on the target; MOVE also "t" and "e" on the source,
	 * read-write (RFC 6851 §4.2) */
	{ .name = "COPY", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_TARGET, .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_COPY },
	{ .name = "MOVE", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES | IMAP_CMD_TARGET, .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_MOVE_TARGET, .selected_op = ACL_OP_MOVE_SOURCE },
	{ .name = "UID COPY", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_TARGET, .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_COPY },
	{ .name = "UID MOVE", .fn = cmd_copy, .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_MESSAGES | IMAP_CMD_WRITES | IMAP_CMD_TARGET, .check = imap_check_copy,
	  .mailbox_arg = 2, .op = ACL_OP_MOVE_TARGET, .selected_op = ACL_OP_MOVE_SOURCE },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (strcmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}
