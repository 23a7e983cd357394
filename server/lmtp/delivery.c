/* Storing a delivered message (delivery.h): the part of LMTP that
 * `kairanctl deliver` shares. */
#include "server/lmtp/delivery.h"
#include "server/bus/bus.h"
#include "server/core/activity.h"
#include "server/core/arena.h"
#include "server/core/log.h"
#include "server/imap/message_analyse.h"
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

/* Logs one recipient's failure; false, for delivered_r. */
static bool failed(const struct lmtp_rcpt *r, const char *why)
{
	log_warning("lmtp: delivering to <%s>: %s", r->address, why);
	return false;
}

void lmtp_deliver_message(const struct config *cfg, struct imap_backend *be,
			  struct db_append_msg *m, struct lmtp_rcpt *rcpts, size_t n,
			  bool *delivered_r)
{
	struct db_deliver_target *targets = xcalloc(n, sizeof(*targets));
	struct db_deliver_result *results = xcalloc(n, sizeof(*results));
	enum db_result r = DB_FAILED;
	struct arena arena;
	char err[256] = "";

	arena_init(&arena);
	m->keywords_array = "{}";
	m->internaldate = (int64_t)time(NULL);
	if (imap_message_analyse(&arena, m) < 0)
		snprintf(err, sizeof(err), "reading a spooled message: %s", strerror(errno));
	else if (db_ensure(be->db) < 0)
		snprintf(err, sizeof(err), "%s", db_error(be->db));
	else {
		for (size_t i = 0; i < n; i++) {
			targets[i].owner_id = rcpts[i].account_id;
			targets[i].mailbox = rcpts[i].team != NULL ? team_folder(be, &rcpts[i], &arena) :
					     rcpts[i].folder;
		}
		activity_begin(be->writes);
		r = db_deliver(be->db, m, targets, n, cfg->lmtp_duplicate_window, results, err,
			       sizeof(err));
		activity_end(be->writes);
	}
	for (size_t i = 0; i < n; i++) {
		rcpts[i].mailbox_id = 0;
		if (r != DB_OK) {
			delivered_r[i] = failed(&rcpts[i], err[0] ? err : db_error(be->db));
			continue;
		}
		switch (results[i].outcome) {
		case DB_DELIVERY_STORED:
			rcpts[i].mailbox_id = results[i].mailbox_id;
			bus_changed(be->bus, results[i].mailbox_id);
			delivered_r[i] = true;
			break;
		case DB_DELIVERY_DUPLICATE:
			log_info("lmtp: <%s>: a duplicate, not stored again", rcpts[i].address);
			delivered_r[i] = true;
			break;
		case DB_DELIVERY_NO_MAILBOX:
			delivered_r[i] = failed(&rcpts[i], "no INBOX to deliver into");
			break;
		default:
			delivered_r[i] = failed(&rcpts[i], "the mailbox has no UID left or vanished");
		}
	}
	arena_free(&arena);
	free(targets);
	free(results);
}
