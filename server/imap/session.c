#include "server/imap/session.h"
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/literal_sink.h"
#include "server/imap/notify.h"
#include "server/imap/user_slots.h"
#include "server/imap/view.h"
#include "server/imap/result.h"
#include "server/imap/trace.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "directory/dir.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Before login nobody needs big literals or deep lists: a LOGIN with literal
 * user name and password is the most an unauthenticated client sends. */
#define PREAUTH_MAX_LITERAL (64 * 1024)

static void session_limits(const struct imap_session *s, struct imap_parser_limits *l)
{
	bool authed = s->state != IMAP_STATE_NOT_AUTH;

	l->max_line = (size_t)s->cfg->max_line_length;
	l->max_literal = (uint64_t)s->cfg->max_literal_size;
	if (!authed && l->max_literal > PREAUTH_MAX_LITERAL)
		l->max_literal = PREAUTH_MAX_LITERAL;
	/* RFC 7888: with LITERAL- advertised, a {n+} over 4096 bytes is BAD
	 * and its data skipped; with LITERAL+, any up to max_literal. */
	l->max_nonsync_literal = s->cfg->literal_plus ? 0 : IMAP_LITERAL_MINUS_MAX;
	l->max_literals = (size_t)s->cfg->max_literals;
	l->max_depth = (size_t)(authed ? s->cfg->max_nesting : s->cfg->max_nesting_unauth);
	l->max_args = (size_t)s->cfg->max_args;
	l->long_line_fatal = s->compress_active;
	l->max_command_literal_bytes = (uint64_t)s->cfg->max_command_literal_bytes;
	if (!authed && l->max_command_literal_bytes > PREAUTH_MAX_LITERAL)
		l->max_command_literal_bytes = PREAUTH_MAX_LITERAL;
	l->max_session_literal_bytes = (uint64_t)s->cfg->max_session_literal_bytes;
}

void imap_session_init(struct imap_session *s, const struct config *cfg)
{
	struct imap_parser_limits limits;

	memset(s, 0, sizeof(*s));
	s->state = IMAP_STATE_NOT_AUTH;
	s->cfg = cfg;
	arena_init(&s->arena);
	buf_init(&s->out);
	session_limits(s, &limits);
	s->parser = imap_parser_new(&limits);
	imap_literal_sink_init(s);
}

void imap_session_deinit(struct imap_session *s)
{
	if (s->holds_user_slot)
		imap_user_slot_release(s->user_slots, s->user);
	imap_session_unselect(s);
	imap_notify_free(&s->notify);
	imap_parser_free(&s->parser);
	imap_trace_close(&s->trace);
	imap_literal_sink_deinit(s);
	arena_free(&s->arena);
	buf_free(&s->out);
	buf_free(&s->raw_line);
	free(s->idle_tag);
	s->idle_tag = NULL;
	dir_groups_free(&s->groups);
	free(s->user);
	free(s->user_dn);
	s->user = s->user_dn = NULL;
}

/* Called when the state changes (login): the limits depend on it. */
void imap_session_set_state(struct imap_session *s, enum imap_state state)
{
	struct imap_parser_limits limits;
	bool was_authed = s->state != IMAP_STATE_NOT_AUTH;

	s->state = state;
	if (was_authed == (state != IMAP_STATE_NOT_AUTH))
		return; /* the limits depend only on being logged in */
	session_limits(s, &limits);
	imap_parser_set_limits(s->parser, &limits);
}

void imap_session_compression_started(struct imap_session *s)
{
	struct imap_parser_limits limits;

	s->compress_active = true;
	session_limits(s, &limits);
	imap_parser_set_limits(s->parser, &limits);
}

bool imap_session_login_allowed(const struct imap_session *s)
{
	return s->tls_active || (s->peer_loopback && s->cfg->trust_loopback) ||
	       s->cfg->allow_plaintext_auth;
}

/* Exact for the state and the connection (RFC 3501 §6.1.1): what is not
 * usable right now is not listed. */
