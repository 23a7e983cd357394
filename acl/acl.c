#include "acl/acl.h"

static const char acl_letters[] = "lrswipkxtea";

int acl_rights_parse(const char *s, size_t len, acl_rights *rights_r)
{
	acl_rights r = 0;

	for (size_t i = 0; i < len; i++) {
		size_t bit;
		if (s[i] == 'c') {
			r |= ACL_CREATE;
			continue;
		}
		if (s[i] == 'd') {
			r |= ACL_DELETE_MAILBOX | ACL_DELETE_MSG | ACL_EXPUNGE;
			continue;
		}
		for (bit = 0; acl_letters[bit] != '\0' && acl_letters[bit] != s[i]; bit++)
			;
		if (acl_letters[bit] == '\0')
			return -1;
		r |= (acl_rights)1 << bit;
	}
	*rights_r = r;
	return 0;
}

size_t acl_rights_format(acl_rights rights, char *out)
{
	size_t n = 0;

	for (size_t bit = 0; acl_letters[bit] != '\0'; bit++)
		if (rights & ((acl_rights)1 << bit))
			out[n++] = acl_letters[bit];
	out[n] = '\0';
	return n;
}

size_t acl_rights_format_response(acl_rights rights, char *out)
{
	size_t n = acl_rights_format(rights, out);

	if (rights & ACL_CREATE)
		out[n++] = 'c';
	if (rights & (ACL_DELETE_MAILBOX | ACL_DELETE_MSG | ACL_EXPUNGE))
		out[n++] = 'd';
	out[n] = '\0';
	return n;
}
