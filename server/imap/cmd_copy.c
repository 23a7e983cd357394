/* COPY / UID COPY (RFC 3501 §6.4.7) and MOVE / UID MOVE (RFC 6851), with
 * COPYUID (RFC 4315). The rights are in the table: "i" on the target
 * (checked by dispatch on the mailbox it resolved), and for MOVE "t" and
 * "e" on the selected mailbox, read-write. */
#include "server/imap/commands.h"
#include "server/imap/msgset.h"
#include "server/imap/quota.h"
#include "server/imap/rights.h"
#include "server/imap/view.h"
#include "server/core/activity.h"
#include "schema/db_message.h"

#include <stdio.h>
#include <string.h>

struct copy_ctx {
	struct imap_session *s;
	uint32_t uidvalidity;
	struct imap_uid_range *runs;   /* the source UIDs, as ascending runs */
	size_t nruns, runs_cap;
	uint32_t dst_lo, dst_hi;       /* the new UIDs: consecutive */
	size_t copied;
	uint32_t *expunged;            /* MOVE: the source UIDs removed, ascending */
	size_t nexpunged, expunged_cap;
};

static void copy_destination(void *ctx, uint32_t uidvalidity)
{
	((struct copy_ctx *)ctx)->uidvalidity = uidvalidity;
}

