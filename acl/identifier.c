#include "acl/identifier.h"

#include <string.h>

static const char acl_kw_anyone[] = "anyone";
static const char acl_kw_authenticated[] = "authenticated";
static const char acl_group_prefix[] = "group:";
#define ACL_GROUP_PREFIX_LEN (sizeof(acl_group_prefix) - 1)

static unsigned char acl_ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool acl_ascii_case_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (acl_ascii_lower((unsigned char)a[i]) != acl_ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

bool acl_group_name_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return acl_ascii_case_equal(a, alen, b, blen);
}

/* Decodes one UTF-8 sequence at s[i..len) into *cp and its length into *n.
 * Refuses what RFC 3629 §3 forbids: continuation bytes without a lead,
 * truncated sequences, overlong forms, surrogates and anything past
 * U+10FFFF. */
static bool acl_utf8_next(const unsigned char *s, size_t len, size_t i,
			  unsigned long *cp_r, size_t *n_r)
{
	unsigned char c = s[i];
	unsigned long cp, min;
	size_t n;

	if (c < 0x80) {
		*cp_r = c;
		*n_r = 1;
		return true;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2; cp = c & 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3; cp = c & 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return false;
	}
	if (len - i < n)
		return false;
	for (size_t k = 1; k < n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return false;
		cp = (cp << 6) | (s[i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	*cp_r = cp;
	*n_r = n;
	return true;
}

/* Metacharacters of IMAP (quoted strings, literals, list wildcards) and of
 * LDAP filters (RFC 4515 §3): refused in every name. */
static bool acl_meta_char(unsigned long cp)
{
	return cp == '*' || cp == '%' || cp == '(' || cp == ')' || cp == '{' ||
	       cp == '}' || cp == '"' || cp == '\\';
}

static enum acl_id_error acl_name_check(const char *name, size_t len, bool group)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0;

	if (len == 0)
		return group ? ACL_ID_EMPTY_GROUP : ACL_ID_EMPTY;
	if (len > ACL_NAME_MAX)
		return ACL_ID_TOO_LONG;
	if (s[0] == '-')
		return ACL_ID_RESERVED;
	while (i < len) {
		unsigned long cp;
		size_t n;

		if (!acl_utf8_next(s, len, i, &cp, &n))
			return ACL_ID_BAD_UTF8;
		/* C0, DEL and C1 (U+0080..U+009F): never part of a name, and
		 * CR/LF or NUL would end a protocol line or a C string. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return ACL_ID_CONTROL;
		if (acl_meta_char(cp))
			return ACL_ID_BAD_CHAR;
		if (cp == ' ') {
			if (!group || i == 0 || i + 1 == len || s[i + 1] == ' ')
				return ACL_ID_BAD_CHAR;
		}
		if (cp == '/' && !group)
			return ACL_ID_BAD_CHAR;
		i += n;
	}
	return ACL_ID_OK;
}

enum acl_id_error acl_identifier_parse(const char *s, size_t len,
				       struct acl_identifier *id_r)
{
	struct acl_identifier id = { ACL_ID_USER, false, NULL, 0 };
	enum acl_id_error err;

	if (len > 0 && s[0] == '-') {
		id.negative = true;
		s++;
		len--;
	}
	if (len == 0)
		return ACL_ID_EMPTY;

	if (len == sizeof(acl_kw_anyone) - 1 &&
	    memcmp(s, acl_kw_anyone, len) == 0) {
		id.kind = ACL_ID_ANYONE;
	} else if (len == sizeof(acl_kw_authenticated) - 1 &&
		   memcmp(s, acl_kw_authenticated, len) == 0) {
		id.kind = ACL_ID_AUTHENTICATED;
	} else if (acl_ascii_case_equal(s, len, acl_kw_anyone, sizeof(acl_kw_anyone) - 1) ||
		   acl_ascii_case_equal(s, len, acl_kw_authenticated,
					sizeof(acl_kw_authenticated) - 1)) {
		return ACL_ID_RESERVED;
	} else if (len >= ACL_GROUP_PREFIX_LEN &&
		   acl_ascii_case_equal(s, ACL_GROUP_PREFIX_LEN, acl_group_prefix,
					ACL_GROUP_PREFIX_LEN)) {
		if (memcmp(s, acl_group_prefix, ACL_GROUP_PREFIX_LEN) != 0)
			return ACL_ID_RESERVED;
		id.kind = ACL_ID_GROUP;
		id.name = s + ACL_GROUP_PREFIX_LEN;
		id.name_len = len - ACL_GROUP_PREFIX_LEN;
		if ((err = acl_name_check(id.name, id.name_len, true)) != ACL_ID_OK)
			return err;
	} else {
		id.name = s;
		id.name_len = len;
		if ((err = acl_name_check(id.name, id.name_len, false)) != ACL_ID_OK)
			return err;
	}
	*id_r = id;
	return ACL_ID_OK;
}

const char *acl_id_error_str(enum acl_id_error e)
{
	switch (e) {
	case ACL_ID_OK: return "valid identifier";
	case ACL_ID_EMPTY: return "empty identifier";
	case ACL_ID_TOO_LONG: return "identifier too long";
	case ACL_ID_CONTROL: return "control character in identifier";
	case ACL_ID_BAD_UTF8: return "identifier is not UTF-8";
	case ACL_ID_BAD_CHAR: return "character not allowed in identifier";
	case ACL_ID_RESERVED: return "reserved identifier";
	case ACL_ID_EMPTY_GROUP: return "group identifier without a name";
	}
	return "invalid identifier";
}

size_t acl_identifier_format(const struct acl_identifier *id, char *out, size_t size)
{
	const char *prefix = "", *name = id->name;
	size_t plen = 0, nlen = id->name_len, n = 0;

	switch (id->kind) {
	case ACL_ID_ANYONE:
		name = acl_kw_anyone;
		nlen = sizeof(acl_kw_anyone) - 1;
		break;
	case ACL_ID_AUTHENTICATED:
		name = acl_kw_authenticated;
		nlen = sizeof(acl_kw_authenticated) - 1;
		break;
	case ACL_ID_GROUP:
		prefix = acl_group_prefix;
		plen = ACL_GROUP_PREFIX_LEN;
		break;
	case ACL_ID_USER:
		break;
	}
	if (nlen == 0 || (size_t)id->negative + plen + nlen + 1 > size)
		return 0;
	if (id->negative)
		out[n++] = '-';
	memcpy(out + n, prefix, plen);
	n += plen;
	memcpy(out + n, name, nlen);
	n += nlen;
	out[n] = '\0';
	return n;
}

bool acl_identifier_is_user(const struct acl_identifier *id, const char *login, size_t len)
{
	return id->kind == ACL_ID_USER && !id->negative && id->name_len == len &&
	       len > 0 && memcmp(id->name, login, len) == 0;
}
