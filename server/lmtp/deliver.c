/* The worker side of LMTP: a recipient's look-up (RCPT) and the delivery
 * after the final dot. Each job writes its replies into c->reply, which
 * the loop sends when the job is done (conn.c). */
#include "server/lmtp/lmtp_private.h"
#include "server/bus/bus.h"
#include "server/core/activity.h"
#include "server/core/arena.h"
#include "server/core/config.h"
#include "server/core/log.h"
#include "server/core/spool.h"
#include "server/imap/message_analyse.h"
#include "server/imap/session.h"
#include "directory/dir.h"
#include "schema/db.h"
#include "schema/db_message.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void reply(struct lmtp_conn *c, const char *code, const char *address, const char *text)
{
	buf_appendf(&c->reply, "%s <%s> %s\r\n", code, address, text);
}

/* The account that receives mail for address (RFC 5321 §3.3, RCPT), or
 * DIR_FAIL / DIR_UNAVAILABLE. */
static enum dir_result find_account(struct imap_backend *be, const char *address,
				    char *dn, size_t dn_size, char *login, size_t login_size)
{
	char err[256];
	enum dir_result r = dir_lookup_by_mail_cached(be->dir_cache, be->dir, address,
						      strlen(address), dn, dn_size, login,
						      login_size, err, sizeof(err));
	if (r == DIR_UNAVAILABLE)
		log_warning("lmtp: looking up <%s>: %s", address, err);
	return r;
}

/* RCPT: "user+detail@domain" is looked up as "user@domain" with the folder
 * "detail"; when that address is unknown, the address as given (which may
 * have the delimiter in it). A known account is provisioned as at its first
 * login, so that mail can arrive before it ever logs in. */
static void rcpt_lookup(struct lmtp_conn *c, struct imap_backend *be)
{
	struct lmtp_rcpt *r = &c->pending;
	const char *delim = c->srv->cfg->lmtp_detail_delimiter;
	const char *at = strrchr(r->address, '@');
	char dn[1024], login[DIR_LOGIN_MAX + 1], err[256], *base = NULL;
	const char *cut = delim[0] != '\0' ? memchr(r->address, delim[0], (size_t)(at - r->address)) : NULL;
	enum dir_result found = DIR_FAIL;

	if (cut != NULL) {
		size_t local = (size_t)(cut - r->address), domain = strlen(at);
		base = xmalloc(local + domain + 1);
		memcpy(base, r->address, local);
		memcpy(base + local, at, domain + 1);   /* with its NUL */
		found = find_account(be, base, dn, sizeof(dn), login, sizeof(login));
		if (found == DIR_OK && cut + 1 < at &&
		    !((size_t)(at - cut - 1) == 5 && strncasecmp(cut + 1, "INBOX", 5) == 0))
			r->folder = strndup(cut + 1, (size_t)(at - cut - 1));
	}
	free(base);
	if (found == DIR_FAIL)
		found = find_account(be, r->address, dn, sizeof(dn), login, sizeof(login));
	if (found == DIR_FAIL) {
		reply(c, "550 5.1.1", r->address, "User unknown");
		return;
	}
	if (found == DIR_UNAVAILABLE) {
		/* A temporary fault is never 5.x.x: the MTA tries again. */
		reply(c, "451 4.4.3", r->address, "Directory unavailable, try again later");
		return;
	}
	if (db_ensure(be->db) < 0 ||
	    db_account_provision(be->db, login, dn, &r->account_id, err, sizeof(err)) < 0) {
		log_warning("lmtp: provisioning %s: %s", login,
			    db_error(be->db)[0] ? db_error(be->db) : err);
		r->account_id = 0;
		reply(c, "451 4.3.0", r->address, "Temporary failure, try again later");
		return;
	}
	reply(c, "250 2.1.5", r->address, "OK");
}

/* Stores the message in one recipient's folder, or in its INBOX when the
 * folder does not exist (or cannot hold messages). One transaction. */
static enum db_result store(struct lmtp_conn *c, struct imap_backend *be, struct lmtp_rcpt *r,
			    const struct db_append_msg *m, char *err, size_t errlen)
{
	struct db_append_result res;
	enum db_result result = DB_NOT_FOUND;
	long max_keywords = c->srv->cfg->max_keywords_per_mailbox;

	if (r->folder != NULL)
		result = db_append(be->db, r->account_id, r->account_id, r->folder, m, 1,
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

		if (twin != NULL) {
			result = twin->mailbox_id != 0 ? DB_OK : DB_FAILED;
		} else if (db_ok) {
			result = store(c, be, r, &m, err, sizeof(err));
		}
		if (result == DB_OK) {
			reply(c, "250 2.1.5", r->address, "Delivered");
			continue;
		}
		log_warning("lmtp: delivering to <%s>: %s", r->address,
			    err[0] ? err : db_error(be->db));
		reply(c, "451 4.3.0", r->address, "Temporary failure, try again later");
	}
	activity_end(be->writes);
	arena_free(&arena);
}

void lmtp_job_run(struct worker_job *job, struct imap_backend *be)
{
	struct lmtp_conn *c = (struct lmtp_conn *)((char *)job - offsetof(struct lmtp_conn, job));

	if (c->job_kind == LMTP_JOB_RCPT)
		rcpt_lookup(c, be);
	else
		deliver(c, be);
}