void imap_capabilities(const struct imap_session *s, struct buf *out)
{
	/* RFC 7888: one of the two, and the parser holds to it
	 * (session_limits); LITERAL+ is a superset of what IMAP4rev2 needs.
	 * RFC 9051 beside RFC 3501: a client chooses with ENABLE IMAP4rev2
	 * (cmd_session.c). */
	buf_append_str(out, s->cfg->literal_plus ? "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE" :
			    "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL- ID ENABLE");
	/* LIST attributes (RFC 3348, RFC 6154) and STATUS SIZE (RFC 8438):
	 * cmd_list.c, cmd_status.c. */
	buf_append_str(out, " CHILDREN SPECIAL-USE STATUS=SIZE");
	/* Extended LIST (RFC 5258) and its STATUS (RFC 5819) and MYRIGHTS
	 * (RFC 8440) return options: cmd_list.c, list_return.c. */
	buf_append_str(out, " LIST-EXTENDED LIST-STATUS LIST-MYRIGHTS");
	/* CREATE ... (USE (\Sent)), RFC 6154 §3: cmd_mailbox.c. */
	buf_append_str(out, " CREATE-SPECIAL-USE");
	/* RFC 2177: cmd_idle.c, server/client_idle.c. */
	buf_append_str(out, " IDLE");
	/* RFC 5465: cmd_notify.c, notify_scan.c, server/client_notify.c. */
	if (s->state != IMAP_STATE_NOT_AUTH)
		buf_append_str(out, " NOTIFY");
	/* RFC 7162, per reader (migrations/0011): cmd_fetch.c, cmd_store.c,
	 * cmd_select.c, view_resync.c. */
	buf_append_str(out, " CONDSTORE QRESYNC");
	/* RFC 8970: cmd_fetch.c, server/mime/preview.c (migrations/0015). */
	buf_append_str(out, " PREVIEW");
	/* RFC 4469: cmd_append.c, catenate.c, imap_url.c. */
	buf_append_str(out, " CATENATE");
	/* The selected state: cmd_append.c, cmd_copy.c, cmd_expunge.c,
	 * cmd_select.c, cmd_search.c. */
	buf_appendf(out, " UIDPLUS MOVE UNSELECT MULTIAPPEND APPENDLIMIT=%ld ESEARCH SEARCHRES WITHIN"
		    " ACL RIGHTS=texk NAMESPACE BINARY",
		    s->cfg->max_literal_size);
	/* RFC 8474 (objectid.h) and RFC 8514 (migrations/0017): cmd_fetch.c,
	 * cmd_search.c, cmd_select.c, cmd_status.c, cmd_mailbox.c. */
	buf_append_str(out, " OBJECTID SAVEDATE");
	/* RFC 7377: cmd_esearch.c. */
	buf_append_str(out, " MULTISEARCH");
	/* RFC 9208: cmd_quota.c, quota.c (migrations/0018); SETQUOTA is for
	 * admins, others get NO [NOPERM]. */
	buf_append_str(out, " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE QUOTASET");
	/* RFC 4978: cmd_compress.c, server/net/compress.c. */
	if (s->state != IMAP_STATE_NOT_AUTH && !s->compress_active)
		buf_append_str(out, " COMPRESS=DEFLATE");
	/* RFC 8437 §3 lets it be shown after login only: cmd_unauthenticate.c. */
	if (s->state != IMAP_STATE_NOT_AUTH && imap_unauthenticate_offered(s))
		buf_append_str(out, " UNAUTHENTICATE");
	/* RFC 9755: mailbox_name.c, cmd_append.c, header_downgrade.c. */
	if (s->state != IMAP_STATE_NOT_AUTH)
		buf_append_str(out, " UTF8=ACCEPT");
	if (s->state == IMAP_STATE_NOT_AUTH) {
		if (!s->tls_active && s->tls_available)
			buf_append_str(out, " STARTTLS");
		if (imap_session_login_allowed(s))
			buf_append_str(out, " AUTH=PLAIN AUTH=LOGIN");
		else
			buf_append_str(out, " LOGINDISABLED");
	}
}

