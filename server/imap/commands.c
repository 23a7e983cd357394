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
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (strcmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}
