/* COPY / UID COPY (RFC 3501 §6.4.7) and MOVE / UID MOVE (RFC 6851), with
 * COPYUID (RFC 4315). */
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/msgset.h"
#include "server/imap/rights.h"
#include "server/imap/view.h"
#include "server/core/activity.h"
#include "server/core/log.h"
#include "schema/db_message.h"

#include <stdlib.h>

struct copy_ctx {
	struct imap_session *s;
	uint32_t uidvalidity;
	struct buf src, dst;       /* the COPYUID sets */
	uint32_t run_lo, run_hi, dst_lo, dst_hi;
	size_t copied;
	uint32_t *expunged;
	size_t nexpunged;
};

static void add_run(struct buf *b, uint32_t lo, uint32_t hi)
{
	buf_appendf(b, lo == hi ? "%s%u" : "%s%u:%u", b->len ? "," : "", lo, hi);
}

static void copy_destination(void *ctx, uint32_t uidvalidity)
{
	((struct copy_ctx *)ctx)->uidvalidity = uidvalidity;
}

/* Source UIDs ascend and the new UIDs are consecutive: runs of source UIDs
 * become ranges, and the destination set is one range. */
static void copy_copied(void *ctx, uint32_t src, uint32_t dst)
{
	struct copy_ctx *c = ctx;

	if (c->copied > 0 && src == c->run_hi + 1) {
		c->run_hi = src;
	} else {
		if (c->copied > 0)
			add_run(&c->src, c->run_lo, c->run_hi);
		c->run_lo = c->run_hi = src;
	}
	if (c->copied == 0)
		c->dst_lo = dst;
	c->dst_hi = dst;
	c->copied++;
}

static void copy_keywords_dropped(void *ctx)
{
	imap_keywords_dropped(((struct copy_ctx *)ctx)->s);
}

static void copy_expunged(void *ctx, uint32_t uid)
{
	struct copy_ctx *c = ctx;

	c->expunged = xrealloc(c->expunged, (c->nexpunged + 1) * sizeof(*c->expunged));
	c->expunged[c->nexpunged++] = uid;
}

static void copy(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be,
		 bool uid, bool move)
{
	const char *verb = move ? "MOVE" : "COPY";
	struct db_uid_ranges ranges;
	struct copy_ctx c = { .s = s };
	struct db_copy_cb cb = { &c, copy_destination, copy_copied, copy_expunged, copy_keywords_dropped };
	struct imap_mailbox_acl acl;
	const char *name, *problem, *target;
	size_t len;
	enum db_result r;
	unsigned keep = 31u;
	bool keywords = true;
	char err[256];

	if (cmd->nargs != 2) {
		imap_reply(s, "BAD", NULL, "%s expects a sequence set and a mailbox", verb);
		return;
	}
	if (imap_msgset(s, &cmd->args[0], uid, &ranges, &problem) < 0 ||
	    imap_mailbox_arg(s, &cmd->args[1], &name, &len, &problem) < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return;
	}
	if (move && s->view->readonly) {
		imap_reply(s, "NO", "READ-ONLY", "Mailbox is read-only");
		return;
	}
	/* RFC 6851 §4.2: MOVE expunges, so it needs "t" and "e" here. */
	if (move && acl_check(ACL_OP_MOVE_SOURCE, s->view->rights) != ACL_ALLOW) {
		imap_reply(s, "NO", "NOPERM", "Permission denied");
		return;
	}
	if (!imap_db_ready(s, be) ||
	    !imap_mailbox_require(s, be, name, move ? ACL_OP_MOVE_TARGET : ACL_OP_COPY, &acl) ||
	    (target = imap_target_name(s, &acl)) == NULL)
		return;
	buf_init(&c.src);
	buf_init(&c.dst);
	/* RFC 4314 §4: flags the caller may not set in the target are
	 * dropped, as for APPEND. A missing personal target has no ACL
	 * (the store answers TRYCREATE). */
	if (acl.exists)
		(void)acl_store_permitted(acl.rights, 31u, true, &keep, &keywords);
	activity_begin(be->writes);
	r = db_copy(be->db, s->account_id, s->view->mailbox_id, &ranges, acl.owner_id, target, move,
		    keep, keywords, s->cfg->max_keywords_per_mailbox, &cb, err, sizeof(err));
	activity_end(be->writes);
	if (r == DB_FAILED) {
		log_warning("%s: %s failed: %s", s->peer, verb, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
	} else if (r == DB_NOT_FOUND) {
		imap_reply(s, "NO", "TRYCREATE", "No such mailbox");
	} else {
		if (c.copied > 0) {
			add_run(&c.src, c.run_lo, c.run_hi);
			add_run(&c.dst, c.dst_lo, c.dst_hi);
			buf_append(&c.src, "", 1);
			buf_append(&c.dst, "", 1);
		}
		if (move) {
			/* RFC 6851 §4.3: COPYUID untagged, before the EXPUNGEs. */
			if (c.copied > 0)
				imap_untagged(s, "OK [COPYUID %u %s %s] Moved", c.uidvalidity,
					      (char *)c.src.data, (char *)c.dst.data);
			for (size_t i = 0; i < c.nexpunged; i++) {
				uint32_t msn = imap_view_remove(s->view, c.expunged[i]);
				if (msn != 0)
					imap_untagged(s, "%u EXPUNGE", msn);
			}
			imap_reply(s, "OK", NULL, "%s%s completed", uid ? "UID " : "", verb);
		} else if (c.copied > 0) {
			struct buf code;
			buf_init(&code);
			buf_appendf(&code, "COPYUID %u %s %s", c.uidvalidity, (char *)c.src.data,
				    (char *)c.dst.data);
			buf_append(&code, "", 1);
			imap_reply(s, "OK", (const char *)code.data, "%s%s completed", uid ? "UID " : "", verb);
			buf_free(&code);
		} else
			imap_reply(s, "OK", NULL, "%s%s completed", uid ? "UID " : "", verb);
	}
	buf_free(&c.src);
	buf_free(&c.dst);
	free(c.expunged);
}

void cmd_copy(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	copy(s, cmd, be, false, false);
}

void cmd_uid_copy(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	copy(s, cmd, be, true, false);
}

void cmd_move(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	copy(s, cmd, be, false, true);
}

void cmd_uid_move(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	copy(s, cmd, be, true, true);
}
