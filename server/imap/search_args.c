#include "server/imap/search_args.h"
#include "server/imap/args.h"
#include "server/imap/objectid.h"
#include "server/imap/store_args.h"

#include <string.h>
#include <strings.h>

/* What follows a search key's name (RFC 3501 §9 search-key, RFC 5032 §3,
 * RFC 7162 §7). */
enum key_arg {
	KA_NONE,
	KA_ASTRING,         /* BCC BODY CC FROM SUBJECT TEXT TO */
	KA_DATE,            /* BEFORE ON SINCE SENT*: date = date-text / DQUOTE date-text DQUOTE */
	KA_NUMBER64,        /* LARGER SMALLER: number64 in RFC 9051 */
	KA_NZNUMBER,        /* OLDER YOUNGER: nz-number */
	KA_SEQSET,          /* UID */
	KA_KEYWORD,         /* KEYWORD UNKEYWORD: flag-keyword */
	KA_HEADER,          /* header-fld-name SP astring */
	KA_NOT, KA_OR,
	KA_MODSEQ,          /* [entry-name SP entry-type-req SP] mod-sequence-valzer */
	KA_OBJECTID,        /* EMAILID THREADID: objectid (RFC 8474 §7) */
};

static const struct key_def {
	const char *name;
	enum imap_search_op op;
	enum key_arg arg;
	unsigned flag;
	bool negate;
	const char *field;          /* the field an address/SUBJECT key searches */
	bool address;
} key_defs[] = {
	{ "ALL", IMAP_SK_ALL, KA_NONE, 0, false, NULL, false },
	{ "ANSWERED", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_ANSWERED, false, NULL, false },
	{ "BCC", IMAP_SK_HEADER, KA_ASTRING, 0, false, "BCC", true },
	{ "BEFORE", IMAP_SK_BEFORE, KA_DATE, 0, false, NULL, false },
	{ "BODY", IMAP_SK_BODY, KA_ASTRING, 0, false, NULL, false },
	{ "CC", IMAP_SK_HEADER, KA_ASTRING, 0, false, "CC", true },
	{ "DELETED", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_DELETED, false, NULL, false },
	{ "DRAFT", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_DRAFT, false, NULL, false },
	{ "FLAGGED", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_FLAGGED, false, NULL, false },
	{ "FROM", IMAP_SK_HEADER, KA_ASTRING, 0, false, "FROM", true },
	{ "HEADER", IMAP_SK_HEADER, KA_HEADER, 0, false, NULL, false },
	{ "KEYWORD", IMAP_SK_KEYWORD, KA_KEYWORD, 0, false, NULL, false },
	{ "LARGER", IMAP_SK_LARGER, KA_NUMBER64, 0, false, NULL, false },
	{ "MODSEQ", IMAP_SK_MODSEQ, KA_MODSEQ, 0, false, NULL, false },
	{ "NEW", IMAP_SK_NEW, KA_NONE, 0, false, NULL, false },
	{ "NOT", IMAP_SK_NOT, KA_NOT, 0, false, NULL, false },
	{ "OLD", IMAP_SK_OLD, KA_NONE, 0, false, NULL, false },
	{ "OLDER", IMAP_SK_OLDER, KA_NZNUMBER, 0, false, NULL, false },
	{ "ON", IMAP_SK_ON, KA_DATE, 0, false, NULL, false },
	{ "OR", IMAP_SK_OR, KA_OR, 0, false, NULL, false },
	{ "RECENT", IMAP_SK_RECENT, KA_NONE, 0, false, NULL, false },
	{ "SEEN", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_SEEN, false, NULL, false },
	{ "SENTBEFORE", IMAP_SK_SENTBEFORE, KA_DATE, 0, false, NULL, false },
	{ "SENTON", IMAP_SK_SENTON, KA_DATE, 0, false, NULL, false },
	{ "SENTSINCE", IMAP_SK_SENTSINCE, KA_DATE, 0, false, NULL, false },
	{ "SINCE", IMAP_SK_SINCE, KA_DATE, 0, false, NULL, false },
	{ "SMALLER", IMAP_SK_SMALLER, KA_NUMBER64, 0, false, NULL, false },
	{ "SUBJECT", IMAP_SK_HEADER, KA_ASTRING, 0, false, "SUBJECT", false },
	{ "TEXT", IMAP_SK_TEXT, KA_ASTRING, 0, false, NULL, false },
	{ "TO", IMAP_SK_HEADER, KA_ASTRING, 0, false, "TO", true },
	{ "UID", IMAP_SK_UIDSET, KA_SEQSET, 0, false, NULL, false },
	{ "UNANSWERED", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_ANSWERED, true, NULL, false },
	{ "UNDELETED", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_DELETED, true, NULL, false },
	{ "UNDRAFT", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_DRAFT, true, NULL, false },
	{ "UNFLAGGED", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_FLAGGED, true, NULL, false },
	{ "UNKEYWORD", IMAP_SK_UNKEYWORD, KA_KEYWORD, 0, false, NULL, false },
	{ "UNSEEN", IMAP_SK_FLAG, KA_NONE, IMAP_FLAG_SEEN, true, NULL, false },
	{ "YOUNGER", IMAP_SK_YOUNGER, KA_NZNUMBER, 0, false, NULL, false },
	/* RFC 8474 §6 */
	{ "EMAILID", IMAP_SK_EMAILID, KA_OBJECTID, 0, false, NULL, false },
	{ "THREADID", IMAP_SK_THREADID, KA_OBJECTID, 0, false, NULL, false },
	/* RFC 8514 §4.3 */
	{ "SAVEDBEFORE", IMAP_SK_SAVEDBEFORE, KA_DATE, 0, false, NULL, false },
	{ "SAVEDON", IMAP_SK_SAVEDON, KA_DATE, 0, false, NULL, false },
	{ "SAVEDSINCE", IMAP_SK_SAVEDSINCE, KA_DATE, 0, false, NULL, false },
	{ "SAVEDATESUPPORTED", IMAP_SK_SAVEDATESUPPORTED, KA_NONE, 0, false, NULL, false },
};

