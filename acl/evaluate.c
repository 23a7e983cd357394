#include "acl/evaluate.h"
#include "acl/identifier.h"

#include <string.h>

bool acl_identifier_matches(const struct acl_identifier *id, const struct acl_caller *caller)
{
	switch (id->kind) {
	case ACL_ID_ANYONE:
		return true;
	case ACL_ID_AUTHENTICATED:
		return caller->authenticated;
	case ACL_ID_USER:
		return caller->authenticated && caller->login_len == id->name_len &&
		       id->name_len > 0 && memcmp(caller->login, id->name, id->name_len) == 0;
	case ACL_ID_GROUP:
		if (!caller->authenticated)
			return false;
		for (size_t i = 0; i < caller->ngroups; i++)
			if (acl_group_name_equal(caller->groups[i].s, caller->groups[i].len,
						 id->name, id->name_len))
				return true;
		return false;
	}
	return false;
}

int acl_evaluate(const struct acl_caller *caller, bool owner,
		 const struct acl_entry *entries, size_t nentries,
		 acl_rights *rights_r, size_t *bad_entry_r)
{
	acl_rights implicit = 0, positive = 0, negative = 0;
	bool owner_named = false;

	/* Ownership and admin membership come from a login; without one the
	 * flags cannot be true, whatever the caller passed. */
	owner = owner && caller->authenticated;
	if (owner)
		implicit |= ACL_OWNER_IMPLICIT;
	if (caller->admin && caller->authenticated)
		implicit |= ACL_ADMIN_IMPLICIT;

	for (size_t i = 0; i < nentries; i++) {
		struct acl_identifier id;
		acl_rights r;

		if (acl_identifier_parse(entries[i].identifier, entries[i].identifier_len,
					 &id) != ACL_ID_OK ||
		    acl_rights_parse(entries[i].rights, entries[i].rights_len, &r) != 0) {
			if (bad_entry_r != NULL)
				*bad_entry_r = i;
			*rights_r = implicit;
			return -1;
		}
		if (!acl_identifier_matches(&id, caller))
			continue;
		if (id.negative) {
			negative |= r;
		} else {
			positive |= r;
			/* A matching positive user entry is the caller's own. */
			if (owner && id.kind == ACL_ID_USER)
				owner_named = true;
		}
	}
	/* The owner's default: everything, until an entry names them. The
	 * rights other entries grant are a subset of ALL, so the union with
	 * them is ALL too. */
	if (owner && !owner_named)
		positive = ACL_ALL;
	*rights_r = (positive & ~negative) | implicit;
	return 0;
}

bool acl_may_know_exists(acl_rights rights)
{
	return (rights & (ACL_LOOKUP | ACL_READ)) != 0;
}
