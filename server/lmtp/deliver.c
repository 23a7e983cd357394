/* The worker side of LMTP: the jobs (a recipient's look-up, and the
 * delivery after the final dot), which do their work through delivery.h
 * and write their replies into c->reply, which the loop sends when the
 * job is done (conn.c). */
#include "server/lmtp/lmtp_private.h"
#include "server/core/spool.h"

#include <stddef.h>
#include <stdlib.h>

void lmtp_rcpt_reply(struct lmtp_conn *c, const char *code, const char *address, const char *text)
{
	buf_appendf(&c->reply, "%s <%s> %s\r\n", code, address, text);
}

/* RCPT: c->pending.account_id stays 0 when it is not accepted. */
static void rcpt_lookup(struct lmtp_conn *c, struct imap_backend *be)
{
	struct lmtp_rcpt *r = &c->pending;

	switch (lmtp_recipient_find(c->srv->cfg, be, r)) {
	case LMTP_FOUND:
		lmtp_rcpt_reply(c, "250 2.1.5", r->address, "OK");
		break;
	case LMTP_NOT_FOUND:
		lmtp_rcpt_reply(c, "550 5.1.1", r->address, "User unknown");
		break;
	case LMTP_DIRECTORY_DOWN:
		/* A temporary fault is never 5.x.x: the MTA tries again. */
		lmtp_rcpt_reply(c, "451 4.4.3", r->address, "Directory unavailable, try again later");
		break;
	case LMTP_DATABASE_DOWN:
		lmtp_rcpt_reply(c, "451 4.3.0", r->address, "Temporary failure, try again later");
	}
}

/* After the final dot: one reply per recipient (RFC 2033 §4.2), all after
 * the one commit of lmtp_deliver_message. */
static void deliver(struct lmtp_conn *c, struct imap_backend *be)
{
	struct db_append_msg m = { 0 };
	enum lmtp_outcome *outcome = xcalloc(c->nrcpts, sizeof(*outcome));

	if (c->spool != NULL) {
		m.raw_spool = c->spool;  /* a big message: session.c, data_spool */
		m.raw_len = (size_t)spool_size(c->spool);
	} else {
		m.raw = (const char *)c->message.data;
		m.raw_len = c->message.len;
	}
	lmtp_deliver_message(c->srv->cfg, be, &m, c->rcpts, c->nrcpts, outcome);
	for (size_t i = 0; i < c->nrcpts; i++) {
		const char *address = c->rcpts[i].address;
		switch (outcome[i]) {
		case LMTP_DELIVERED:
			lmtp_rcpt_reply(c, "250 2.1.5", address, "Delivered");
			break;
		case LMTP_OVER_QUOTA:
			/* RFC 3463 "mailbox full": permanent, or with
			 * lmtp_quota_defer temporary, so that the MTA keeps
			 * the message and retries. */
			if (c->srv->cfg->lmtp_quota_defer)
				lmtp_rcpt_reply(c, "452 4.2.2", address,
						"Mailbox over quota, try again later");
			else
				lmtp_rcpt_reply(c, "552 5.2.2", address, "Mailbox over quota");
			break;
		case LMTP_TEMPFAIL:
			lmtp_rcpt_reply(c, "451 4.3.0", address, "Temporary failure, try again later");
		}
	}
	free(outcome);
}

void lmtp_job_run(struct worker_job *job, struct imap_backend *be)
{
	struct lmtp_conn *c = (struct lmtp_conn *)((char *)job - offsetof(struct lmtp_conn, job));

	if (c->job_kind == LMTP_JOB_RCPT)
		rcpt_lookup(c, be);
	else
		deliver(c, be);
}