#define N_ELEMS(x) (sizeof(x) / sizeof((x)[0]))

static const char too_complex[] = "Search program too complex";

struct search_ctx {
	struct arena *a;
	size_t nkeys;               /* keys made so far, the root AND excluded */
	bool modseq;
	const char **error_r;
};

static int fail(struct search_ctx *x, const char *error)
{
	*x->error_r = error;
	return -1;
}

static bool word_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* RFC 7162 §7: entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE, where
 * attr-flag is a system flag, a keyword or a flag-extension ("\" atom).
 * It arrives unquoted here (the parser removes quotes and escapes); an
 * atom is tolerated, as it cannot be mistaken for anything else. */
static bool modseq_entry_valid(const char *s, size_t len)
{
	static const char prefix[] = "/flags/";
	size_t plen = sizeof(prefix) - 1;

	if (len <= plen || strncasecmp(s, prefix, plen) != 0)
		return false;
	s += plen;
	len -= plen;
	if (s[0] == '\\') {
		s++;
		len--;
	}
	return imap_keyword_valid(s, len);
}

static int parse_modseq(struct search_ctx *x, const struct imap_arg **argp,
			struct imap_search_key *k)
{
	const struct imap_arg *arg = *argp;
	uint64_t v;

	x->modseq = true;
	k->u.modseq.type = IMAP_SEARCH_MODSEQ_ANY;
	if (arg->type != IMAP_ARG_ATOM || !imap_arg_number(arg, INT64_MAX, false, &v)) {
		const char *s;
		size_t len;

		/* An entry name starts with "/": a digit means a bad number. */
		if (arg->type == IMAP_ARG_ATOM && arg->u.str.data[0] >= '0' &&
		    arg->u.str.data[0] <= '9')
			return fail(x, "Invalid MODSEQ value");
		if (arg->type == IMAP_ARG_EOL || !imap_arg_astring(arg, &s, &len) ||
		    !modseq_entry_valid(s, len))
			return fail(x, "Invalid MODSEQ entry name");
		k->u.modseq.entry = s;
		k->u.modseq.entry_len = len;
		arg++;
		if (imap_arg_atom_is(arg, "priv"))
			k->u.modseq.type = IMAP_SEARCH_MODSEQ_PRIV;
		else if (imap_arg_atom_is(arg, "shared"))
			k->u.modseq.type = IMAP_SEARCH_MODSEQ_SHARED;
		else if (imap_arg_atom_is(arg, "all"))
			k->u.modseq.type = IMAP_SEARCH_MODSEQ_ALL;
		else
			return fail(x, "Invalid MODSEQ entry type");
		arg++;
		if (!imap_arg_number(arg, INT64_MAX, false, &v))
			return fail(x, "Invalid MODSEQ value");
	}
	k->u.modseq.value = v;
	*argp = arg + 1;
	return 0;
}

static int parse_key(struct search_ctx *x, const struct imap_arg **argp,
		     struct imap_search_key *k, unsigned depth);

/* Fills k as an AND of the keys in args (up to its EOL). Each key takes at
 * least one argument, so count bounds the children; it is capped by what
 * is left of the key budget so a long list cannot make a big allocation. */
static int parse_and(struct search_ctx *x, const struct imap_arg *args, size_t count,
		     struct imap_search_key *k, unsigned depth)
{
	size_t cap = count < IMAP_SEARCH_MAX_KEYS - x->nkeys ? count :
		     IMAP_SEARCH_MAX_KEYS - x->nkeys;

	k->op = IMAP_SK_AND;
	k->children = arena_alloc(x->a, cap * sizeof(*k->children));
	while (args->type != IMAP_ARG_EOL) {
		if (k->nchildren == cap)
			return fail(x, too_complex);
		if (parse_key(x, &args, &k->children[k->nchildren++], depth) < 0)
			return -1;
	}
	return 0;
}

/* The arguments of a key whose name (def) has been read; arg is the first
 * argument after the name, *argp is advanced past the last one used. */
static int parse_key_args(struct search_ctx *x, const struct key_def *def,
			  const struct imap_arg **argp, struct imap_search_key *k,
			  unsigned depth)
{
	const struct imap_arg *arg = *argp;
	const char *s;
	size_t len;
	uint64_t v;

	switch (def->arg) {
	case KA_NONE:
		return 0;
	case KA_ASTRING:
		if (!imap_arg_astring(arg, &k->u.str.value, &k->u.str.value_len))
			return fail(x, "Search key needs a string argument");
		k->u.str.field = def->field;
		k->u.str.field_len = def->field != NULL ? strlen(def->field) : 0;
		k->u.str.address = def->address;
		break;
	case KA_HEADER:
		if (!imap_arg_astring(arg, &k->u.str.field, &k->u.str.field_len) ||
		    !imap_arg_astring(arg + 1, &k->u.str.value, &k->u.str.value_len))
			return fail(x, "HEADER needs a field name and a string");
		arg++;
		break;
	case KA_DATE:
		if ((arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_QUOTED) ||
		    imap_date_parse(arg->u.str.data, arg->u.str.len, &k->u.date) < 0)
			return fail(x, "Invalid date (d-Mon-yyyy expected)");
		break;
	case KA_NUMBER64:
		if (!imap_arg_number(arg, INT64_MAX, false, &v))
			return fail(x, "Invalid size");
		k->u.number = (int64_t)v;
		break;
	case KA_NZNUMBER:
		if (!imap_arg_number(arg, UINT32_MAX, true, &v))
			return fail(x, "Invalid interval");
		k->u.number = (int64_t)v;
		break;
	case KA_SEQSET:
		if (arg->type != IMAP_ARG_ATOM ||
		    imap_seqset_parse(x->a, arg->u.str.data, arg->u.str.len,
				      IMAP_SEARCH_MAX_RANGES, &k->u.set) < 0)
			return fail(x, "Invalid sequence set");
		break;
	case KA_KEYWORD:
		if (!imap_arg_atom(arg, &s))
			return fail(x, "Invalid keyword");
		len = arg->u.str.len;
		if (len > 0 && s[0] == '\\')
			return fail(x, "KEYWORD takes a keyword, not a system flag");
		if (!imap_keyword_valid(s, len))
			return fail(x, "Invalid keyword");
		k->u.str.value = s;
		k->u.str.value_len = len;
		break;
	case KA_MODSEQ:
		return parse_modseq(x, argp, k);
	case KA_OBJECTID:
		/* objectid is an atom in the grammar; a quoted one is
		 * tolerated, as it cannot be mistaken for anything else. */
		if (arg->type == IMAP_ARG_EOL || !imap_arg_astring(arg, &s, &len) ||
		    !imap_objectid_valid(s, len))
			return fail(x, "Invalid object id (1 to 255 letters, digits, _ or -)");
		k->u.str.value = s;
		k->u.str.value_len = len;
		break;
	case KA_NOT:
	case KA_OR:
		if (depth + 1 > IMAP_SEARCH_MAX_DEPTH)
			return fail(x, too_complex);
		k->nchildren = def->arg == KA_NOT ? 1 : 2;
		k->children = arena_alloc(x->a, k->nchildren * sizeof(*k->children));
		for (size_t i = 0; i < k->nchildren; i++)
			if (parse_key(x, argp, &k->children[i], depth + 1) < 0)
				return -1;
		return 0;
	}
	*argp = arg + 1;
	return 0;
}

static int parse_key(struct search_ctx *x, const struct imap_arg **argp,
		     struct imap_search_key *k, unsigned depth)
{
	const struct imap_arg *arg = *argp;
	const char *s;
	size_t len, i;

	memset(k, 0, sizeof(*k));
	if (++x->nkeys > IMAP_SEARCH_MAX_KEYS)
		return fail(x, too_complex);
	switch (arg->type) {
	case IMAP_ARG_EOL:
		return fail(x, "Missing search key");
	case IMAP_ARG_LIST:
		/* "(" search-key *(SP search-key) ")": not empty. */
		if (depth + 1 > IMAP_SEARCH_MAX_DEPTH)
			return fail(x, too_complex);
		if (arg->u.list.count == 0)
			return fail(x, "Empty search key list");
		*argp = arg + 1;
		return parse_and(x, arg->u.list.items, arg->u.list.count, k, depth + 1);
	case IMAP_ARG_ATOM:
		break;
	default:
		return fail(x, "Invalid search key");
	}
	s = arg->u.str.data;
	len = arg->u.str.len;
	*argp = arg + 1;
	for (i = 0; i < N_ELEMS(key_defs); i++) {
		if (word_is(s, len, key_defs[i].name)) {
			k->op = key_defs[i].op;
			k->flag = key_defs[i].flag;
			k->negate = key_defs[i].negate;
			return parse_key_args(x, &key_defs[i], argp, k, depth);
		}
	}
	/* Not a key name: a sequence set (RFC 5182 adds "$") or nothing. */
	if (len == 0 || !((s[0] >= '0' && s[0] <= '9') || s[0] == '*' || s[0] == '$'))
		return fail(x, "Unknown search key");
	k->op = IMAP_SK_SEQSET;
	if (imap_seqset_parse(x->a, s, len, IMAP_SEARCH_MAX_RANGES, &k->u.set) < 0)
		return fail(x, "Invalid sequence set");
	return 0;
}

/* RFC 4731 §3.1 search-return-opts: "RETURN" SP "(" [opt *(SP opt)] ")". */
static int parse_return(const struct imap_arg *list, struct imap_search_program *prog,
			const char **error_r)
{
	static const struct { const char *name; unsigned bit; } opts[] = {
		{ "MIN", IMAP_SEARCH_RETURN_MIN }, { "MAX", IMAP_SEARCH_RETURN_MAX },
		{ "COUNT", IMAP_SEARCH_RETURN_COUNT }, { "ALL", IMAP_SEARCH_RETURN_ALL },
		{ "SAVE", IMAP_SEARCH_RETURN_SAVE },
	};

	if (list->type != IMAP_ARG_LIST) {
		*error_r = "RETURN needs a list of options";
		return -1;
	}
	prog->esearch = true;
	for (size_t i = 0; i < list->u.list.count; i++) {
		size_t k;
		for (k = 0; k < N_ELEMS(opts); k++)
			if (imap_arg_atom_is(&list->u.list.items[i], opts[k].name))
				break;
		if (k == N_ELEMS(opts)) {
			*error_r = "Unknown RETURN option";
			return -1;
		}
		prog->return_opts |= opts[k].bit;
	}
	/* "RETURN ()" asks for an ESEARCH response with ALL (RFC 4731 §3.1). */
	if (prog->return_opts == 0)
		prog->return_opts = IMAP_SEARCH_RETURN_ALL;
	return 0;
}

int imap_search_parse(struct arena *a, const struct imap_arg *args, bool allow_return,
		      struct imap_search_program *prog_r, const char **error_r)
{
	struct search_ctx x = { .a = a, .error_r = error_r };
	const char *s;
	size_t len;

	memset(prog_r, 0, sizeof(*prog_r));
	if (imap_arg_atom_is(&args[0], "RETURN")) {
		if (!allow_return) {
			*error_r = "RETURN is not allowed here";
			return -1;
		}
		if (parse_return(&args[1], prog_r, error_r) < 0)
			return -1;
		args += 2;
	}
	if (imap_arg_atom_is(&args[0], "CHARSET")) {
		if (!imap_arg_astring(&args[1], &s, &len)) {
			*error_r = "CHARSET needs a charset name";
			return -1;
		}
		/* RFC 9051 §6.4.4: US-ASCII and UTF-8 MUST be supported; we
		 * search decoded UTF-8 text, so nothing else is needed. */
		if (!word_is(s, len, "UTF-8") && !word_is(s, len, "US-ASCII")) {
			*error_r = "BADCHARSET";
			return -2;
		}
		args += 2;
	}
	if (args[0].type == IMAP_ARG_EOL) {
		*error_r = "Missing search criteria";
		return -1;
	}
	prog_r->root = arena_alloc(a, sizeof(*prog_r->root));
	memset(prog_r->root, 0, sizeof(*prog_r->root));
	if (parse_and(&x, args, imap_args_count(args), prog_r->root, 0) < 0)
		return -1;
	prog_r->modseq = x.modseq;
	return 0;
}
