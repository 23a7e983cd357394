/* Slow clients: the deadlines that end a connection which sends too little,
 * too slowly (issue 14, item 9; docs/config.md, "Slow and greedy clients").
 *
 * An inactivity timeout alone (timeout_preauth, timeout_idle) is reset by
 * every byte, so a client that trickles one byte a second would hold its
 * connection, its buffers and its slot for ever. Three deadlines count
 * progress instead of activity:
 *
 * - timeout_login: from the connection (or UNAUTHENTICATE) to a login,
 *   whatever the client sends meanwhile;
 * - timeout_command: from a command's first byte to its last, not counting
 *   the time its literals' data take to arrive (a big APPEND over a slow
 *   line is not a slow command);
 * - timeout_literal: a literal's data must advance by CLIENT_LITERAL_CHUNK
 *   bytes (or to its end) within that many seconds of the previous chunk,
 *   a minimum rate as Apache's mod_reqtimeout has, since a plain gap
 *   timeout would be beaten by one byte a second too.
 *
 * Everything here runs on the loop's thread. The state is noted after each
 * turn of the client (client_pump) and checked in the once-a-second pass. */
#include "server/client_private.h"
#include "server/server.h"
#include "server/core/metrics.h"
#include "server/imap/parser.h"

/* 8 KiB a minute with the default timeout_literal: about 136 bytes a
 * second, below any real link. */
#define CLIENT_LITERAL_CHUNK (8 * 1024)

void client_slow_note(struct client *c, uint64_t now_ms)
{
	const struct imap_parser *p = c->session.parser;
	uint64_t left;

	if (c->busy || c->idle_listed || !imap_parser_in_command(p)) {
		c->cmd_since_ms = 0;
		c->cmd_literal_ms = 0;
		c->lit_since_ms = 0;
		return;
	}
	if (c->cmd_since_ms == 0)
		c->cmd_since_ms = now_ms;
	left = imap_parser_literal_left(p);
	if (left > 0) {
		if (c->lit_since_ms == 0) {
			c->lit_since_ms = c->chunk_since_ms = now_ms;
			c->chunk_left = left;
		} else if (left > c->chunk_left || c->chunk_left - left >= CLIENT_LITERAL_CHUNK) {
			/* A chunk arrived, or the next literal began. */
			c->chunk_since_ms = now_ms;
			c->chunk_left = left;
		}
	} else if (c->lit_since_ms != 0) {
		c->cmd_literal_ms += now_ms - c->lit_since_ms;
		c->lit_since_ms = 0;
	}
}

void client_slow_logged_out(struct client *c, uint64_t now_ms)
{
	c->login_since_ms = now_ms;
}

enum client_slow client_slow_check(const struct client *c, const struct config *cfg,
				   uint64_t now_ms)
{
	if (c->session.state == IMAP_STATE_NOT_AUTH &&
	    now_ms - c->login_since_ms > 1000 * (uint64_t)cfg->timeout_login)
		return CLIENT_SLOW_LOGIN;
	if (c->cmd_since_ms == 0 || c->busy || c->idle_listed)
		return CLIENT_SLOW_NONE;
	if (c->lit_since_ms != 0 && now_ms - c->chunk_since_ms > 1000 * (uint64_t)cfg->timeout_literal)
		return CLIENT_SLOW_LITERAL;
	{
		uint64_t in_literal = c->cmd_literal_ms +
				      (c->lit_since_ms != 0 ? now_ms - c->lit_since_ms : 0);
		uint64_t on_line = now_ms - c->cmd_since_ms - in_literal;
		if (on_line > 1000 * (uint64_t)cfg->timeout_command)
			return CLIENT_SLOW_COMMAND;
	}
	return CLIENT_SLOW_NONE;
}

const char *client_slow_bye(enum client_slow why)
{
	metrics_add(why == CLIENT_SLOW_LOGIN ? METRICS_SLOW_TIMEOUTS_LOGIN :
		    why == CLIENT_SLOW_COMMAND ? METRICS_SLOW_TIMEOUTS_COMMAND :
		    METRICS_SLOW_TIMEOUTS_LITERAL, 1);
	switch (why) {
	case CLIENT_SLOW_LOGIN:
		return "BYE Autologout; no login in time";
	case CLIENT_SLOW_COMMAND:
		return "BYE Autologout; the command took too long to arrive";
	default:
		return "BYE Autologout; the literal's data stalled";
	}
}
