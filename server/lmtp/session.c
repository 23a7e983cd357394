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
	c->smtputf8 = false;
	c->in_data = false;
	c->chunking = c->in_chunk = c->chunk_last = false;
	c->chunk_left = c->chunk_size = 0;
	c->chunk_refusal = NULL;
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
	lmtp_reply(c, "250-SMTPUTF8");
	lmtp_reply(c, "250-CHUNKING");
	lmtp_reply(c, "250 SIZE %ld", c->srv->cfg->max_literal_size);
}

static void cmd_mail(struct lmtp_conn *c, const char *args)
{
	const char *p = lmtp_after_keyword(args, "FROM:"), *refusal;
	struct lmtp_mail_params params;
	bool utf8 = false, fault;
	char *sender;

	if (!c->greeted) {
		bad(c, "503 5.5.1 Send LHLO first");
		return;
	}
	if (c->have_mail) {
		bad(c, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (p == NULL || (sender = lmtp_parse_path(&p, &utf8)) == NULL) {
		bad(c, "501 5.1.7 Bad sender address syntax");
		return;
	}
	if (sender[0] != '\0' && !lmtp_address_ok(sender)) {
		free(sender);
		bad(c, "501 5.1.7 Bad sender address syntax");
		return;
	}
	refusal = lmtp_parse_mail_params(p, (uint64_t)c->srv->cfg->max_literal_size, &params, &fault);
	if (refusal == NULL && utf8 && !params.smtputf8) {
		/* RFC 6531 §3.5: a non-ASCII path needs the SMTPUTF8 parameter. */
		refusal = "553 5.6.7 Non-ASCII sender address needs SMTPUTF8";
		fault = true;
	}
	if (refusal != NULL) {
		free(sender);
		if (fault)
			bad(c, refusal);
		else
			lmtp_reply(c, "%s", refusal);
		return;
	}
	c->sender = sender;
	c->smtputf8 = params.smtputf8;
	c->have_mail = true;
	lmtp_reply(c, "250 2.1.0 Sender OK");
}

static void cmd_rcpt(struct lmtp_conn *c, const char *args)
{
	const char *p = lmtp_after_keyword(args, "TO:");
	char *rcpt = NULL;
	bool utf8 = false;

	if (!c->have_mail) {
		bad(c, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (c->chunking) {
		/* RFC 3030 §2: the recipients are set before the first chunk. */
		bad(c, "503 5.5.1 RCPT after BDAT");
		return;
	}
	if (p == NULL || (rcpt = lmtp_parse_path(&p, &utf8)) == NULL || !lmtp_address_ok(rcpt)) {
		free(rcpt);
		bad(c, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (utf8 && !c->smtputf8) {
		free(rcpt);
		bad(c, "553 5.6.7 Non-ASCII recipient address needs SMTPUTF8");
		return;
	}
	if (*p != '\0') {
		free(rcpt);
		/* RFC 5321 §4.1.1.3: parameters follow a space; none is offered. */
		bad(c, *p == ' ' ? "555 5.5.4 Unsupported parameter" :
		    "501 5.5.4 Syntax error in parameters");
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

/* Why DATA or BDAT (verb) cannot start a message now, or NULL. */
static const char *transaction_refusal(const struct lmtp_conn *c, const char *verb)
{
	if (!c->have_mail)
		return strcmp(verb, "DATA") == 0 ? "503 5.5.1 Need MAIL before DATA" :
		       "503 5.5.1 Need MAIL before BDAT";
	if (c->nrcpts == 0)
		return "503 5.5.1 No valid recipients";   /* RFC 2033 §4.2 */
	return NULL;
}

/* The message starts with the same Return-Path for every recipient (RFC
 * 5321 §4.4), so the stored bytes are one and the same: single
 * instance. */
static void message_start(struct lmtp_conn *c)
{
	buf_clear(&c->message);
	buf_appendf(&c->message, "Return-Path: <%s>\r\n", c->sender);
}

static void cmd_data(struct lmtp_conn *c, const char *args)
{
	const struct config *cfg = c->srv->cfg;
	const char *refusal;

	if (args[0] != '\0') {
		bad(c, "501 5.5.4 DATA takes no arguments");
		return;
	}
	if (c->chunking) {
		/* RFC 3030 §2: DATA and BDAT do not mix in one transaction; the
		 * chunks so far are dropped, so the client starts over. */
		lmtp_reset(c);
		bad(c, "503 5.5.1 DATA after BDAT: transaction reset");
		return;
	}
	if ((refusal = transaction_refusal(c, "DATA")) != NULL) {
		bad(c, refusal);
		return;
	}
	message_start(c);
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

/* The end of a BDAT chunk, once its bytes are read: the reply. After the
 * LAST chunk, one reply per accepted recipient (RFC 2033 §4.2 as for
 * DATA), else one for the chunk (RFC 3030 §2). */
static void chunk_end(struct lmtp_conn *c)
{
	c->in_chunk = false;
	if (c->chunk_refusal != NULL) {
		bad(c, c->chunk_refusal);
		c->chunk_refusal = NULL;
		return;
	}
	if (c->chunk_last) {
		lmtp_data_finish(&c->data);
		data_spool(c, true);
		c->chunking = false;
		data_done(c);
	} else if (c->data.too_big)
		/* The client stops here (RFC 3030 §2: no BDAT after a 5xx); a
		 * BDAT LAST sent anyway is answered 552 for each recipient. */
		lmtp_reply(c, "552 5.3.4 Message too big");
	else
		lmtp_reply(c, "250 2.0.0 %llu octets received", (unsigned long long)c->chunk_size);
}

/* Bytes of the current chunk: decoded into the message (and spooled as
 * DATA's are, so a big message is not held in memory), or thrown away
 * when the chunk is refused. */
static size_t chunk_input(struct lmtp_conn *c, const char *p, size_t len)
{
	size_t n = c->chunk_left < len ? (size_t)c->chunk_left : len;
	bool done;

	if (c->chunk_refusal == NULL) {
		lmtp_data_input(&c->data, p, n, &done);
		data_spool(c, false);
	}
	c->chunk_left -= n;
	if (c->chunk_left == 0)
		chunk_end(c);
	return n;
}

/* BDAT chunk-size [LAST] (RFC 3030 §2). Its chunk-size bytes follow the
 * command line at once, whatever the reply will be: a refused chunk is
 * still read, and thrown away, so that the client's bytes are never taken
 * for commands. Only a chunk size that cannot be read ends the session:
 * nothing tells where the chunk would end. */
static void cmd_bdat(struct lmtp_conn *c, const char *args)
{
	const struct config *cfg = c->srv->cfg;
	const char *refusal = lmtp_parse_bdat(args, &c->chunk_size, &c->chunk_last);

	if (refusal != NULL) {
		lmtp_reply(c, "%s", refusal);
		lmtp_reply(c, "421 4.5.0 Cannot find the end of the chunk, closing the connection");
		c->close_after_flush = true;
		return;
	}
	if (!c->chunking && (refusal = transaction_refusal(c, "BDAT")) == NULL) {
		message_start(c);
		lmtp_data_init_chunked(&c->data, &c->message, (size_t)cfg->max_literal_size,
				       LMTP_TEXT_LINE_MAX);
		c->chunking = true;
	}
	c->chunk_refusal = refusal;
	c->chunk_left = c->chunk_size;
	c->in_chunk = true;
	if (c->chunk_left == 0)
		chunk_end(c);
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
	char *args;

	switch (lmtp_parse_verb(line, &args)) {
	case LMTP_VERB_LHLO: cmd_lhlo(c, args); break;
	case LMTP_VERB_MAIL: cmd_mail(c, args); break;
	case LMTP_VERB_RCPT: cmd_rcpt(c, args); break;
	case LMTP_VERB_DATA: cmd_data(c, args); break;
	case LMTP_VERB_BDAT: cmd_bdat(c, args); break;
	case LMTP_VERB_RSET:
		lmtp_reset(c);
		lmtp_reply(c, "250 2.0.0 OK");
		break;
	case LMTP_VERB_NOOP:
		lmtp_reply(c, "250 2.0.0 OK");
		break;
	case LMTP_VERB_QUIT:
		lmtp_reply(c, "221 2.0.0 Bye");
		c->close_after_flush = true;
		break;
	case LMTP_VERB_VRFY:
		/* RFC 5321 §3.5.3: 252 when the server will not verify. */
		lmtp_reply(c, "252 2.5.2 Cannot VRFY user, but will accept message");
		break;
	case LMTP_VERB_HELO:
		/* RFC 2033 §4.1: an LMTP server refuses HELO and EHLO. */
		bad(c, "500 5.5.1 This is LMTP: use LHLO");
		break;
	case LMTP_VERB_NOT_OFFERED:
		bad(c, "502 5.5.1 Command not implemented");
		break;
	case LMTP_VERB_UNKNOWN:
		bad(c, "500 5.5.2 Command unrecognized");
		break;
	}
}

size_t lmtp_process(struct lmtp_conn *c, const char *p, size_t len)
{
	const char *lf;
	char line[LMTP_COMMAND_MAX + 1];
	size_t n;

	if (c->in_chunk)
		return chunk_input(c, p, len);
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
	if (n > LMTP_COMMAND_MAX) {
		/* The same end as a line whose LF is beyond the window: one
		 * rule for every over-long line, however it ends. */
		lmtp_reply(c, "500 5.5.2 Line too long");
		c->close_after_flush = true;
		return len;
	}
	if (memchr(p, '\0', n) != NULL || memchr(p, '\r', n) != NULL) {
		bad(c, "500 5.5.2 Syntax error: NUL or CR in a command");
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
