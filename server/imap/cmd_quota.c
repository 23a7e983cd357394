/* GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208 §4.1). A quota root is an
 * owner account (server/imap/quota.h), named as the caller sees the
 * owner's root: "" for the caller's own mailboxes, "Other Users/<login>"
 * for another person's, "Shared/<name>" for a shared account's subtree.
 *
 * Who sees a root: its owner, an admin (auth_admin_group), and whoever may
 * read ("r") the root's mailbox itself (the owner's INBOX, which is the
 * team mailbox "Shared/<name>"). Anyone else is told the root does not
 * exist, as a mailbox without "l" does not (RFC 4314 §4). Only admins set
 * limits; everyone else gets NO [NOPERM]. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/namespace.h"
#include "server/imap/quota.h"
#include "server/imap/rights.h"
#include "server/imap/writer.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

/* RFC 9208 §9: number64 is a 63-bit limit; a SETQUOTA list has each
 * resource once, and we know two. */
#define SETQUOTA_MAX_ITEMS 16
#define QUOTA_LIMIT_MAX INT64_MAX

struct quota_root_arg {
	const struct imap_arg *name;   /* as the client sent it */
	int64_t limit[DB_QUOTA_NRESOURCES];
	bool given[DB_QUOTA_NRESOURCES];
};

struct quota_root {
	int64_t owner_id;
	const char *name;    /* UTF-8, as the caller sees it */
	bool visible;
};

/* The root's name for an owner as s sees it, from the resolved root or
 * mailbox name. */
static const char *root_name(struct imap_session *s, const struct imap_mailbox_acl *acl)
{
	if (acl->owner_id == s->account_id)
		return "";
	return imap_ns_join(&s->arena, acl->where.ns == IMAP_NS_TEAM, acl->where.login, "");
}

static bool root_visible(const struct imap_session *s, const struct imap_mailbox_acl *root)
{
	return s->admin || root->owner_id == s->account_id ||
	       (root->exists && (root->rights & ACL_READ) != 0);
}

/* Resolves the root named name (UTF-8): "" or another owner's root. false
 * with *res_r on a store failure; an unknown or invisible root has
 * owner_id 0. */
static bool root_resolve(struct imap_session *s, struct imap_backend *be, const char *name,
			 struct quota_root *root, struct imap_result *res_r)
{
	struct imap_mailbox_acl *acl = arena_alloc(&s->arena, sizeof(*acl));
	struct imap_ns_name where;

	memset(root, 0, sizeof(*root));
	if (name[0] == '\0') {
		root->owner_id = s->account_id;
		root->name = "";
		root->visible = true;
		return true;
	}
	imap_ns_split(&s->arena, name, strlen(name), &where);
	if (where.ns == IMAP_NS_PERSONAL || where.login == NULL || where.name[0] != '\0')
		return true;
	if (!imap_mailbox_resolve(s, be, name, acl, res_r))
		return false;
	if (acl->owner_id == 0)
		return true;
	root->owner_id = acl->owner_id;
	root->name = root_name(s, acl);
	root->visible = root_visible(s, acl);
	return true;
}

/* "* QUOTA root (STORAGE used limit MESSAGE used limit)": the limited
 * resources only (RFC 9208 §5.1: "Resources not named in the list are
 * not limited"). false when none is limited: then the root is not one. */
static bool write_quota(struct imap_session *s, const char *name, const struct db_quota *q)
{
	const char *sep = "";
	bool any = false;

	for (int r = 0; r < DB_QUOTA_NRESOURCES; r++)
		any = any || quota_limit(q, s->cfg, r) >= 0;
	if (!any)
		return false;
	buf_append_str(&s->out, "* QUOTA ");
	imap_write_mailbox(s, &s->out, name, strlen(name));
	buf_append_str(&s->out, " (");
	for (int r = 0; r < DB_QUOTA_NRESOURCES; r++) {
		int64_t limit = quota_limit(q, s->cfg, r);
		if (limit < 0)
			continue;
		buf_appendf(&s->out, "%s%s %" PRIu64 " %" PRId64, sep, db_quota_resource_name(r),
			    quota_usage(q, r), limit);
		sep = " ";
	}
	buf_append_str(&s->out, ")\r\n");
	return true;
}

