#include "server/imap/args.h"

#include <string.h>
#include <strings.h>

/* ASTRING-CHAR = ATOM-CHAR / resp-specials: no list-wildcards, quoted-specials. */
static bool is_astring_atom(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || strchr("(){%*\"\\", c) != NULL)
			return false;
	}
	return len > 0;
}

bool imap_arg_astring(const struct imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_ATOM && !is_astring_atom(a->u.str.data, a->u.str.len))
		return false;
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
	    (a->type != IMAP_ARG_LITERAL || a->literal8))
		return false;
	*s_r = a->u.str.data;
	*len_r = a->u.str.len;
	return true;
}

bool imap_arg_string(const struct imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a->type != IMAP_ARG_QUOTED && (a->type != IMAP_ARG_LITERAL || a->literal8))
		return false;
	*s_r = a->u.str.data;
	*len_r = a->u.str.len;
	return true;
}

bool imap_arg_atom(const struct imap_arg *a, const char **s_r)
{
	if (a->type != IMAP_ARG_ATOM)
		return false;
	*s_r = a->u.str.data;
	return true;
}

bool imap_arg_atom_is(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->u.str.data, word) == 0 &&
	       strlen(word) == a->u.str.len;
}

size_t imap_args_count(const struct imap_arg *args)
{
	size_t n = 0;

	while (args[n].type != IMAP_ARG_EOL)
		n++;
	return n;
}

bool imap_arg_number(const struct imap_arg *arg, uint64_t max, bool nz, uint64_t *v_r)
{
	uint64_t v = 0;

	if (arg->type != IMAP_ARG_ATOM || arg->u.str.len == 0)
		return false;
	for (size_t i = 0; i < arg->u.str.len; i++) {
		char c = arg->u.str.data[i];
		uint64_t d = (uint64_t)(c - '0');
		if (c < '0' || c > '9' || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (nz && v == 0)
		return false;
	*v_r = v;
	return true;
}

bool imap_arg_modseq(const struct imap_arg *arg, uint64_t *value_r)
{
	return imap_arg_number(arg, INT64_MAX, false, value_r);
}
