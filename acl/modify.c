#include "acl/modify.h"
#include "acl/evaluate.h"

int acl_change_parse(const char *s, size_t len, struct acl_change *change_r)
{
	struct acl_change c = { ACL_CHANGE_REPLACE, 0 };

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		c.mode = s[0] == '+' ? ACL_CHANGE_ADD : ACL_CHANGE_REMOVE;
		s++;
		len--;
	}
	/* acl_rights_parse refuses a second sign, digits, uppercase and NUL. */
	if (acl_rights_parse(s, len, &c.rights) != 0)
		return -1;
	*change_r = c;
	return 0;
}

acl_rights acl_change_apply(const struct acl_change *change, const acl_rights *stored,
			    bool names_owner)
{
	acl_rights base, result = 0;

	if (stored != NULL)
		base = *stored & ACL_ALL;
	else
		base = names_owner ? ACL_ALL : 0;

	switch (change->mode) {
	case ACL_CHANGE_REPLACE:
		result = change->rights;
		break;
	case ACL_CHANGE_ADD:
		result = base | change->rights;
		break;
	case ACL_CHANGE_REMOVE:
		result = base & ~change->rights;
		break;
	}
	result &= ACL_ALL;
	if (names_owner)
		result |= ACL_OWNER_IMPLICIT;
	return result;
}

void acl_listrights(bool names_owner, struct acl_listrights *lr_r)
{
	lr_r->required = names_owner ? ACL_OWNER_IMPLICIT : 0;
	lr_r->optional = ACL_ALL & ~lr_r->required;
}

/* Order of the optional groups: the canonical letters, with "a" last after
 * the virtual "c" and "d", as in RFC 4314 §3.4's example. */
static const char acl_listrights_order[] = "lrswipkxtecda";

static bool acl_listrights_has(acl_rights optional, char letter)
{
	acl_rights r;

	if (letter == 'c')
		return (optional & ACL_CREATE) != 0;
	if (letter == 'd')
		return (optional & (ACL_DELETE_MAILBOX | ACL_DELETE_MSG | ACL_EXPUNGE)) != 0;
	return acl_rights_parse(&letter, 1, &r) == 0 && (optional & r) != 0;
}

size_t acl_listrights_format(const struct acl_listrights *lr, char *out, size_t size)
{
	char buf[ACL_LISTRIGHTS_TEXT_MAX];
	size_t n;

	/* Worst case: 11 required letters, then 13 groups of " x", and a NUL. */
	_Static_assert(11 + 2 * 13 + 1 <= ACL_LISTRIGHTS_TEXT_MAX, "buffer");

	n = acl_rights_format(lr->required & ACL_ALL, buf);
	if (n == 0) {
		buf[n++] = '"';
		buf[n++] = '"';
	}
	for (size_t i = 0; acl_listrights_order[i] != '\0'; i++) {
		char letter = acl_listrights_order[i];

		/* A right already required is not offered again (§3.7). */
		if (!acl_listrights_has(lr->optional & ~lr->required, letter))
			continue;
		buf[n++] = ' ';
		buf[n++] = letter;
	}
	if (n + 1 > size)
		return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = buf[i];
	out[n] = '\0';
	return n;
}
