#include "server/imap/store_args.h"
#include "server/imap/args.h"

#include <string.h>
#include <strings.h>

/* ATOM-CHAR (RFC 3501 §9): CHAR except atom-specials, i.e. not "(", ")",
 * "{", SP, CTL, "%", "*", '"', "\" or "]". */
static bool is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

bool imap_keyword_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_atom_char((unsigned char)s[i]))
			return false;
	return true;
}

static int fail(const char **error_r, const char *error)
{
	*error_r = error;
	return -1;
}

static bool word_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* Maps "\Word" to its bit; 0 with *error_r for what may not be stored. */
static unsigned system_flag(const char *s, size_t len, const char **error_r)
{
	static const struct { const char *name; unsigned bit; } flags[] = {
		{ "\\Seen", IMAP_FLAG_SEEN }, { "\\Answered", IMAP_FLAG_ANSWERED },
		{ "\\Flagged", IMAP_FLAG_FLAGGED }, { "\\Deleted", IMAP_FLAG_DELETED },
		{ "\\Draft", IMAP_FLAG_DRAFT },
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (word_is(s, len, flags[i].name))
			return flags[i].bit;
	/* \Recent is maintained by the server alone (RFC 3501 §2.3.2); \* is
	 * only ever a PERMANENTFLAGS value (flag-perm); other "\Word"s are
	 * flag-extensions that no standard we implement defines. */
	if (word_is(s, len, "\\Recent"))
		*error_r = "\\Recent cannot be stored";
	else if (word_is(s, len, "\\*"))
		*error_r = "\\* is not a flag";
	else
		*error_r = "Unknown system flag";
	return 0;
}

/* A hash of the keyword with ASCII letters folded (FNV-1a), so that the
 * duplicate check compares bytes only of likely duplicates: keywords may
 * be as long as the line, and comparing each with every earlier one of the
 * same length would cost the number of keywords times the line. */
static uint32_t keyword_fold_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		h ^= c >= 'A' && c <= 'Z' ? c + 32u : c;
		h *= 16777619u;
	}
	return h;
}

static bool keyword_seen(const struct imap_flags *f, const uint32_t *hashes, const char *s,
			 size_t len, uint32_t h)
{
	for (size_t i = 0; i < f->nkeywords; i++)
		if (hashes[i] == h && f->keyword_lens[i] == len && strncasecmp(f->keywords[i], s, len) == 0)
			return true;
	return false;
}

/* The flags of items[0..count): each must be a flag atom. */
static int flags_parse_items(struct arena *a, const struct imap_arg *items, size_t count,
			     struct imap_flags *f, const char **error_r)
{
	size_t nkw = 0;
	uint32_t *hashes = NULL;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < count; i++) {
		if (items[i].type != IMAP_ARG_ATOM)
			return fail(error_r, items[i].type == IMAP_ARG_LIST ? "Nested flag list" :
					     "Invalid flag");
		if (items[i].u.str.data[0] != '\\' && ++nkw > IMAP_FLAGS_MAX_KEYWORDS)
			return fail(error_r, "Too many keywords");
	}
	if (nkw > 0) {
		f->keywords = arena_alloc(a, nkw * sizeof(*f->keywords));
		f->keyword_lens = arena_alloc(a, nkw * sizeof(*f->keyword_lens));
		hashes = arena_alloc(a, nkw * sizeof(*hashes));
	}
	for (size_t i = 0; i < count; i++) {
		const char *s = items[i].u.str.data;
		size_t len = items[i].u.str.len;
		uint32_t h;

		if (len > 0 && s[0] == '\\') {
			unsigned bit = system_flag(s, len, error_r);
			if (bit == 0)
				return -1;
			f->system |= bit;
			continue;
		}
		if (!imap_keyword_valid(s, len))
			return fail(error_r, "Invalid keyword");
		h = keyword_fold_hash(s, len);
		if (keyword_seen(f, hashes, s, len, h))
			continue;
		hashes[f->nkeywords] = h;
		f->keywords[f->nkeywords] = s;
		f->keyword_lens[f->nkeywords] = len;
		f->nkeywords++;
	}
	return 0;
}

int imap_flags_parse(struct arena *a, const struct imap_arg *arg, bool allow_list,
		     struct imap_flags *flags_r, const char **error_r)
{
	if (arg->type == IMAP_ARG_LIST) {
		if (!allow_list)
			return fail(error_r, "A single flag is expected, not a list");
		return flags_parse_items(a, arg->u.list.items, arg->u.list.count, flags_r, error_r);
	}
	if (arg->type == IMAP_ARG_EOL)
		return fail(error_r, "Missing flags");
	return flags_parse_items(a, arg, 1, flags_r, error_r);
}

