/* Storing a delivered message (delivery.h): the part of LMTP that
 * `kairanctl deliver` shares. */
#include "server/lmtp/delivery.h"
#include "server/bus/bus.h"
#include "server/core/activity.h"
#include "server/core/arena.h"
#include "server/core/log.h"
#include "server/core/spool.h"
#include "server/imap/message_analyse.h"
#include "server/imap/quota.h"
#include "schema/db.h"
#include "schema/db_deliver.h"
#include "schema/db_shared.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void lmtp_rcpt_clear(struct lmtp_rcpt *r)
{
	free(r->address);
	free(r->folder);
	free(r->team);
	*r = (struct lmtp_rcpt){ 0 };
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

/* Logs one recipient's failure. */
static enum lmtp_outcome failed(const struct lmtp_rcpt *r, const char *why)
{
	log_warning("lmtp: delivering to <%s>: %s", r->address, why);
	return LMTP_TEMPFAIL;
}

/* RFC 9208 at delivery (docs/delivery.md, "Quotas"): the recipients whose
 * quota root does not take one more message of `bytes` get their outcome
 * now and no target; the others are compacted into targets. Returns how
 * many targets there are, or -1 when a quota could not be read (every
 * recipient then fails for now, as a failed delivery would). */
static long quota_targets(const struct config *cfg, struct imap_backend *be,
			  struct lmtp_rcpt *rcpts, size_t n, uint64_t bytes,
			  size_t *index, enum lmtp_outcome *outcome_r, char *err, size_t errlen)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++) {
		enum db_quota_resource over;
		int fits = quota_fits(be->db, cfg, rcpts[i].account_id, bytes, 1, &over, err, errlen);

		if (fits < 0)
			return -1;
		if (fits == 0) {
			log_info("lmtp: <%s>: over quota", rcpts[i].address);
			outcome_r[i] = LMTP_OVER_QUOTA;
			continue;
		}
		index[t++] = i;
	}
	return (long)t;
}

void lmtp_deliver_message(const struct config *cfg, struct imap_backend *be,
			  struct db_append_msg *m, struct lmtp_rcpt *rcpts, size_t n,
			  enum lmtp_outcome *outcome_r)
{
	struct db_deliver_target *targets = xcalloc(n, sizeof(*targets));
	struct db_deliver_result *results = xcalloc(n, sizeof(*results));
	size_t *index = xcalloc(n, sizeof(*index));
	uint64_t bytes = m->raw_spool != NULL ? spool_size(m->raw_spool) : m->raw_len;
	enum db_result r = DB_FAILED;
	struct arena arena;
	char err[256] = "";
	long nt = 0;

	arena_init(&arena);
	m->keywords_array = "{}";
	m->internaldate = (int64_t)time(NULL);
	for (size_t i = 0; i < n; i++) {
		rcpts[i].mailbox_id = 0;
		outcome_r[i] = LMTP_TEMPFAIL;
	}
	if (imap_message_analyse(&arena, m) < 0)
		snprintf(err, sizeof(err), "reading a spooled message: %s", strerror(errno));
	else if (db_ensure(be->db) < 0)
		snprintf(err, sizeof(err), "%s", db_error(be->db));
	else {
		nt = quota_targets(cfg, be, rcpts, n, bytes, index, outcome_r, err, sizeof(err));
		if (nt == 0)
			r = DB_OK;      /* nobody's quota took it: nothing to store */
		else if (nt > 0) {
			for (long t = 0; t < nt; t++) {
				struct lmtp_rcpt *rc = &rcpts[index[t]];
				targets[t].owner_id = rc->account_id;
				targets[t].mailbox = rc->team != NULL ? team_folder(be, rc, &arena) :
						     rc->folder;
			}
			activity_begin(be->writes);
			r = db_deliver(be->db, m, targets, (size_t)nt, cfg->lmtp_duplicate_window,
				       results, err, sizeof(err));
			activity_end(be->writes);
		}
	}
	if (r != DB_OK) {
		const char *why = err[0] ? err : db_error(be->db);
		for (size_t i = 0; i < n; i++)
			if (outcome_r[i] != LMTP_OVER_QUOTA)
				outcome_r[i] = failed(&rcpts[i], why);
	}
	for (long t = 0; r == DB_OK && t < nt; t++) {
		size_t i = index[t];
		switch (results[t].outcome) {
		case DB_DELIVERY_STORED:
			rcpts[i].mailbox_id = results[t].mailbox_id;
			bus_changed(be->bus, results[t].mailbox_id);
			outcome_r[i] = LMTP_DELIVERED;
			break;
		case DB_DELIVERY_DUPLICATE:
			log_info("lmtp: <%s>: a duplicate, not stored again", rcpts[i].address);
			outcome_r[i] = LMTP_DELIVERED;
			break;
		case DB_DELIVERY_NO_MAILBOX:
			outcome_r[i] = failed(&rcpts[i], "no INBOX to deliver into");
			break;
		default:
			outcome_r[i] = failed(&rcpts[i], "the mailbox has no UID left or vanished");
		}
	}
	arena_free(&arena);
	free(index);
	free(targets);
	free(results);
}
