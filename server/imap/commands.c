#include "server/imap/commands.h"

#include <string.h>

static const struct imap_command_def imap_commands[] = {
	{ "CAPABILITY", cmd_capability, IMAP_STATES_ANY, 0 },
	{ "NOOP", cmd_noop, IMAP_STATES_ANY, 0 },
	{ "LOGOUT", cmd_logout, IMAP_STATES_ANY, 0 },
	{ "STARTTLS", cmd_starttls, IMAP_STATE_NOT_AUTH, IMAP_CMD_IN_LOOP },
	{ "LOGIN", cmd_login, IMAP_STATE_NOT_AUTH, 0 },
	{ "AUTHENTICATE", cmd_authenticate, IMAP_STATE_NOT_AUTH, IMAP_CMD_SASL },
	{ "ID", cmd_id, IMAP_STATES_ANY, IMAP_CMD_IN_LOOP },
	{ "ENABLE", cmd_enable, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, IMAP_CMD_IN_LOOP },
	{ "NAMESPACE", cmd_namespace, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, IMAP_CMD_IN_LOOP },
	{ "SETACL", cmd_setacl, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "DELETEACL", cmd_deleteacl, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "GETACL", cmd_getacl, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "LISTRIGHTS", cmd_listrights, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "MYRIGHTS", cmd_myrights, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "SELECT", cmd_select, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "EXAMINE", cmd_examine, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "CREATE", cmd_create, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "DELETE", cmd_delete, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "RENAME", cmd_rename, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "SUBSCRIBE", cmd_subscribe, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "UNSUBSCRIBE", cmd_unsubscribe, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "LIST", cmd_list, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "LSUB", cmd_lsub, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "STATUS", cmd_status, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "APPEND", cmd_append, IMAP_STATE_AUTH | IMAP_STATE_SELECTED, 0 },
	{ "CHECK", cmd_check, IMAP_STATE_SELECTED, 0 },
	{ "CLOSE", cmd_close, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "UNSELECT", cmd_unselect, IMAP_STATE_SELECTED, 0 },
	{ "EXPUNGE", cmd_expunge, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "FETCH", cmd_fetch, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "STORE", cmd_store, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "SEARCH", cmd_search, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "UID SEARCH", cmd_uid_search, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "COPY", cmd_copy, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "MOVE", cmd_move, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "UID COPY", cmd_uid_copy, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "UID MOVE", cmd_uid_move, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "UID EXPUNGE", cmd_uid_expunge, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "UID FETCH", cmd_uid_fetch, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
	{ "UID STORE", cmd_uid_store, IMAP_STATE_SELECTED, IMAP_CMD_MESSAGES },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (strcmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}