const char *imap_capability_code(struct imap_session *s)
{
	struct buf caps;
	const char *code;

	buf_init(&caps);
	buf_append_str(&caps, "CAPABILITY ");
	imap_capabilities(s, &caps);
	code = arena_strndup(&s->arena, caps.data, caps.len);
	buf_free(&caps);
	return code;
}

void imap_session_greeting(struct imap_session *s)
{
	buf_append_str(&s->out, "* OK [CAPABILITY ");
	imap_capabilities(s, &s->out);
	buf_append_str(&s->out, "] Kairan ready.\r\n");
}

void imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	buf_append(&s->out, "* ", 2);
	va_start(ap, fmt);
	buf_vappendf(&s->out, fmt, ap);
	va_end(ap);
	buf_append(&s->out, "\r\n", 2);
}

/* The one place a tagged response is written; it also keeps the count of
 * consecutive BADs that ends an abusive session. */
static void reply_tag(struct imap_session *s, const char *tag, const char *status,
		      const char *code, const char *fmt, va_list ap)
{
	buf_append_str(&s->out, tag != NULL ? tag : "*");
	buf_appendf(&s->out, " %s ", status);
	if (code != NULL)
		buf_appendf(&s->out, "[%s] ", code);
	buf_vappendf(&s->out, fmt, ap);
	buf_append(&s->out, "\r\n", 2);
	if (strcmp(status, "BAD") == 0)
		s->consecutive_bad++;
	else
		s->consecutive_bad = 0;
}

static void reply_error_tag(struct imap_session *s, const char *tag, const char *status,
			    const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_tag(s, tag, status, code, fmt, ap);
	va_end(ap);
}

/* A shared change of a mailbox covers a private one (every session of the
 * mailbox reads its changes, the reader's included). */
static void session_changed(struct imap_session *s, int64_t mailbox_id, bool private)
{
	for (size_t i = 0; i < s->nchanged; i++)
		if (s->changed[i] == mailbox_id) {
			s->changed_private[i] &= private;
			return;
		}
	if (s->nchanged < sizeof(s->changed) / sizeof(s->changed[0])) {
		s->changed_private[s->nchanged] = private;
		s->changed[s->nchanged++] = mailbox_id;
	}
}

void imap_session_changed(struct imap_session *s, int64_t mailbox_id)
{
	session_changed(s, mailbox_id, false);
}

void imap_session_changed_private(struct imap_session *s, int64_t mailbox_id)
{
	session_changed(s, mailbox_id, true);
}

void imap_session_reply(struct imap_session *s, const struct imap_result *r)
{
	static const char *const status[] = { "OK", "NO", "BAD" };

	if (r->status == IMAP_RESULT_CONTINUE)
		return;
	s->commands++;
	/* s->def is NULL only for a command refused before dispatch (unknown,
	 * or not allowed in this state): only then is the table searched. */
	metrics_command(imap_command_slot(s->def != NULL ? s->def : imap_command_find(s->cmd->name)),
			(enum metrics_result)r->status, metrics_now_us() - s->cmd_start_us);
	/* Any tagged response to an IDLE (DONE, or a sync that failed) ends it. */
	free(s->idle_tag);
	s->idle_tag = NULL;
	reply_error_tag(s, s->cmd->tag, status[r->status], r->code, "%s", r->text);
	if (r->detail != NULL)
		log_warning("%s: %s %s: %s", s->peer, s->cmd->name, status[r->status], r->detail);
	else if (r->status != IMAP_RESULT_OK)
		log_info("%s: %s %s%s%s%s %s", s->peer, s->cmd->name, status[r->status],
			 r->code != NULL ? " [" : "", r->code != NULL ? r->code : "",
			 r->code != NULL ? "]" : "", r->text);
	else if (log_enabled(LOG_LEVEL_DEBUG))
		/* The name only: arguments may hold a password (LOGIN). */
		log_debug("%s: %s OK in %llu us", s->peer, s->cmd->name,
			  (unsigned long long)(metrics_now_us() - s->cmd_start_us));
}

