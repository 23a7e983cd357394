#include "acl/command_rights.h"
#include "acl/evaluate.h"

struct acl_rule {
	const char *name;
	acl_rights rights;
	bool any;           /* one of rights suffices */
};

/* RFC 4314 §4's table, one row per check; see command_rights.h for the
 * reasons behind each row. */
static const struct acl_rule acl_rules[ACL_OP_COUNT] = {
	[ACL_OP_NONE]           = { "none", 0, false },
	[ACL_OP_LIST]           = { "LIST", ACL_LOOKUP, false },
	[ACL_OP_SUBSCRIBE]      = { "SUBSCRIBE", 0, false },
	[ACL_OP_UNSUBSCRIBE]    = { "UNSUBSCRIBE", 0, false },
	[ACL_OP_CREATE]         = { "CREATE (parent)", ACL_CREATE, false },
	[ACL_OP_DELETE]         = { "DELETE", ACL_DELETE_MAILBOX, false },
	[ACL_OP_RENAME_SOURCE]  = { "RENAME (source)", ACL_DELETE_MAILBOX, false },
	[ACL_OP_RENAME_TARGET]  = { "RENAME (new parent)", ACL_CREATE, false },
	[ACL_OP_SELECT]         = { "SELECT", ACL_READ, false },
	[ACL_OP_EXAMINE]        = { "EXAMINE", ACL_READ, false },
	[ACL_OP_STATUS]         = { "STATUS", ACL_READ, false },
	[ACL_OP_APPEND]         = { "APPEND", ACL_INSERT, false },
	[ACL_OP_COPY]           = { "COPY (target)", ACL_INSERT, false },
	[ACL_OP_MOVE_SOURCE]    = { "MOVE (source)", ACL_DELETE_MSG | ACL_EXPUNGE, false },
	[ACL_OP_MOVE_TARGET]    = { "MOVE (target)", ACL_INSERT, false },
	[ACL_OP_EXPUNGE]        = { "EXPUNGE", ACL_EXPUNGE, false },
	[ACL_OP_STORE]          = { "STORE", 0, false },
	[ACL_OP_SETACL]         = { "SETACL", ACL_ADMIN, false },
	[ACL_OP_DELETEACL]      = { "DELETEACL", ACL_ADMIN, false },
	[ACL_OP_GETACL]         = { "GETACL", ACL_ADMIN, false },
	[ACL_OP_LISTRIGHTS]     = { "LISTRIGHTS", ACL_ADMIN, false },
	[ACL_OP_MYRIGHTS]       = { "MYRIGHTS", ACL_LOOKUP | ACL_READ | ACL_INSERT | ACL_CREATE |
					ACL_DELETE_MAILBOX | ACL_ADMIN, true },
};

/* An operation outside the table is a programming error; refusing
 * everything for it fails closed. */
static const struct acl_rule acl_rule_unknown = { "unknown", ACL_ALL, false };

static const struct acl_rule *acl_rule(enum acl_operation op)
{
	if ((unsigned)op >= ACL_OP_COUNT || acl_rules[op].name == NULL)
		return &acl_rule_unknown;
	return &acl_rules[op];
}

acl_rights acl_required_for(enum acl_operation op)
{
	return acl_rule(op)->rights;
}

bool acl_required_any(enum acl_operation op)
{
	return acl_rule(op)->any;
}

const char *acl_operation_name(enum acl_operation op)
{
	return acl_rule(op)->name;
}

enum acl_decision acl_check(enum acl_operation op, acl_rights rights)
{
	const struct acl_rule *rule = acl_rule(op);
	bool ok;

	if (rule == &acl_rule_unknown)
		ok = false;
	else if (rule->any)
		ok = (rights & rule->rights) != 0;
	else
		ok = (rights & rule->rights) == rule->rights;
	if (ok)
		return ACL_ALLOW;
	return acl_may_know_exists(rights) ? ACL_DENY_NOPERM : ACL_DENY_NONEXISTENT;
}

acl_rights acl_namespace_root_rights(bool owner)
{
	return owner ? ACL_ALL : 0;
}

/* Flags whose right is "w": everything but \Seen and \Deleted, including
 * bits this table does not know, so a new flag needs a right by default. */
#define ACL_FLAGS_WRITE (~(ACL_FLAG_SEEN | ACL_FLAG_DELETED))

acl_rights acl_store_rights(unsigned system_flags, bool keywords)
{
	acl_rights r = 0;

	if (system_flags & ACL_FLAG_SEEN)
		r |= ACL_SEEN;
	if (system_flags & ACL_FLAG_DELETED)
		r |= ACL_DELETE_MSG;
	if ((system_flags & ACL_FLAGS_WRITE) != 0 || keywords)
		r |= ACL_WRITE;
	return r;
}

bool acl_store_permitted(acl_rights rights, unsigned system_flags, bool keywords,
			 unsigned *system_flags_r, bool *keywords_r)
{
	unsigned allowed = 0;

	if (rights & ACL_SEEN)
		allowed |= ACL_FLAG_SEEN;
	if (rights & ACL_DELETE_MSG)
		allowed |= ACL_FLAG_DELETED;
	if (rights & ACL_WRITE)
		allowed |= ACL_FLAGS_WRITE;
	*system_flags_r = system_flags & allowed;
	*keywords_r = keywords && (rights & ACL_WRITE) != 0;
	if (system_flags == 0 && !keywords)
		return true;
	return *system_flags_r != 0 || *keywords_r;
}

bool acl_fetch_may_set_seen(acl_rights rights)
{
	return (rights & ACL_SEEN) != 0;
}
