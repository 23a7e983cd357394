/* Opening and closing mailboxes: SELECT, EXAMINE (RFC 3501 §6.3.1-2),
 * CHECK, CLOSE (§6.4.1-2), UNSELECT (RFC 3691). */
#include "server/imap/commands.h"
#include "server/imap/args.h"
#include "server/imap/msgset.h"
#include "server/imap/objectid.h"
#include "server/imap/rights.h"
#include "server/imap/seqset.h"
#include "server/imap/view.h"
#include "schema/db_mailbox.h"
#include "schema/db_message.h"

#include <stdlib.h>
#include <string.h>

/* SELECT and EXAMINE parameters (RFC 4466 §2.1): CONDSTORE (RFC 7162
 * §3.1.8) and QRESYNC (§3.2.5). */
struct select_params {
	bool qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct db_uid_ranges known;     /* known-uids; count 0: every UID */
};

/* At most this many ranges in known-uids and seq-match-data. */
#define QRESYNC_MAX_RANGES 100000

/* A sequence-set argument as UID ranges (not "$", '*' as the highest UID). */
static bool uid_set_arg(struct imap_session *s, const struct imap_arg *a, struct db_uid_ranges *out)
{
	struct imap_seqset set;
	uint32_t *lo, *hi;

	if (a->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(&s->arena, a->u.str.data, a->u.str.len, QRESYNC_MAX_RANGES, &set) < 0 ||
	    set.saved)
		return false;
	imap_seqset_resolve(&s->arena, &set, UINT32_MAX, false, &set);
	lo = arena_alloc(&s->arena, (set.count ? set.count : 1) * sizeof(*lo));
	hi = arena_alloc(&s->arena, (set.count ? set.count : 1) * sizeof(*hi));
	for (size_t i = 0; i < set.count; i++) {
		lo[i] = set.ranges[i].lo;
		hi[i] = set.ranges[i].hi;
	}
	*out = (struct db_uid_ranges){ lo, hi, set.count };
	return true;
}

/* "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids]
 * [SP seq-match-data] ")"; seq-match-data = "(" known-sequence-set SP
 * known-uid-set ")". The seq-match-data only narrows what a server must
 * report; every change is reported here, so it is checked and not used. */
static const char *qresync_param(struct imap_session *s, const struct imap_arg *a,
				 struct select_params *p)
{
	const struct imap_arg *it = a->u.list.items;
	size_t n = a->u.list.count, i = 2;
	uint64_t v;
	struct db_uid_ranges ignored;

	if (a->type != IMAP_ARG_LIST || n < 2 || n > 4)
		return "QRESYNC expects (uidvalidity modseq [known-uids] [seq-match-data])";
	if (!imap_arg_modseq(&it[0], &v) || v == 0 || v > UINT32_MAX)
		return "Invalid QRESYNC UIDVALIDITY";
	p->uidvalidity = (uint32_t)v;
	if (!imap_arg_modseq(&it[1], &p->modseq) || p->modseq == 0)
		return "Invalid QRESYNC mod-sequence";
	if (i < n && it[i].type == IMAP_ARG_ATOM && !uid_set_arg(s, &it[i++], &p->known))
		return "Invalid QRESYNC known-uids";
	if (i < n) {
		const struct imap_arg *m = it[i].u.list.items;
		if (it[i].type != IMAP_ARG_LIST || it[i].u.list.count != 2 ||
		    !uid_set_arg(s, &m[0], &ignored) || !uid_set_arg(s, &m[1], &ignored))
			return "Invalid QRESYNC seq-match-data";
		i++;
	}
	return i == n ? NULL : "Invalid QRESYNC parameter";
}

static const char *select_params(struct imap_session *s, const struct imap_arg *list,
				 struct select_params *p)
{
	const struct imap_arg *it = list->u.list.items;

	if (list->type != IMAP_ARG_LIST || list->u.list.count == 0)
		return "Expected a list of SELECT parameters";
	for (size_t i = 0; i < list->u.list.count; i++) {
		const char *problem;
		if (imap_arg_atom_is(&it[i], "CONDSTORE"))
			s->condstore = true;      /* RFC 7162 §3.1: an enabling command */
		else if (imap_arg_atom_is(&it[i], "QRESYNC")) {
			/* §3.2.5: QRESYNC before ENABLE QRESYNC is a protocol error. */
			if (!s->qresync)
				return "QRESYNC must be enabled first (ENABLE QRESYNC)";
			if (p->qresync || i + 1 >= list->u.list.count)
				return "Invalid QRESYNC parameter";
			if ((problem = qresync_param(s, &it[++i], p)) != NULL)
				return problem;
			p->qresync = true;
		} else
			return "Unknown SELECT parameter";
	}
	return NULL;
}

struct imap_result imap_check_no_args(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0)
		return imap_bad(s, NULL, "%s takes no arguments", cmd->name);
	return imap_ok(s, NULL, "checked");
}

/* The mailbox name itself is checked by dispatch (mailbox_arg). */
struct imap_result imap_check_select(struct imap_session *s, const struct imap_command *cmd)
{
	struct select_params *p = arena_alloc(&s->arena, sizeof(*p));
	const char *problem;

	memset(p, 0, sizeof(*p));
	if (cmd->nargs != 1 && cmd->nargs != 2)
		return imap_bad(s, NULL, "%s expects one mailbox name and its parameters", cmd->name);
	if (cmd->nargs == 2 && (problem = select_params(s, &cmd->args[1], p)) != NULL)
		return imap_bad(s, NULL, "%s", problem);
	s->parsed = p;
	return imap_ok(s, NULL, "checked");
}

