/* kairanctl deliver: a local delivery agent for MTAs that pipe a message
 * to a command (Postfix's mailbox_command or pipe(8), Exim's pipe
 * transport; docs/delivery.md, "kairanctl deliver"):
 *
 *   kairanctl -c FILE deliver [-f SENDER] RECIPIENT...
 *
 * The message comes on stdin. Recipients are found and the message stored
 * by the code LMTP uses (server/lmtp/delivery.h): the same addresses, the
 * same +detail and team rules, one stored copy, duplicate suppression.
 * The exit status is a sysexits.h code, which MTAs read as the outcome:
 * all or nothing, so that the MTA's retry (after EX_TEMPFAIL) or bounce
 * (after a permanent code) is right for every recipient. The exception is
 * a recipient over quota (RFC 9208): the others get the message, and the
 * status is EX_CANTCREAT (EX_TEMPFAIL with lmtp_quota_defer), which an
 * MTA that pipes one recipient at a time reads right. */
#include "server/ctl/ctl.h"
#include "server/lmtp/delivery.h"
#include "schema/db_notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

/* The input with CRLF line ends (a bare LF becomes CRLF, as in LMTP's
 * DATA; a CR without LF is data). EX_OK, or EX_DATAERR (NUL, a line over
 * LMTP_TEXT_LINE_MAX, more than max bytes) or EX_TEMPFAIL (a read error)
 * with why set. */
static int read_message(FILE *in, size_t max, struct buf *out, const char **why)
{
	size_t line_len = 0;
	int ch, prev = '\n';

	while ((ch = getc_unlocked(in)) != EOF) {
		char c = (char)ch;

		if (ch == '\0') {
			*why = "the message contains NUL bytes";
			return EX_DATAERR;
		}
		if (ch == '\n') {
			if (prev != '\r')
				buf_append(out, "\r", 1);
			line_len = 0;
		} else if (++line_len > LMTP_TEXT_LINE_MAX) {
			*why = "the message has a line over 1 MiB";
			return EX_DATAERR;
		}
		buf_append(out, &c, 1);
		prev = ch;
		if (out->len > max) {
			*why = "the message is bigger than max_literal_size";
			return EX_DATAERR;
		}
	}
	if (ferror(in)) {
		*why = strerror(errno);
		return EX_TEMPFAIL;
	}
	if (prev != '\n')
		buf_append(out, "\r\n", 2);  /* a last line without its end */
	return EX_OK;
}

/* The length of the line at b's offset at (its CRLF included) when it
 * starts with prefix, else 0. */
static size_t line_if(const struct buf *b, size_t at, const char *prefix, bool any_case)
{
	const char *p = (const char *)b->data + at, *lf;
	size_t len = strlen(prefix), left = b->len - at;

	if (left < len || (any_case ? strncasecmp(p, prefix, len) : memcmp(p, prefix, len)) != 0 ||
	    (lf = memchr(p, '\n', left)) == NULL)
		return 0;
	return (size_t)(lf - p) + 1;
}

static int usage(const char *why)
{
	ctl_usage("deliver", why);
	return EX_USAGE;
}