static bool session_too_many_bad(struct imap_session *s)
{
	if (s->consecutive_bad < (unsigned)s->cfg->max_bad_commands)
		return false;
	imap_untagged(s, "BYE Too many invalid commands");
	return true;
}

static enum imap_input_result session_parse_error(struct imap_session *s)
{
	enum imap_parse_error e = imap_parser_error(s->parser);
	const char *tag = imap_parser_error_tag(s->parser);
	const char *text = imap_parser_error_text(e);
	const char *status = "BAD", *code = NULL;

	if (imap_parser_error_is_fatal(e)) {
		imap_untagged(s, "BYE [TOOBIG] %s", text);
		return IMAP_INPUT_CLOSE;
	}
	s->commands++;
	if (s->trace != NULL)
		imap_trace_bad_input(s->trace, text);
	switch (e) {
	case IMAP_PERR_LITERAL_TOO_BIG:
		/* RFC 7889: refused before the continuation, so no data follows
		 * (or, after "{n+}", what follows is discarded). */
		status = "NO", code = "TOOBIG";
		break;
	case IMAP_PERR_COMMAND_LITERALS_TOO_BIG:
	case IMAP_PERR_SESSION_LITERALS_TOO_BIG:
		/* RFC 5530 §3: an implementation limit, not one message's size. */
		status = "NO", code = "LIMIT";
		break;
	case IMAP_PERR_SPOOL_UNAVAILABLE:
		status = "NO", code = "UNAVAILABLE";
		break;
	case IMAP_PERR_LINE_TOO_LONG:
	case IMAP_PERR_NONSYNC_TOO_BIG:  /* RFC 7888 §4 */
	case IMAP_PERR_TOO_MANY_ARGS:
	case IMAP_PERR_TOO_MANY_LITERALS:
	case IMAP_PERR_TOO_DEEP:
		code = "TOOBIG";
		break;
	default:
		break;
	}
	metrics_command(0, status[0] == 'N' ? METRICS_NO : METRICS_BAD, 0);
	imap_literal_sink_release(s);
	reply_error_tag(s, tag, status, code, "%s", text);
	arena_reset(&s->arena);
	return session_too_many_bad(s) ? IMAP_INPUT_CLOSE : IMAP_INPUT_NEED_MORE;
}

/* "UID FETCH ..." arrives as command UID with FETCH as its first argument;
 * the table knows it as one command "UID FETCH" with the rest as arguments. */
static const struct imap_command *session_uid_command(struct imap_session *s,
						      const struct imap_command *cmd)
{
	struct imap_command *c;
	const char *sub;
	size_t len;

	if (strcmp(cmd->name, "UID") != 0 || cmd->nargs == 0 || !imap_arg_atom(&cmd->args[0], &sub))
		return cmd;
	len = cmd->args[0].u.str.len;
	if (len > sizeof(c->name) - 5)
		return cmd;
	c = arena_alloc(&s->arena, sizeof(*c));
	*c = *cmd;
	memcpy(c->name, "UID ", 4);
	for (size_t i = 0; i < len; i++)
		c->name[4 + i] = (char)toupper((unsigned char)sub[i]);
	c->name[4 + len] = '\0';
	c->args = cmd->args + 1;
	c->nargs = cmd->nargs - 1;
	return c;
}

/* RFC 3501 §6.2.2: sends AUTHENTICATE's next challenge, if it needs one
 * more response line, and waits for that line; true when it did. */
static bool session_sasl_next(struct imap_session *s)
{
	const char *challenge;

	if (!(s->def->flags & IMAP_CMD_SASL) || s->nsasl >= IMAP_SASL_MAX_RESPONSES ||
	    (challenge = imap_sasl_challenge(s, s->cmd)) == NULL)
		return false;
	buf_appendf(&s->out, "+ %s\r\n", challenge);
	s->sasl_waiting = true;
	return true;
}