/* RFC 9051 §6.3.2: "The server MUST return a LIST response with the
 * mailbox name", its attributes accurate: special-use, and whether it has
 * inferiors when the caller owns it (another owner's inferiors may be
 * hidden from the caller, so nothing is said of them). The name is the
 * canonical one (INBOX in capitals), which may differ from the client's. */
static bool write_list(struct imap_session *s, struct imap_backend *be,
		       const struct imap_mailbox_acl *acl, struct imap_result *res_r)
{
	char special_use[256], err[256];
	bool children = false;
	enum db_mbox_result r;

	r = db_mailbox_attributes(be->db, acl->owner_id, acl->store_name, &children,
				  special_use, sizeof(special_use), err, sizeof(err));
	if (r == DB_MBOX_FAILED) {
		*res_r = imap_store_failed(s, "reading the mailbox's attributes", err);
		return false;
	}
	if (r != DB_MBOX_OK)
		special_use[0] = '\0';   /* deleted meanwhile: the next command says so */
	imap_list_write_selected(s, acl->name, strlen(acl->name),
				 acl->owner_id == s->account_id ? children : -1, special_use);
	return true;
}

/* Dispatch has deselected (§6.3.1: even a failing SELECT does), resolved
 * the mailbox and checked "r". */
static struct imap_result select_mailbox(struct imap_session *s, struct imap_backend *be,
					 bool readonly)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	const struct select_params *params = s->parsed;
	struct imap_result res;
	struct imap_view *v;
	uint32_t first_unseen, unseen_msn;
	char id[IMAP_OBJECTID_BUF];

	/* RFC 4314 §4: with "r" but none of the rights to change anything,
	 * the mailbox opens read-only. */
	if (!(acl->rights & (ACL_SEEN | ACL_WRITE | ACL_INSERT | ACL_DELETE_MSG | ACL_EXPUNGE)))
		readonly = true;
	if (!imap_view_open(s, be, acl, readonly, &first_unseen, &res))
		return res;
	v = s->view;
	imap_session_set_state(s, IMAP_STATE_SELECTED);

	imap_view_write_flags(s, v);
	imap_untagged(s, "%u EXISTS", imap_view_count(v));
	if (s->imap4rev2) {
		if (!write_list(s, be, acl, &res)) {
			imap_session_unselect(s);   /* §6.3.2: a failed SELECT */
			return res;
		}
	} else {
		/* RFC 3501 only: RFC 9051 Appendix E drops both. */
		imap_untagged(s, "%u RECENT", imap_view_recent_count(v));
		unseen_msn = first_unseen != 0 ? imap_view_msn(v, first_unseen) : 0;
		if (unseen_msn != 0)
			imap_untagged(s, "OK [UNSEEN %u] First unseen message", unseen_msn);
	}
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", v->uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", v->uidnext);
	/* RFC 7162 §3.1.2.1: the reader's HIGHESTMODSEQ (migrations/0011). */
	imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
		      (unsigned long long)imap_view_highestmodseq(v));
	/* RFC 8474 §4.2 (objectid.h). */
	imap_untagged(s, "OK [MAILBOXID (%s)] Ok", imap_mailboxid(id, v->mailbox_id, v->uidvalidity));
	/* §3.2.5: what changed since the client's modseq, when it knows this
	 * UIDVALIDITY; VANISHED (EARLIER) first, then the FETCHes. */
	if (params != NULL && params->qresync && params->uidvalidity == v->uidvalidity) {
		if (!imap_report_vanished_since(s, be, params->known.count ? &params->known : NULL,
						params->modseq, &res))
			return res;
		res = imap_fetch_changed_since(s, be, params->modseq);
		if (!imap_result_ok(&res))
			return res;
	}
	return imap_ok(s, readonly ? "READ-ONLY" : "READ-WRITE", "%s completed", s->cmd->name);
}

struct imap_result cmd_select(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	(void)cmd;
	return select_mailbox(s, be, false);
}

struct imap_result cmd_examine(struct imap_session *s, const struct imap_command *cmd,
			       struct imap_backend *be)
{
	(void)cmd;
	return select_mailbox(s, be, true);
}

/* §6.4.1: nothing to flush (every change is committed before its OK);
 * like NOOP it reports what changed, which dispatch did. */
struct imap_result cmd_check(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	return imap_done(s);
}

static void noop_expunge(void *ctx, uint32_t uid, uint64_t modseq)
{
	(void)ctx;
	(void)uid;
	(void)modseq;
}

/* §6.4.2: CLOSE expunges silently (read-write only, and RFC 4314 §4: only
 * with "e", never failing for its lack); UNSELECT does not. */
struct imap_result cmd_close(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be)
{
	char err[256];

	(void)cmd;
	if (s->view != NULL && !s->view->readonly && (s->view->rights & ACL_EXPUNGE)) {
		if (db_expunge(be->db, s->view->mailbox_id, NULL, noop_expunge, NULL, err,
			       sizeof(err)) == DB_FAILED)
			return imap_store_failed(s, "expunging at CLOSE", err);
		imap_session_changed(s, s->view->mailbox_id);
	}
	imap_session_unselect(s);
	return imap_done(s);
}

struct imap_result cmd_unselect(struct imap_session *s, const struct imap_command *cmd,
				struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	imap_session_unselect(s);
	return imap_done(s);
}
