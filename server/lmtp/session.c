/* The LMTP commands (RFC 2033 §4, RFC 5321 §4.1 grammar), in the loop's
 * thread. Replies carry enhanced status codes (RFC 2034, RFC 3463), except
 * the greeting and the LHLO reply, which RFC 2034 §3 exempts. Commands that
 * need the directory or the database (RCPT, the end of DATA) run on a
 * worker (deliver.c); everything else is answered here. */
#include "server/lmtp/lmtp_private.h"
#include "server/core/config.h"
#include "server/core/log.h"
#include "server/teams.h"
#include "server/core/spool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *host_name(void)
{
	static char name[256];

	if (name[0] == '\0' && (gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0'))
		snprintf(name, sizeof(name), "localhost");
	return name;
}

void lmtp_reply(struct lmtp_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->out_pos == c->out.len) {
		buf_clear(&c->out);
		c->out_pos = 0;
	}
	va_start(ap, fmt);
	buf_vappendf(&c->out, fmt, ap);
	va_end(ap);
	buf_append(&c->out, "\r\n", 2);
}

void lmtp_greeting(struct lmtp_conn *c)
{
	lmtp_reply(c, "220 %s Kairan LMTP ready", host_name());
}

void lmtp_reset(struct lmtp_conn *c)
{
	for (size_t i = 0; i < c->nrcpts; i++) {
		free(c->rcpts[i].address);
		free(c->rcpts[i].folder);
		free(c->rcpts[i].team);
	}
	c->nrcpts = 0;
	free(c->sender);
	c->sender = NULL;
	c->have_mail = false;
	c->in_data = false;
	/* The buffer of a big message is not kept for the connection's life. */
	buf_free(&c->message);
	buf_init(&c->message);
	spool_free(&c->spool);
	c->spool_failed = false;
}

/* A client fault: the reply, and the end of the session after too many. */
static void bad(struct lmtp_conn *c, const char *reply)
{
	lmtp_reply(c, "%s", reply);
	if (++c->bad_commands >= (unsigned)c->srv->cfg->max_bad_commands) {
		lmtp_reply(c, "421 4.7.0 Too many errors, closing the connection");
		c->close_after_flush = true;
	}
}

/* "KEYWORD:" at the start of args, case-insensitively, then optional
 * spaces (RFC 5321 has none; many clients send one). */
static const char *after_keyword(const char *args, const char *keyword)
{
	size_t n = strlen(keyword);

	if (strncasecmp(args, keyword, n) != 0)
		return NULL;
	args += n;
	while (*args == ' ')
		args++;
	return args;
}

/* "<path>" at *p: the path (without <>) into a new string, *p after '>'.
 * Only printable ASCII without spaces (no SMTPUTF8), at most
 * LMTP_PATH_MAX bytes. NULL if malformed. */
static char *parse_path(const char **p)
{
	const char *s = *p, *end;

	if (*s != '<')
		return NULL;
	end = strchr(s, '>');
	if (end == NULL || (size_t)(end - s - 1) > LMTP_PATH_MAX)
		return NULL;
	for (const char *q = s + 1; q < end; q++)
		if (*q <= ' ' || *q > '~' || *q == '<')
			return NULL;
	*p = end + 1;
	return strndup(s + 1, (size_t)(end - s - 1));
}

/* local@domain, each side non-empty, one '@' outside quoted strings is not
 * checked further: the directory decides whether the address exists. */
static bool address_ok(const char *a)
{
	const char *at = strrchr(a, '@');

	return at != NULL && at != a && at[1] != '\0' && a[0] != '@';
}

/* MAIL parameters (RFC 5321 §4.1.1.2): SIZE (RFC 1870) and BODY (RFC
 * 6152); anything else is 555 5.5.4. 0 or -1 after a reply. */
static int mail_params(struct lmtp_conn *c, const char *p)
{
	const unsigned long long max = (unsigned long long)c->srv->cfg->max_literal_size;

	while (*p != '\0') {
		const char *end;
		size_t n;

		if (*p != ' ') {
			bad(c, "501 5.5.4 Syntax error in parameters");
			return -1;
		}
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ' ');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n > 5 && strncasecmp(p, "SIZE=", 5) == 0) {
			unsigned long long size = 0;
			for (size_t i = 5; i < n; i++) {
				if (p[i] < '0' || p[i] > '9' || i - 5 >= 20) {
					bad(c, "501 5.5.4 Malformed SIZE parameter");
					return -1;
				}
				if (size > max)
					continue;  /* already too big: no overflow */
				size = size * 10 + (unsigned)(p[i] - '0');
			}
			if (size > max) {
				lmtp_reply(c, "552 5.3.4 Message size exceeds fixed maximum message size");
				return -1;
			}
		} else if ((n == 9 && strncasecmp(p, "BODY=7BIT", 9) == 0) ||
			   (n == 13 && strncasecmp(p, "BODY=8BITMIME", 13) == 0)) {
			/* both stored as they come */
		} else {
			bad(c, "555 5.5.4 Unsupported parameter");
			return -1;
		}
		p += n;
	}
	return 0;
}