/* Finds the command and checks the state; answers BAD itself otherwise. */
static enum imap_input_result session_dispatch(struct imap_session *s)
{
	const struct imap_command *cmd = session_uid_command(s, imap_parser_command(s->parser));
	const struct imap_command_def *def = imap_command_find(cmd->name);
	struct imap_result r;

	s->cmd = cmd;
	s->cmd_start_us = metrics_now_us();
	if (def == NULL)
		r = imap_bad(s, NULL, "Unknown command");
	else if ((def->states & s->state) == 0)
		r = imap_bad(s, NULL, "%s not allowed %s", def->name,
			   s->state == IMAP_STATE_NOT_AUTH ? "before authentication" :
			   "after authentication");
	else if ((def->flags & IMAP_CMD_REV1_ONLY) && s->imap4rev2)
		r = imap_bad(s, NULL, "%s is not an IMAP4rev2 command", def->name);
	else {
		s->def = def;
		return session_sasl_next(s) ? IMAP_INPUT_NEED_MORE : IMAP_INPUT_COMMAND;
	}
	imap_session_reply(s, &r);
	imap_session_command_done(s);
	return session_too_many_bad(s) ? IMAP_INPUT_CLOSE : IMAP_INPUT_NEED_MORE;
}

/* Collects a raw line (a SASL response, IDLE's DONE) into s->raw_line,
 * without its CRLF; true once it is complete. Over-long lines are discarded
 * as they arrive (bounded memory) and flagged in s->raw_overflow, which the
 * caller answers BAD [TOOBIG] at their end. */
static bool session_raw_line(struct imap_session *s, const uint8_t *data, size_t len,
			     size_t *used_r)
{
	const uint8_t *lf = memchr(data, '\n', len);
	size_t take = lf != NULL ? (size_t)(lf - data) : len;

	*used_r = lf != NULL ? take + 1 : take;
	if (!s->raw_overflow) {
		if (s->raw_line.len + take > (size_t)s->cfg->max_line_length) {
			s->raw_overflow = true;
			buf_clear(&s->raw_line);
		} else
			buf_append(&s->raw_line, data, take);
	}
	if (lf == NULL)
		return false;
	if (s->raw_line.len > 0 && s->raw_line.data[s->raw_line.len - 1] == '\r')
		s->raw_line.len--;
	return true;
}

/* After a raw line was used: the next one starts empty. */
static void session_raw_line_done(struct imap_session *s)
{
	buf_clear(&s->raw_line);
	s->raw_overflow = false;
}

/* Answers a command that ends in the loop (a refused SASL response,
 * IDLE's DONE) and releases its memory. */
static enum imap_input_result session_end_command(struct imap_session *s,
						  const struct imap_result *r)
{
	session_raw_line_done(s);
	imap_session_reply(s, r);
	imap_session_command_done(s);
	return session_too_many_bad(s) ? IMAP_INPUT_CLOSE : IMAP_INPUT_NEED_MORE;
}

/* The client's SASL response lines, read before AUTHENTICATE runs, one
 * after each challenge; the handler sees the whole exchange at once. */
static enum imap_input_result session_sasl_line(struct imap_session *s, const uint8_t *data,
						size_t len, size_t *used_r)
{
	struct imap_result r;

	if (!session_raw_line(s, data, len, used_r))
		return IMAP_INPUT_NEED_MORE;
	s->sasl_waiting = false;
	if (s->trace != NULL)
		imap_trace_sasl_line(s->trace, s->raw_line.data, s->raw_line.len);
	if (s->raw_overflow) {
		r = imap_bad(s, "TOOBIG", "Authentication response too long");
	} else if (s->raw_line.len == 1 && s->raw_line.data[0] == '*') {
		r = imap_bad(s, NULL, "Authentication cancelled");
	} else {
		s->sasl_response[s->nsasl] = arena_strndup(&s->arena, s->raw_line.data,
							   s->raw_line.len);
		s->sasl_response_len[s->nsasl] = s->raw_line.len;
		s->nsasl++;
		session_raw_line_done(s);
		return session_sasl_next(s) ? IMAP_INPUT_NEED_MORE : IMAP_INPUT_COMMAND;
	}
	return session_end_command(s, &r);
}

