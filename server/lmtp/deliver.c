/* The worker side of LMTP: the jobs (a recipient's look-up, in
 * recipient.c, and the delivery after the final dot, here). Each job
 * writes its replies into c->reply, which the loop sends when the job is
 * done (conn.c). */
#include "server/lmtp/lmtp_private.h"
#include "server/bus/bus.h"
#include "server/core/activity.h"
#include "server/core/arena.h"
#include "server/core/config.h"
#include "server/core/log.h"
#include "server/core/spool.h"
#include "server/imap/message_analyse.h"
#include "server/imap/quota.h"
#include "server/imap/session.h"
#include "directory/dir.h"
#include "schema/db.h"
#include "schema/db_message.h"
#include "schema/db_shared.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void lmtp_rcpt_reply(struct lmtp_conn *c, const char *code, const char *address, const char *text)
{
	buf_appendf(&c->reply, "%s <%s> %s\r\n", code, address, text);
}

/* A team's "+detail" names its folder as members see it below
 * Shared/<team> (the shared_name of migrations/0006: "Lists" may be stored
 * as "Lists" or "INBOX/Lists"): its name in the shared account's own
 * namespace, or NULL when there is no such folder (then: the INBOX). */
static const char *team_folder(struct imap_backend *be, const struct lmtp_rcpt *r,
			       struct arena *arena)
{
	const char *name = NULL;
	struct db_acl_row *rows;
	int64_t owner, mailbox;
	int noselect = 0;
	size_t n;

	if (r->folder == NULL ||
	    db_shared_mailbox_acl(be->db, true, r->team, r->folder, arena, &owner, &mailbox, &name,
				  &noselect, &rows, &n, NULL, 0) != DB_OK || noselect)
		return NULL;
	return name;
}

/* Stores the message in one recipient's folder, or in its INBOX when the
 * folder does not exist (or cannot hold messages). One transaction. */
static enum db_result store(struct lmtp_conn *c, struct imap_backend *be, struct lmtp_rcpt *r,
			    const struct db_append_msg *m, struct arena *arena,
			    char *err, size_t errlen)
{
	struct db_append_result res;
	enum db_result result = DB_NOT_FOUND;
	long max_keywords = c->srv->cfg->max_keywords_per_mailbox;
	const char *folder = r->team != NULL ? team_folder(be, r, arena) : r->folder;

	if (folder != NULL)
		result = db_append(be->db, r->account_id, r->account_id, folder, m, 1,
				   max_keywords, &res, err, errlen);
	if (result == DB_NOT_FOUND)
		result = db_append(be->db, r->account_id, r->account_id, "INBOX", m, 1,
				   max_keywords, &res, err, errlen);
	if (result == DB_OK) {
		r->mailbox_id = res.mailbox_id;
		bus_changed(be->bus, res.mailbox_id);
	}
	return result;
}

/* RFC 9208 at delivery (docs/delivery.md, "Quotas"): whether the
 * recipient's quota root takes the message. 1 it does, 0 it does not and
 * the reply is written (552 5.2.2, RFC 3463 "mailbox full"; 452 4.2.2
 * with lmtp_quota_defer, so that the MTA keeps the message and retries),
 * -1 the store failed. */
static int quota_takes(struct lmtp_conn *c, struct imap_backend *be, const struct lmtp_rcpt *r,
		       uint64_t bytes, char *err, size_t errlen)
{
	enum db_quota_resource over;
	int fits = quota_fits(be->db, c->srv->cfg, r->account_id, bytes, 1, &over, err, errlen);

	if (fits != 0)
		return fits;
	if (c->srv->cfg->lmtp_quota_defer)
		lmtp_rcpt_reply(c, "452 4.2.2", r->address, "Mailbox over quota, try again later");
	else
		lmtp_rcpt_reply(c, "552 5.2.2", r->address, "Mailbox over quota");
	return 0;
}

/* The same folder of the same account, named twice (two addresses of one
 * person): delivered once. */
static const struct lmtp_rcpt *same_target(const struct lmtp_conn *c, size_t i)
{
	const struct lmtp_rcpt *r = &c->rcpts[i];

	for (size_t k = 0; k < i; k++) {
		const struct lmtp_rcpt *o = &c->rcpts[k];
		if (o->account_id == r->account_id &&
		    (o->folder == NULL) == (r->folder == NULL) &&
		    (o->folder == NULL || strcmp(o->folder, r->folder) == 0))
			return o;
	}
	return NULL;
}

/* After the final dot: one MIME parse, then one transaction per recipient
 * (db_append): the content is stored once, by its SHA-256, whatever the
 * number of recipients; each reply says how its own recipient fared
 * (RFC 2033 §4.2), 250 only after that recipient's commit. */
static void deliver(struct lmtp_conn *c, struct imap_backend *be)
{
	struct db_append_msg m = { 0 };
	struct arena arena;
	bool db_ok = db_ensure(be->db) == 0;

	arena_init(&arena);
	if (c->spool != NULL) {
		m.raw_spool = c->spool;  /* a big message: session.c, data_spool */
		m.raw_len = (size_t)spool_size(c->spool);
	} else {
		m.raw = (const char *)c->message.data;
		m.raw_len = c->message.len;
	}
	m.keywords_array = "{}";
	m.internaldate = (int64_t)time(NULL);
	if (imap_message_analyse(&arena, &m) < 0) {
		log_warning("lmtp: reading a spooled message: %s", strerror(errno));
		db_ok = false;
	}
	activity_begin(be->writes);
	for (size_t i = 0; i < c->nrcpts; i++) {
		struct lmtp_rcpt *r = &c->rcpts[i];
		const struct lmtp_rcpt *twin = same_target(c, i);
		enum db_result result = DB_FAILED;
		char err[256] = "";

		int takes = db_ok ? quota_takes(c, be, r, m.raw_len, err, sizeof(err)) : -1;

		if (takes == 0)
			continue;
		if (twin != NULL) {
			result = twin->mailbox_id != 0 ? DB_OK : DB_FAILED;
		} else if (takes > 0) {
			result = store(c, be, r, &m, &arena, err, sizeof(err));
		}
		if (result == DB_OK) {
			lmtp_rcpt_reply(c, "250 2.1.5", r->address, "Delivered");
			continue;
		}
		log_warning("lmtp: delivering to <%s>: %s", r->address,
			    err[0] ? err : db_error(be->db));
		lmtp_rcpt_reply(c, "451 4.3.0", r->address, "Temporary failure, try again later");
	}
	activity_end(be->writes);
	arena_free(&arena);
}

void lmtp_job_run(struct worker_job *job, struct imap_backend *be)
{
	struct lmtp_conn *c = (struct lmtp_conn *)((char *)job - offsetof(struct lmtp_conn, job));

	if (c->job_kind == LMTP_JOB_RCPT)
		lmtp_rcpt_lookup(c, be);
	else
		deliver(c, be);
}