/* One line on stderr, which an MTA puts in its bounce or log. */
static int fail(int status, const char *fmt, const char *arg)
{
	fputs("kairanctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return status;
}

/* The recipients, each found as RCPT finds it: EX_OK, or the first
 * recipient's failure (nothing is delivered then). */
static int find_all(struct ctl *ctl, struct imap_backend *be, struct lmtp_rcpt *rcpts,
		    int n, char **addresses)
{
	for (int i = 0; i < n; i++) {
		rcpts[i].address = xstrdup(addresses[i]);
		switch (lmtp_recipient_find(ctl->cfg, be, &rcpts[i])) {
		case LMTP_FOUND:
			break;
		case LMTP_NOT_FOUND:
			return fail(EX_NOUSER, "<%s>: user unknown", addresses[i]);
		case LMTP_DIRECTORY_DOWN:
			return fail(EX_TEMPFAIL, "<%s>: directory unavailable, try again later",
				    addresses[i]);
		case LMTP_DATABASE_DOWN:
			return fail(EX_TEMPFAIL, "<%s>: database unavailable, try again later",
				    addresses[i]);
		}
	}
	return EX_OK;
}

int ctl_cmd_deliver(struct ctl *ctl, int argc, char **argv)
{
	const char *sender = NULL, *why = "";
	struct imap_backend be = { 0 };
	struct db_append_msg m = { 0 };
	struct lmtp_rcpt *rcpts;
	char err[CTL_ERR_MAX];
	struct buf input, msg;
	enum lmtp_outcome *outcome;
	size_t skip;
	int i = 0, n, status;

	if (argc >= 2 && strcmp(argv[0], "-f") == 0) {
		sender = argv[1];
		i = 2;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return usage("deliver needs at least one recipient");
	for (int k = i; k < argc; k++)
		if (argv[k][0] == '-' || strchr(argv[k], '@') == NULL)
			return usage("a recipient is an address, user@domain");
	n = argc - i;
	if ((size_t)n > (size_t)ctl->cfg->lmtp_max_recipients)
		return usage("more recipients than lmtp_max_recipients");

	buf_init(&input);
	buf_init(&msg);
	status = read_message(stdin, (size_t)ctl->cfg->max_literal_size, &input, &why);
	if (status != EX_OK) {
		buf_free(&input);
		return fail(status, "%s", why);
	}
	/* An mbox "From " line (pipe(8) with flag F) is no header. With -f,
	 * the Return-Path is ours, as LMTP adds it: the MTA's own (flag R)
	 * goes, so there is one. */
	skip = line_if(&input, 0, "From ", false);
	if (sender != NULL) {
		/* "<>" or "": the null sender of a bounce (RFC 5321 §4.5.5). */
		if (strcmp(sender, "<>") == 0)
			sender = "";
		skip += line_if(&input, skip, "Return-Path:", true);
		buf_appendf(&msg, "Return-Path: <%s>\r\n", sender);
	}
	buf_append(&msg, input.data + skip, input.len - skip);
	buf_free(&input);
	if (ctl_db(ctl, &be.db, err, sizeof(err)) != CTL_OK ||
	    ctl_dir(ctl, &be.dir, err, sizeof(err)) != CTL_OK) {
		buf_free(&msg);
		/* A database down or a configuration to fix: the MTA keeps
		 * the message and tries again. */
		return fail(EX_TEMPFAIL, "%s", err);
	}
	rcpts = xcalloc((size_t)n, sizeof(*rcpts));
	outcome = xcalloc((size_t)n, sizeof(*outcome));
	status = find_all(ctl, &be, rcpts, n, argv + i);
	if (status == EX_OK) {
		m.raw = (const char *)msg.data;
		m.raw_len = msg.len;
		lmtp_deliver_message(ctl->cfg, &be, &m, rcpts, (size_t)n, outcome);
		for (int k = 0; k < n; k++) {
			if (outcome[k] == LMTP_TEMPFAIL)
				status = fail(EX_TEMPFAIL, "<%s>: temporary failure, try again later",
					      rcpts[k].address);
			else if (outcome[k] == LMTP_OVER_QUOTA)
				/* The others have it; this one's mailbox is full:
				 * a bounce, or with lmtp_quota_defer a retry. */
				status = fail(ctl->cfg->lmtp_quota_defer ? EX_TEMPFAIL : EX_CANTCREAT,
					      "<%s>: mailbox over quota", rcpts[k].address);
			else if (rcpts[k].mailbox_id != 0)
				/* The IMAP sessions on it look again (schema/db_notify.h). */
				(void)db_notify_changed(be.db, rcpts[k].mailbox_id, NULL, 0);
		}
	}
	for (int k = 0; k < n; k++)
		lmtp_rcpt_clear(&rcpts[k]);
	free(rcpts);
	free(outcome);
	buf_free(&msg);
	return status;
}