/* An IDLE command built afresh in the arena: the tagged reply and the
 * pipeline need one, and the original went with the arena's last reset. */
static void session_idle_command(struct imap_session *s)
{
	struct imap_command *cmd = arena_alloc(&s->arena, sizeof(*cmd));
	struct imap_arg *eol = arena_alloc(&s->arena, sizeof(*eol));

	memset(cmd, 0, sizeof(*cmd));
	memset(eol, 0, sizeof(*eol));
	eol->type = IMAP_ARG_EOL;
	cmd->tag = arena_strndup(&s->arena, s->idle_tag, strlen(s->idle_tag));
	memcpy(cmd->name, "IDLE", 5);
	cmd->args = eol;
	s->cmd = cmd;
	s->def = imap_command_find("IDLE");
}

/* RFC 2177 §3: while IDLE runs, the only thing the client may send is
 * "DONE" (any case), which ends it with OK. Anything else is a protocol
 * error: the line is discarded, never run as a command, and the IDLE ends
 * with BAD, as Dovecot does ("BAD Expected DONE."); a line over the limit
 * is BAD [TOOBIG], read and dropped without being buffered. */
static enum imap_input_result session_idle_line(struct imap_session *s, const uint8_t *data,
						size_t len, size_t *used_r)
{
	struct imap_result r;

	if (!session_raw_line(s, data, len, used_r))
		return IMAP_INPUT_NEED_MORE;
	session_idle_command(s);
	if (s->trace != NULL && s->raw_overflow)
		imap_trace_bad_input(s->trace, "line too long");
	else if (s->trace != NULL)
		imap_trace_client_line(s->trace, s->raw_line.data, s->raw_line.len);
	if (s->raw_overflow)
		r = imap_bad(s, "TOOBIG", "Line too long; IDLE terminated, expected DONE");
	else if (s->raw_line.len == 4 && strncasecmp((const char *)s->raw_line.data, "DONE", 4) == 0)
		r = imap_ok(s, NULL, "IDLE terminated");
	else
		r = imap_bad(s, NULL, "Expected DONE; IDLE terminated");
	return session_end_command(s, &r);
}

/* The first message of an APPEND waits for its "+" until the mailbox and
 * the right to append to it have been checked, as Dovecot does: a refused
 * APPEND then costs the client no upload (RFC 3501 §7.5 lets the server
 * answer the command instead of sending "+"). s->cmd becomes the command
 * so far; a literal already among its arguments after the mailbox means
 * the check was done. Non-synchronising literals come without waiting:
 * theirs is the check of the whole command. */
static bool session_literal_needs_check(struct imap_session *s)
{
	const struct imap_command *cmd;

	if (s->state == IMAP_STATE_NOT_AUTH)
		return false;
	cmd = imap_parser_pending(s->parser, &s->arena);
	if (cmd == NULL || strcmp(cmd->name, "APPEND") != 0 || cmd->nargs == 0)
		return false;
	for (size_t i = 1; i < cmd->nargs; i++)
		if (cmd->args[i].type == IMAP_ARG_LITERAL)
			return false;
	s->cmd = cmd;
	s->def = imap_command_find(cmd->name);
	s->cmd_start_us = metrics_now_us();
	return s->def != NULL;
}

void imap_session_literal_checked(struct imap_session *s)
{
	if (s->literal_refused == NULL) {
		s->cmd = NULL;
		s->def = NULL;
		s->mailbox = NULL;
		buf_append_str(&s->out, "+ Ready for literal data\r\n");
		return;
	}
	imap_session_reply(s, s->literal_refused);
	imap_parser_abandon(s->parser);
	imap_session_command_done(s);
}