static void cmd_lhlo(struct lmtp_conn *c, const char *args)
{
	if (args[0] == '\0') {
		bad(c, "501 5.5.4 LHLO needs a domain or address literal");
		return;
	}
	lmtp_reset(c);
	c->greeted = true;
	lmtp_reply(c, "250-%s", host_name());
	lmtp_reply(c, "250-PIPELINING");
	lmtp_reply(c, "250-ENHANCEDSTATUSCODES");
	lmtp_reply(c, "250-8BITMIME");
	lmtp_reply(c, "250 SIZE %ld", c->srv->cfg->max_literal_size);
}

static void cmd_mail(struct lmtp_conn *c, const char *args)
{
	const char *p = after_keyword(args, "FROM:");
	char *sender;

	if (!c->greeted) {
		bad(c, "503 5.5.1 Send LHLO first");
		return;
	}
	if (c->have_mail) {
		bad(c, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (p == NULL || (sender = parse_path(&p)) == NULL) {
		bad(c, "501 5.1.7 Bad sender address syntax");
		return;
	}
	if (sender[0] != '\0' && !address_ok(sender)) {
		free(sender);
		bad(c, "501 5.1.7 Bad sender address syntax");
		return;
	}
	if (mail_params(c, p) < 0) {
		free(sender);
		return;
	}
	c->sender = sender;
	c->have_mail = true;
	lmtp_reply(c, "250 2.1.0 Sender OK");
}

static void cmd_rcpt(struct lmtp_conn *c, const char *args)
{
	const char *p = after_keyword(args, "TO:");
	char *rcpt = NULL;

	if (!c->have_mail) {
		bad(c, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (p == NULL || (rcpt = parse_path(&p)) == NULL || !address_ok(rcpt)) {
		free(rcpt);
		bad(c, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (*p != '\0') {
		free(rcpt);
		bad(c, "555 5.5.4 Unsupported parameter");
		return;
	}
	if (c->nrcpts >= (size_t)c->srv->cfg->lmtp_max_recipients) {
		free(rcpt);
		/* RFC 5321 §4.5.3.1.10: 452, the client sends the rest later. */
		lmtp_reply(c, "452 4.5.3 Too many recipients");
		return;
	}
	c->pending = (struct lmtp_rcpt){ .address = rcpt };
	lmtp_submit(c, LMTP_JOB_RCPT);
}

static void cmd_data(struct lmtp_conn *c, const char *args)
{
	const struct config *cfg = c->srv->cfg;

	if (args[0] != '\0') {
		bad(c, "501 5.5.4 DATA takes no arguments");
		return;
	}
	if (!c->have_mail) {
		bad(c, "503 5.5.1 Need MAIL before DATA");
		return;
	}
	if (c->nrcpts == 0) {
		/* RFC 2033 §4.2: no recipient was accepted. */
		bad(c, "503 5.5.1 No valid recipients");
		return;
	}
	/* The same Return-Path for every recipient (RFC 5321 §4.4), so the
	 * stored bytes are one and the same: single instance. */
	buf_clear(&c->message);
	buf_appendf(&c->message, "Return-Path: <%s>\r\n", c->sender);
	lmtp_data_init(&c->data, &c->message, (size_t)cfg->max_literal_size, LMTP_TEXT_LINE_MAX);
	c->in_data = true;
	lmtp_reply(c, "354 Start mail input; end with <CRLF>.<CRLF>");
}

/* The same reply for every accepted recipient (RFC 2033 §4.2). */
static void reply_each(struct lmtp_conn *c, const char *reply)
{
	for (size_t i = 0; i < c->nrcpts; i++)
		lmtp_reply(c, "%s <%s>", reply, c->rcpts[i].address);
}

/* Bytes gathered before they are moved to the spool. */
#define LMTP_SPOOL_CHUNK (64 * 1024)

/* A message from literal_spool_threshold on goes to a spool, as an IMAP
 * APPEND's does: the decoded bytes move there whenever LMTP_SPOOL_CHUNK
 * have gathered, and the rest at the final dot, so the connection holds
 * at most about the threshold whatever the message's size. */
static void data_spool(struct lmtp_conn *c, bool final)
{
	const struct config *cfg = c->srv->cfg;

	if (c->spool == NULL && !c->spool_failed) {
		if (c->message.len < (size_t)cfg->literal_spool_threshold)
			return;
		if ((c->spool = spool_new(cfg->literal_spool_dir)) == NULL) {
			log_error("lmtp: cannot make a spool file in %s: %s", cfg->literal_spool_dir,
				  strerror(errno));
			c->spool_failed = true;
		}
	}
	if (c->spool_failed)
		buf_clear(&c->message);  /* read to its end, not kept */
	else if (final || c->message.len >= LMTP_SPOOL_CHUNK) {
		spool_write(c->spool, c->message.data, c->message.len);
		buf_clear(&c->message);
	}
}

/* After the final dot: refuse what the decoder marked, or deliver. */
static void data_done(struct lmtp_conn *c)
{
	c->in_data = false;
	if (c->data.too_big)
		reply_each(c, "552 5.3.4 Message too big");
	else if (c->spool_failed)
		reply_each(c, "451 4.3.0 Cannot take the message now, try again later");
	else if (c->data.has_nul)
		reply_each(c, "554 5.6.0 Message contains NUL bytes");
	else if (c->data.line_too_long)
		reply_each(c, "554 5.6.0 Message has a line over 1 MiB");
	else {
		lmtp_submit(c, LMTP_JOB_DELIVER);
		return;
	}
	lmtp_reset(c);
}

void lmtp_job_finished(struct lmtp_conn *c)
{
	buf_append(&c->out, c->reply.data, c->reply.len);
	buf_clear(&c->reply);
	if (c->job_kind == LMTP_JOB_RCPT) {
		if (c->pending.account_id == 0) {
			free(c->pending.address);
			free(c->pending.folder);
			free(c->pending.team);
		} else {
			if (c->nrcpts == c->rcpt_cap) {
				c->rcpt_cap = c->rcpt_cap ? 2 * c->rcpt_cap : 8;
				c->rcpts = xrealloc(c->rcpts, c->rcpt_cap * sizeof(*c->rcpts));
			}
			c->rcpts[c->nrcpts++] = c->pending;
		}
		c->pending = (struct lmtp_rcpt){ 0 };
		return;
	}
	/* The sessions idling on the mailboxes delivered into were woken
	 * by the change bus (deliver.c, bus_changed). */
	lmtp_reset(c);
}

static void command(struct lmtp_conn *c, char *line)
{
	char *args = strchr(line, ' ');

	if (args != NULL)
		*args++ = '\0';
	else
		args = line + strlen(line);
	if (strcasecmp(line, "LHLO") == 0)
		cmd_lhlo(c, args);
	else if (strcasecmp(line, "MAIL") == 0)
		cmd_mail(c, args);
	else if (strcasecmp(line, "RCPT") == 0)
		cmd_rcpt(c, args);
	else if (strcasecmp(line, "DATA") == 0)
		cmd_data(c, args);
	else if (strcasecmp(line, "RSET") == 0) {
		lmtp_reset(c);
		lmtp_reply(c, "250 2.0.0 OK");
	} else if (strcasecmp(line, "NOOP") == 0)
		lmtp_reply(c, "250 2.0.0 OK");
	else if (strcasecmp(line, "QUIT") == 0) {
		lmtp_reply(c, "221 2.0.0 Bye");
		c->close_after_flush = true;
	} else if (strcasecmp(line, "VRFY") == 0)
		/* RFC 5321 §3.5.3: 252 when the server will not verify. */
		lmtp_reply(c, "252 2.5.2 Cannot VRFY user, but will accept message");
	else if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0)
		/* RFC 2033 §4.1: an LMTP server refuses HELO and EHLO. */
		bad(c, "500 5.5.1 This is LMTP: use LHLO");
	else if (strcasecmp(line, "EXPN") == 0 || strcasecmp(line, "HELP") == 0 ||
		 strcasecmp(line, "BDAT") == 0 || strcasecmp(line, "STARTTLS") == 0 ||
		 strcasecmp(line, "ETRN") == 0 || strcasecmp(line, "TURN") == 0)
		bad(c, "502 5.5.1 Command not implemented");
	else
		bad(c, "500 5.5.2 Command unrecognized");
}

size_t lmtp_process(struct lmtp_conn *c, const char *p, size_t len)
{
	const char *lf;
	char line[LMTP_COMMAND_MAX + 1];
	size_t n;

	if (c->in_data) {
		bool done;
		size_t used = lmtp_data_input(&c->data, p, len, &done);
		data_spool(c, done);
		if (done)
			data_done(c);
		return used;
	}
	lf = memchr(p, '\n', len < LMTP_COMMAND_MAX + 2 ? len : LMTP_COMMAND_MAX + 2);
	if (lf == NULL) {
		if (len <= LMTP_COMMAND_MAX + 1)
			return 0;  /* not yet complete */
		/* RFC 5321 §4.5.3.1.4; the rest of such a line cannot be told
		 * from a command, so the session ends (as OpenSMTPD does). */
		lmtp_reply(c, "500 5.5.2 Line too long");
		c->close_after_flush = true;
		return len;
	}
	n = (size_t)(lf - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > LMTP_COMMAND_MAX || memchr(p, '\0', n) != NULL || memchr(p, '\r', n) != NULL) {
		bad(c, n > LMTP_COMMAND_MAX ? "500 5.5.2 Line too long" :
		    "500 5.5.2 Syntax error: NUL or CR in a command");
		return (size_t)(lf - p) + 1;
	}
	memcpy(line, p, n);
	line[n] = '\0';
	command(c, line);
	return (size_t)(lf - p) + 1;
}

int lmtp_check_config(const struct config *cfg, char *err, size_t errlen)
{
	if (strlen(cfg->lmtp_detail_delimiter) > 1) {
		snprintf(err, errlen, "lmtp_detail_delimiter must be one character or empty");
		return -1;
	}
	if (cfg->lmtp_workers > cfg->workers) {
		snprintf(err, errlen, "lmtp_workers must not exceed workers");
		return -1;
	}
	if (cfg->lmtp_socket[0] != '\0' && cfg->lmtp_socket[0] != '/') {
		snprintf(err, errlen, "lmtp_socket must be an absolute path");
		return -1;
	}
	return teams_check_config(cfg, err, errlen);
}