static void copy_copied(void *ctx, uint32_t src, uint32_t dst)
{
	struct copy_ctx *c = ctx;

	if (c->nruns > 0 && src == c->runs[c->nruns - 1].hi + 1) {
		c->runs[c->nruns - 1].hi = src;
	} else {
		c->runs = arena_grow(&c->s->arena, c->runs, c->nruns, &c->runs_cap, sizeof(*c->runs));
		c->runs[c->nruns++] = (struct imap_uid_range){ src, src };
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

	c->expunged = arena_grow(&c->s->arena, c->expunged, c->nexpunged, &c->expunged_cap,
				 sizeof(*c->expunged));
	c->expunged[c->nexpunged++] = uid;
}

/* RFC 4315 §3: "COPYUID uidvalidity source-set dest-set", in the arena. */
static const char *copyuid(struct imap_session *s, const struct copy_ctx *c)
{
	/* Each run is at most "4294967295:4294967295," (22 bytes). */
	size_t room = 64 + 22 * c->nruns, at;
	char *out = arena_alloc(&s->arena, room);

	at = (size_t)snprintf(out, room, "COPYUID %u ", c->uidvalidity);
	for (size_t i = 0; i < c->nruns; i++)
		at += (size_t)snprintf(out + at, room - at, c->runs[i].lo == c->runs[i].hi ?
				       "%s%u" : "%s%u:%u", i > 0 ? "," : "", c->runs[i].lo,
				       c->runs[i].hi);
	snprintf(out + at, room - at, c->dst_lo == c->dst_hi ? " %u" : " %u:%u", c->dst_lo,
		 c->dst_hi);
	return out;
}

/* RFC 6851 §4.3: "Servers implementing UIDPLUS are also advised to send
 * the COPYUID response code in an untagged OK before sending EXPUNGE or
 * moved responses." */
static void report_moved(struct imap_session *s, const struct copy_ctx *c, const char *code)
{
	if (code != NULL)
		imap_untagged(s, "OK [%s] Moved", code);
	imap_view_report_expunges(s, c->expunged, c->nexpunged);
}

/* The copies landed in the selected mailbox itself (RFC 6851 §3.3, RFC
 * 3501 §6.4.7): the client learns of them at once with EXISTS, as after
 * an APPEND to it; MOVE's EXPUNGEs came first. A failure to read them
 * only delays that to the next command. */
static void report_copies(struct imap_session *s, struct imap_backend *be)
{
	struct imap_result ignored;

	(void)imap_view_sync(s, be, !(s->def->flags & IMAP_CMD_HOLD_EXPUNGE), NULL, &ignored);
}

struct imap_result imap_check_copy(struct imap_session *s, const struct imap_command *cmd)
{
	struct db_uid_ranges *set = arena_alloc(&s->arena, sizeof(*set));
	const char *problem;

	if (cmd->nargs != 2)
		return imap_bad(s, NULL, "%s expects a sequence set and a mailbox", cmd->name);
	if (imap_msgset(s, &cmd->args[0], cmd->name[0] == 'U', set, &problem) < 0)
		return imap_bad(s, NULL, "%s", problem);
	s->parsed = set;
	return imap_ok(s, NULL, "checked");
}

/* RFC 9208 §4.3: NO [OVERQUOTA] when the copies would pass the target
 * root's limits. The messages are measured only when the root has a
 * limit, and a MOVE within one root is never refused: it frees what it
 * takes (the RFC wants MOVE to work at the limit). */
static bool copy_quota_fits(struct imap_session *s, struct imap_backend *be,
			    const struct db_uid_ranges *set, int64_t owner_id, bool move,
			    struct imap_result *res_r)
{
	uint64_t messages, bytes;
	enum db_quota_resource over;
	struct db_quota q;
	int64_t source_owner;
	char err[256];

	switch (db_quota_get(be->db, owner_id, &q, err, sizeof(err))) {
	case DB_OK:
		break;
	case DB_NOT_FOUND:
		return true;
	default:
		*res_r = imap_store_failed(s, "reading the quota", err);
		return false;
	}
	if (quota_limit(&q, s->cfg, DB_QUOTA_STORAGE) < 0 && quota_limit(&q, s->cfg, DB_QUOTA_MESSAGE) < 0)
		return true;
	switch (db_quota_selection(be->db, s->view->mailbox_id, set, &source_owner, &messages, &bytes,
				   err, sizeof(err))) {
	case DB_OK:
		break;
	case DB_NOT_FOUND:
		return true;   /* the copy will find the source gone */
	default:
		*res_r = imap_store_failed(s, "reading the quota", err);
		return false;
	}
	if ((move && source_owner == owner_id) || !quota_exceeded(&q, s->cfg, bytes, messages, &over))
		return true;
	*res_r = imap_quota_refused(s, over);
	return false;
}

/* Dispatch has parsed the set, checked "i" on the target when it exists
 * and, for MOVE, that the selected mailbox is read-write with "t" and "e".
 * RFC 6851 §4.2: "The ACL rights [RFC4314] required for MOVE and UID MOVE
 * are the union of the ACL rights required for UID STORE, UID COPY, and
 * UID EXPUNGE." */
struct imap_result cmd_copy(struct imap_session *s, const struct imap_command *cmd,
			    struct imap_backend *be)
{
	bool move = strstr(cmd->name, "MOVE") != NULL;
	const struct db_uid_ranges *set = s->parsed;
	const struct imap_mailbox_acl *target = s->mailbox;
	struct copy_ctx c = { .s = s };
	struct db_copy_cb cb = { &c, copy_destination, copy_copied, copy_expunged, copy_keywords_dropped };
	struct imap_result res;
	const char *name, *code = NULL;
	unsigned keep = 31u;
	bool keywords = true;
	enum db_result r;
	char err[256];

	/* TRYCREATE for a personal name, else NONEXISTENT. */
	if ((name = imap_target_store_name(s, target, &res)) == NULL)
		return res;
	/* RFC 4314 §4: "Only when the user has a particular right are the
	 * corresponding flags stored for the newly created message. The
	 * server MUST NOT fail a COPY/APPEND if the user has no rights to set
	 * a particular flag." A missing personal target has no ACL (the store
	 * answers TRYCREATE). */
	if (target->exists)
		(void)acl_store_permitted(target->rights, 31u, true, &keep, &keywords);
	if (target->exists && !copy_quota_fits(s, be, set, target->owner_id, move, &res))
		return res;
	activity_begin(be->writes);
	r = db_copy(be->db, s->account_id, s->view->mailbox_id, set, target->owner_id, name, move,
		    keep, keywords, s->cfg->max_keywords_per_mailbox, &cb, err, sizeof(err));
	activity_end(be->writes);
	if (r == DB_FAILED)
		return imap_store_failed(s, move ? "moving" : "copying", err);
	/* RFC 3501 §6.4.7: "Unless it is certain that the destination
	 * mailbox can not be created, the server MUST send the response code
	 * "[TRYCREATE]"": the client may CREATE it and try again. */
	if (r == DB_NOT_FOUND)
		return imap_no(s, "TRYCREATE", "No such mailbox");
	if (target->exists)
		imap_session_changed(s, target->mailbox_id);
	if (move)
		imap_session_changed(s, s->view->mailbox_id);
	if (c.copied > 0)
		code = copyuid(s, &c);
	if (move)
		report_moved(s, &c, code);
	if (target->exists && target->mailbox_id == s->view->mailbox_id)
		report_copies(s, be);
	if (!move)
		return imap_ok(s, code, "%s completed", cmd->name);
	return imap_done(s);
}
