#include "server/imap/special_use.h"
#include "server/imap/args.h"

#include <string.h>
#include <strings.h>

static enum imap_create_params_result fail(const char **error_r, enum imap_create_params_result r,
					   const char *why)
{
	*error_r = why;
	return r;
}

/* use-attr = "\All" / "\Archive" / "\Drafts" / "\Flagged" / "\Junk" /
 *            "\Sent" / "\Trash" / use-attr-ext; use-attr-ext = "\" atom */
static enum imap_create_params_result parse_use(const struct imap_arg *list, const char **uses,
						size_t *n, const char **error_r)
{
	static const char *const known[] = { "\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash" };

	if (list->type != IMAP_ARG_LIST)
		return fail(error_r, IMAP_CREATE_PARAMS_BAD, "USE expects a list of attributes");
	if (list->u.list.count > IMAP_SPECIAL_USE_MAX)
		return fail(error_r, IMAP_CREATE_PARAMS_BAD, "Too many special-use attributes");
	for (size_t i = 0; i < list->u.list.count; i++) {
		const struct imap_arg *it = &list->u.list.items[i];
		const char *s;
		size_t k, j;

		if (!imap_arg_atom(it, &s) || it->u.str.len < 2 || s[0] != '\\' ||
		    strpbrk(s + 1, "\\*%]") != NULL)
			return fail(error_r, IMAP_CREATE_PARAMS_BAD, "Invalid special-use attribute");
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcasecmp(s, known[k]) == 0)
				break;
		if (k == sizeof(known) / sizeof(known[0]))
			return fail(error_r, IMAP_CREATE_PARAMS_USEATTR,
				    "Kairan gives \\Archive, \\Drafts, \\Junk, \\Sent and \\Trash only");
		for (j = 0; j < *n && uses[j] != known[k]; j++)
			;
		if (j == *n)
			uses[(*n)++] = known[k];
	}
	return IMAP_CREATE_PARAMS_OK;
}

enum imap_create_params_result imap_create_params_parse(struct arena *a, const struct imap_arg *arg,
							const char ***uses_r, size_t *nuses_r,
							const char **error_r)
{
	const char **uses = arena_alloc(a, (IMAP_SPECIAL_USE_MAX + 1) * sizeof(*uses));
	size_t n = 0;
	bool seen_use = false;

	/* create-params = SP "(" create-param *(SP create-param) ")" */
	if (arg->type != IMAP_ARG_LIST || arg->u.list.count == 0)
		return fail(error_r, IMAP_CREATE_PARAMS_BAD, "CREATE parameters must be a list");
	for (size_t i = 0; i < arg->u.list.count; i += 2) {
		enum imap_create_params_result r;

		/* RFC 4466 §2.2: an unknown parameter is BAD. */
		if (!imap_arg_atom_is(&arg->u.list.items[i], "USE") || seen_use)
			return fail(error_r, IMAP_CREATE_PARAMS_BAD, "Unknown CREATE parameter");
		if (i + 1 == arg->u.list.count)
			return fail(error_r, IMAP_CREATE_PARAMS_BAD, "USE expects a list of attributes");
		seen_use = true;
		if ((r = parse_use(&arg->u.list.items[i + 1], uses, &n, error_r)) !=
		    IMAP_CREATE_PARAMS_OK)
			return r;
	}
	*uses_r = uses;
	*nuses_r = n;
	return IMAP_CREATE_PARAMS_OK;
}
