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

struct imap_command_def {
	const char *name;
	imap_command_fn *fn;
	unsigned states;
	unsigned flags;
};

/* name is the upper-cased command name; NULL if unknown. */
const struct imap_command_def *imap_command_find(const char *name);

/* Handlers, one family per file. */
imap_command_fn cmd_capability, cmd_noop, cmd_logout;   /* cmd_any.c */
imap_command_fn cmd_login, cmd_starttls;                /* cmd_auth.c */

#endif