enum imap_input_result imap_session_input(struct imap_session *s, const uint8_t *data,
					  size_t len, size_t *consumed_r)
{
	size_t pos = 0;
	enum imap_input_result r = IMAP_INPUT_NEED_MORE;

	while (pos < len && r == IMAP_INPUT_NEED_MORE) {
		size_t used = 0;
		enum imap_parse_status st;

		if (s->sasl_waiting || s->idle_tag != NULL) {
			r = s->sasl_waiting ? session_sasl_line(s, data + pos, len - pos, &used) :
			    session_idle_line(s, data + pos, len - pos, &used);
			pos += used;
			continue;
		}
		st = imap_parser_run(s->parser, &s->arena, data + pos, len - pos, &used);
		pos += used;
		switch (st) {
		case IMAP_PARSE_NEED_MORE:
			break;
		case IMAP_PARSE_LITERAL_CONTINUE:
			if (session_literal_needs_check(s))
				r = IMAP_INPUT_LITERAL_CHECK;
			else
				buf_append_str(&s->out, "+ Ready for literal data\r\n");
			break;
		case IMAP_PARSE_ERROR:
			r = session_parse_error(s);
			break;
		case IMAP_PARSE_DONE:
			if (s->trace != NULL)
				imap_trace_command(s->trace, imap_parser_command(s->parser));
			r = session_dispatch(s);
			break;
		}
	}
	*consumed_r = pos;
	return r;
}

void imap_session_unselect(struct imap_session *s)
{
	if (s->view == NULL)
		return;
	imap_view_close(s->view);
	free(s->view);
	s->view = NULL;
	if (s->state == IMAP_STATE_SELECTED)
		imap_session_set_state(s, IMAP_STATE_AUTH);
}

bool imap_session_command_in_loop(const struct imap_session *s)
{
	return (s->def->flags & IMAP_CMD_IN_LOOP) != 0;
}

void imap_session_command_done(struct imap_session *s)
{
	s->cmd = NULL;
	s->def = NULL;
	s->mailbox = NULL;
	s->parsed = NULL;
	s->literal_refused = NULL;
	s->literal_quota_checked = 0;
	s->nchanged = 0;
	s->auth_failed = false;
	s->unauthenticated = false;
	memset(s->sasl_response, 0, sizeof(s->sasl_response));
	memset(s->sasl_response_len, 0, sizeof(s->sasl_response_len));
	s->nsasl = 0;
	imap_literal_sink_release(s);
	arena_reset(&s->arena);
}

void imap_session_release_memory(struct imap_session *s)
{
	if (s->cmd != NULL || s->sasl_waiting || s->nsasl > 0 || s->raw_line.len > 0 ||
	    imap_parser_in_command(s->parser))
		return;
	imap_parser_release_memory(s->parser);
	/* arena_reset keeps a first chunk for the next command; a quiet
	 * session gives it back (8 KiB, half of an idle session's memory). */
	arena_free(&s->arena);
	arena_init(&s->arena);
	if (s->out.len == 0)
		buf_free(&s->out);
	buf_free(&s->raw_line);
}

bool imap_session_idling(const struct imap_session *s)
{
	return s->idle_tag != NULL;
}

void imap_session_idle_resume(struct imap_session *s)
{
	session_idle_command(s);
	s->after = IMAP_AFTER_NOTHING;
}

int imap_session_flush(struct imap_session *s)
{
	if (s->out.len < IMAP_FLUSH_THRESHOLD || s->flush == NULL)
		return 0;
	return s->flush(s, s->flush_ctx);
}

void imap_session_shutdown(struct imap_session *s)
{
	imap_untagged(s, "BYE Server shutting down");
}

void imap_session_timeout(struct imap_session *s)
{
	imap_untagged(s, "BYE Autologout; idle for too long");
}
