#include "server/imap/namespace.h"

#include <string.h>

/* "<prefix>/<rest>" or the prefix alone; *rest_r is after the '/'. */
static bool has_prefix(const char *name, size_t len, const char *prefix, const char **rest_r,
		       size_t *rest_len_r)
{
	size_t plen = strlen(prefix);

	if (len < plen || memcmp(name, prefix, plen) != 0 || (len > plen && name[plen] != '/'))
		return false;
	*rest_r = len > plen ? name + plen + 1 : name + len;
	*rest_len_r = len > plen ? len - plen - 1 : 0;
	return true;
}

void imap_ns_split(struct arena *a, const char *name, size_t len, struct imap_ns_name *r)
{
	const char *rest, *slash;
	size_t rlen;

	memset(r, 0, sizeof(*r));
	if (has_prefix(name, len, IMAP_NS_OTHER_USERS, &rest, &rlen))
		r->ns = IMAP_NS_OTHER;
	else if (has_prefix(name, len, IMAP_NS_SHARED, &rest, &rlen))
		r->ns = IMAP_NS_TEAM;
	else {
		r->ns = IMAP_NS_PERSONAL;
		r->name = arena_strndup(a, name, len);
		return;
	}
	if (rlen == 0) {
		r->name = "";
		return;
	}
	slash = memchr(rest, '/', rlen);
	if (slash == NULL) {
		r->login = arena_strndup(a, rest, rlen);
		r->name = "";
		return;
	}
	r->login = arena_strndup(a, rest, (size_t)(slash - rest));
	r->name = arena_strndup(a, slash + 1, rlen - (size_t)(slash - rest) - 1);
}

const char *imap_ns_join(struct arena *a, bool shared_owner, const char *login,
			 const char *shared_name)
{
	return arena_printf(a, "%s/%s%s%s", shared_owner ? IMAP_NS_SHARED : IMAP_NS_OTHER_USERS,
			    login, shared_name[0] != '\0' ? "/" : "", shared_name);
}

bool imap_ns_reserved(const char *name, size_t len)
{
	return (len == strlen(IMAP_NS_OTHER_USERS) && memcmp(name, IMAP_NS_OTHER_USERS, len) == 0) ||
	       (len == strlen(IMAP_NS_SHARED) && memcmp(name, IMAP_NS_SHARED, len) == 0);
}
