#include "server/imap/list_args.h"
#include "server/imap/args.h"
#include "server/imap/store_args.h"

#include <string.h>

struct option_name {
	const char *name;
	unsigned bit;
};

static int fail(const char **error_r, const char *why)
{
	*error_r = why;
	return -1;
}

/* list-mailbox = 1*list-char / string: an atom may also hold the
 * wildcards and ']' (RFC 3501 §9). */
static bool list_mailbox_arg(const struct imap_arg *a, struct imap_list_pattern_arg *p)
{
	if (a->type == IMAP_ARG_ATOM) {
		for (size_t i = 0; i < a->u.str.len; i++) {
			unsigned char c = (unsigned char)a->u.str.data[i];

			if (c < 0x21 || c > 0x7e || strchr("(){\"\\", c) != NULL)
				return false;
		}
		p->s = a->u.str.data;
		p->len = a->u.str.len;
		return a->u.str.len > 0;
	}
	return imap_arg_string(a, &p->s, &p->len);
}

static int find_option(const struct option_name *names, size_t n, const struct imap_arg *a)
{
	for (size_t k = 0; k < n; k++)
		if (imap_arg_atom_is(a, names[k].name))
			return (int)k;
	return -1;
}

/* list-select-opts = "(" [list-select-option *(SP list-select-option)] ")" */
static int parse_select(const struct imap_arg *list, struct imap_list_args *r, const char **error_r)
{
	static const struct option_name names[] = {
		{ "SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED }, { "REMOTE", IMAP_LIST_SEL_REMOTE },
		{ "RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVEMATCH },
		{ "SPECIAL-USE", IMAP_LIST_SEL_SPECIAL_USE },
	};

	if (list->u.list.count > IMAP_LIST_MAX_OPTIONS)
		return fail(error_r, "Too many LIST selection options");
	for (size_t i = 0; i < list->u.list.count; i++) {
		int k = find_option(names, sizeof(names) / sizeof(names[0]), &list->u.list.items[i]);

		if (k < 0)
			return fail(error_r, "Unknown LIST selection option (RFC 5258 3)");
		r->select |= names[k].bit;
	}
	/* §3.1: RECURSIVEMATCH only makes sense with an option that selects
	 * by a property; alone, or with REMOTE only, it is BAD. */
	if ((r->select & IMAP_LIST_SEL_RECURSIVEMATCH) && !(r->select & IMAP_LIST_SEL_CRITERIA))
		return fail(error_r, "RECURSIVEMATCH needs another selection option (RFC 5258 3.1)");
	/* §3.1: the SUBSCRIBED selection option implies the return option. */
	if (r->select & IMAP_LIST_SEL_SUBSCRIBED)
		r->ret |= IMAP_LIST_RET_SUBSCRIBED;
	return 0;
}

/* return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" /
 *                 "STATUS" SP "(" status-att *(SP status-att) ")" / "MYRIGHTS" */
static int parse_return(const struct imap_arg *list, struct imap_list_args *r, const char **error_r)
{
	static const struct option_name names[] = {
		{ "SUBSCRIBED", IMAP_LIST_RET_SUBSCRIBED }, { "CHILDREN", IMAP_LIST_RET_CHILDREN },
		{ "SPECIAL-USE", IMAP_LIST_RET_SPECIAL_USE }, { "STATUS", IMAP_LIST_RET_STATUS },
		{ "MYRIGHTS", IMAP_LIST_RET_MYRIGHTS },
	};

	if (list->u.list.count > IMAP_LIST_MAX_OPTIONS)
		return fail(error_r, "Too many LIST return options");
	for (size_t i = 0; i < list->u.list.count; i++) {
		int k = find_option(names, sizeof(names) / sizeof(names[0]), &list->u.list.items[i]);

		if (k < 0)
			return fail(error_r, "Unknown LIST return option (RFC 5258 3)");
		if (names[k].bit == IMAP_LIST_RET_STATUS) {
			unsigned items;

			if (++i == list->u.list.count ||
			    imap_status_parse(&list->u.list.items[i], &items, error_r) < 0)
				return fail(error_r, "STATUS return option expects a list of "
					    "STATUS items (RFC 5819)");
			r->status_items |= items;
		}
		r->ret |= names[k].bit;
	}
	return 0;
}

static int parse_patterns(struct arena *a, const struct imap_arg *arg, struct imap_list_args *r,
			  const char **error_r)
{
	const struct imap_arg *items = arg;
	size_t n = 1;

	if (arg->type == IMAP_ARG_LIST) {
		/* patterns = "(" list-mailbox *(SP list-mailbox) ")" */
		items = arg->u.list.items;
		n = arg->u.list.count;
		r->extended = true;
		if (n == 0)
			return fail(error_r, "Empty LIST pattern list");
		if (n > IMAP_LIST_MAX_PATTERNS)
			return fail(error_r, "Too many LIST patterns");
	}
	r->patterns = arena_alloc(a, n * sizeof(*r->patterns));
	for (size_t i = 0; i < n; i++)
		if (!list_mailbox_arg(&items[i], &r->patterns[i]))
			return fail(error_r, "Invalid LIST mailbox pattern");
	r->npatterns = n;
	return 0;
}

int imap_list_args_parse(struct arena *a, const struct imap_arg *args, size_t nargs, bool lsub,
			 struct imap_list_args *r, const char **error_r)
{
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	if (lsub && (nargs != 2 || args[0].type == IMAP_ARG_LIST || args[1].type == IMAP_ARG_LIST))
		return fail(error_r, "LSUB expects a reference and a mailbox pattern");
	if (nargs > 0 && args[0].type == IMAP_ARG_LIST) {
		r->extended = true;
		if (parse_select(&args[i++], r, error_r) < 0)
			return -1;
	}
	if (nargs < i + 2 || !imap_arg_astring(&args[i], &r->ref, &r->ref_len))
		return fail(error_r, "LIST expects a reference and a mailbox pattern");
	if (parse_patterns(a, &args[i + 1], r, error_r) < 0)
		return -1;
	i += 2;
	if (i == nargs)
		return 0;
	if (nargs != i + 2 || !imap_arg_atom_is(&args[i], "RETURN") ||
	    args[i + 1].type != IMAP_ARG_LIST)
		return fail(error_r, "LIST expects RETURN and a list of return options");
	r->extended = true;
	return parse_return(&args[i + 1], r, error_r);
}