/* The root name: "" or a mailbox-like name, decoded as mailbox names are
 * (modified UTF-7, or UTF-8 after ENABLE UTF8=ACCEPT). */
static bool root_arg(struct imap_session *s, const struct imap_arg *arg, const char **name_r,
		     struct imap_result *res_r)
{
	const char *raw, *problem;
	enum imap_name_status st;
	size_t len;

	if (!imap_arg_astring(arg, &raw, &len)) {
		*res_r = imap_bad(s, NULL, "%s expects a quota root name", s->cmd->name);
		return false;
	}
	if (len == 0) {
		*name_r = "";
		return true;
	}
	if ((st = imap_mailbox_arg(s, arg, name_r, &len, &problem)) != IMAP_NAME_OK) {
		*res_r = imap_mailbox_name_refused(s, st, "NONEXISTENT", problem);
		return false;
	}
	return true;
}

struct imap_result imap_check_getquota(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 1 || !imap_arg_astring(&cmd->args[0], &(const char *){ NULL },
						 &(size_t){ 0 }))
		return imap_bad(s, NULL, "GETQUOTA expects one quota root name");
	return imap_ok(s, NULL, "checked");
}

static struct imap_result no_such_root(struct imap_session *s)
{
	return imap_no(s, "NONEXISTENT", "No such quota root");
}

/* RFC 9208 §4.1.1. */
struct imap_result cmd_getquota(struct imap_session *s, const struct imap_command *cmd,
				struct imap_backend *be)
{
	struct quota_root root;
	struct imap_result res;
	struct db_quota q;
	const char *name;
	char err[256];

	if (!root_arg(s, &cmd->args[0], &name, &res) || !root_resolve(s, be, name, &root, &res))
		return res;
	if (root.owner_id == 0 || !root.visible)
		return no_such_root(s);
	switch (db_quota_get(be->db, root.owner_id, &q, err, sizeof(err))) {
	case DB_OK:
		break;
	case DB_NOT_FOUND:
		return no_such_root(s);
	default:
		return imap_store_failed(s, "reading the quota", err);
	}
	if (!write_quota(s, root.name, &q))
		return no_such_root(s);
	return imap_done(s);
}

/* RFC 9208 §4.1.2: dispatch resolved the mailbox and checked "r" on it
 * (what STATUS needs). The mailbox has one root, its owner's, listed when
 * it has a limit and the caller may see it; otherwise none. */
struct imap_result cmd_getquotaroot(struct imap_session *s, const struct imap_command *cmd,
				    struct imap_backend *be)
{
	const struct imap_mailbox_acl *mbox = s->mailbox;
	struct quota_root root = { 0 };
	struct imap_result res;
	struct db_quota q;
	char err[256];
	bool limited = false;

	if (mbox->owner_id == s->account_id) {
		root.owner_id = s->account_id;
		root.name = "";
		root.visible = true;
	} else if (!root_resolve(s, be, root_name(s, mbox), &root, &res)) {
		return res;
	}
	if (root.owner_id != 0 && root.visible) {
		switch (db_quota_get(be->db, root.owner_id, &q, err, sizeof(err))) {
		case DB_OK:
			for (int r = 0; r < DB_QUOTA_NRESOURCES; r++)
				limited = limited || quota_limit(&q, s->cfg, r) >= 0;
			break;
		case DB_NOT_FOUND:
			break;
		default:
			return imap_store_failed(s, "reading the quota", err);
		}
	}
	buf_append_str(&s->out, "* QUOTAROOT ");
	imap_write_mailbox_arg(s, &s->out, &cmd->args[0]);
	if (limited) {
		buf_append_str(&s->out, " ");
		imap_write_mailbox(s, &s->out, root.name, strlen(root.name));
	}
	buf_append_str(&s->out, "\r\n");
	if (limited)
		(void)write_quota(s, root.name, &q);
	return imap_done(s);
}