const char *imap_keywords_array(struct arena *a, const struct imap_flags *f)
{
	size_t len = 2, at = 0;
	char *out;

	for (size_t i = 0; i < f->nkeywords; i++)
		len += f->keyword_lens[i] + 3; /* the quotes and a comma */
	out = arena_alloc(a, len + 1);
	out[at++] = '{';
	for (size_t i = 0; i < f->nkeywords; i++) {
		if (i > 0)
			out[at++] = ',';
		out[at++] = '"';
		memcpy(out + at, f->keywords[i], f->keyword_lens[i]);
		at += f->keyword_lens[i];
		out[at++] = '"';
	}
	out[at++] = '}';
	out[at] = '\0';
	return out;
}

/* store-modifiers (RFC 7162 §3.1.3): "(" name SP value *(SP name SP value)
 * ")"; UNCHANGEDSINCE is the only modifier we know, and an unknown one must
 * be refused since its meaning could change the STORE. */
static int store_modifiers(const struct imap_arg *list, struct imap_store *st,
			   const char **error_r)
{
	const struct imap_arg *m = list->u.list.items;

	if (list->u.list.count == 0)
		return fail(error_r, "Empty STORE modifier list");
	for (size_t i = 0; i < list->u.list.count; i += 2) {
		if (!imap_arg_atom_is(&m[i], "UNCHANGEDSINCE"))
			return fail(error_r, "Unknown STORE modifier");
		if (st->unchangedsince_set)
			return fail(error_r, "UNCHANGEDSINCE given twice");
		if (i + 1 >= list->u.list.count || !imap_arg_modseq(&m[i + 1], &st->unchangedsince))
			return fail(error_r, "Invalid UNCHANGEDSINCE value");
		st->unchangedsince_set = true;
	}
	return 0;
}

int imap_store_parse(struct arena *a, const struct imap_arg *args, struct imap_store *store_r,
		     const char **error_r)
{
	const char *s;
	size_t len, n;

	memset(store_r, 0, sizeof(*store_r));
	if (args[0].type == IMAP_ARG_LIST) {
		if (store_modifiers(&args[0], store_r, error_r) < 0)
			return -1;
		args++;
	}
	if (args[0].type != IMAP_ARG_ATOM)
		return fail(error_r, args[0].type == IMAP_ARG_EOL ? "Missing STORE data item" :
				     "Invalid STORE data item");
	s = args[0].u.str.data;
	len = args[0].u.str.len;
	store_r->mode = IMAP_STORE_REPLACE;
	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		store_r->mode = s[0] == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
		s++;
		len--;
	}
	if (word_is(s, len, "FLAGS.SILENT"))
		store_r->silent = true;
	else if (!word_is(s, len, "FLAGS"))
		return fail(error_r, "Invalid STORE data item");
	args++;
	if (args[0].type == IMAP_ARG_EOL)
		return fail(error_r, "Missing flags");
	if (args[0].type == IMAP_ARG_LIST) {
		if (args[1].type != IMAP_ARG_EOL)
			return fail(error_r, "Unexpected arguments after the flag list");
		return imap_flags_parse(a, &args[0], true, &store_r->flags, error_r);
	}
	/* The unparenthesised form: flag *(SP flag), up to the end. */
	n = imap_args_count(args);
	return flags_parse_items(a, args, n, &store_r->flags, error_r);
}

int imap_status_parse(const struct imap_arg *arg, unsigned *items_r, const char **error_r)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "MESSAGES", IMAP_STATUS_MESSAGES }, { "RECENT", IMAP_STATUS_RECENT },
		{ "UIDNEXT", IMAP_STATUS_UIDNEXT }, { "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
		{ "UNSEEN", IMAP_STATUS_UNSEEN }, { "DELETED", IMAP_STATUS_DELETED },
		{ "SIZE", IMAP_STATUS_SIZE }, { "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
		{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
		{ "MAILBOXID", IMAP_STATUS_MAILBOXID },
		{ "DELETED-STORAGE", IMAP_STATUS_DELETED_STORAGE },
	};
	unsigned items = 0;

	/* status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")" */
	if (arg->type != IMAP_ARG_LIST)
		return fail(error_r, "STATUS items must be a parenthesised list");
	if (arg->u.list.count == 0)
		return fail(error_r, "Empty STATUS item list");
	for (size_t i = 0; i < arg->u.list.count; i++) {
		const struct imap_arg *it = &arg->u.list.items[i];
		size_t k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (imap_arg_atom_is(it, names[k].name))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return fail(error_r, "Unknown STATUS item");
		items |= names[k].bit;
	}
	*items_r = items;
	return 0;
}