static int resource_index(const char *name)
{
	for (int r = 0; r < DB_QUOTA_NRESOURCES; r++)
		if (strcasecmp(name, db_quota_resource_name(r)) == 0)
			return r;
	return -1;
}

/* setquota = "SETQUOTA" SP quota-root-name SP setquota-list;
 * setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")";
 * setquota-resource = resource-name SP resource-limit (RFC 9208 §9). */
struct imap_result imap_check_setquota(struct imap_session *s, const struct imap_command *cmd)
{
	struct quota_root_arg *req = arena_alloc(&s->arena, sizeof(*req));
	const struct imap_arg *list;
	size_t count;

	memset(req, 0, sizeof(*req));
	if (cmd->nargs != 2 || !imap_arg_astring(&cmd->args[0], &(const char *){ NULL },
						 &(size_t){ 0 }) ||
	    cmd->args[1].type != IMAP_ARG_LIST)
		return imap_bad(s, NULL, "SETQUOTA expects a quota root name and a list of limits");
	list = cmd->args[1].u.list.items;
	count = cmd->args[1].u.list.count;
	if (count % 2 != 0)
		return imap_bad(s, NULL, "SETQUOTA expects each resource name followed by its limit");
	if (count / 2 > SETQUOTA_MAX_ITEMS)
		return imap_bad(s, NULL, "SETQUOTA takes at most %d resources", SETQUOTA_MAX_ITEMS);
	for (size_t i = 0; i < count; i += 2) {
		const char *resource;
		uint64_t limit;
		int r;

		if (!imap_arg_atom(&list[i], &resource))
			return imap_bad(s, NULL, "SETQUOTA expects a resource name (an atom)");
		if (!imap_arg_number(&list[i + 1], QUOTA_LIMIT_MAX, false, &limit))
			return imap_bad(s, NULL, "Invalid limit for %s: a number up to 2^63-1 expected",
					resource);
		if ((r = resource_index(resource)) < 0)
			return imap_no(s, NULL, "Unsupported quota resource %s (STORAGE and MESSAGE are)",
				       resource);
		if (req->given[r])
			return imap_bad(s, NULL, "Resource %s given twice", db_quota_resource_name(r));
		req->given[r] = true;
		req->limit[r] = (int64_t)limit;
	}
	req->name = &cmd->args[0];
	s->parsed = req;
	return imap_ok(s, NULL, "checked");
}

/* RFC 9208 §4.1.3: "Any previous resource limits for the named quota root
 * are discarded": a resource left out has no limit afterwards (not even
 * kairan.conf's default). Admins only. */
struct imap_result cmd_setquota(struct imap_session *s, const struct imap_command *cmd,
				struct imap_backend *be)
{
	struct quota_root_arg *req = s->parsed;
	const int64_t *limits[DB_QUOTA_NRESOURCES];
	int64_t none = DB_QUOTA_NONE;
	struct quota_root root;
	struct imap_result res;
	struct db_quota q;
	const char *name;
	char err[256];

	(void)cmd;
	if (!root_arg(s, req->name, &name, &res) || !root_resolve(s, be, name, &root, &res))
		return res;
	if (!s->admin) {
		if (root.owner_id == 0 || !root.visible)
			return no_such_root(s);
		return imap_no(s, "NOPERM", "Only administrators may set quotas");
	}
	if (root.owner_id == 0)
		return no_such_root(s);
	for (int r = 0; r < DB_QUOTA_NRESOURCES; r++)
		limits[r] = req->given[r] ? &req->limit[r] : &none;
	if (db_quota_set(be->db, root.owner_id, limits, err, sizeof(err)) != DB_OK)
		return imap_store_failed(s, "setting the quota", err);
	if (db_quota_get(be->db, root.owner_id, &q, err, sizeof(err)) == DB_OK)
		(void)write_quota(s, root.name, &q);
	return imap_done(s);
}
