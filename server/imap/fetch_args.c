#include "server/imap/fetch_args.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The parser hands over BODY[...]<...> as one atom (parser.h), so the section
 * and the partial are parsed here from its text, byte by byte, with explicit
 * bounds. The grammar (RFC 3501 §9, RFC 3516 §6, RFC 9051 §9):
 *
 *   fetch-att       = ... / "BODY" [".PEEK"] section [partial]
 *                   / "BINARY" [".PEEK"] section-binary [partial]
 *                   / "BINARY.SIZE" section-binary
 *   section         = "[" [section-spec] "]"
 *   section-spec    = section-msgtext / (section-part ["." section-text])
 *   section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 *   section-text    = section-msgtext / "MIME"
 *   section-part    = nz-number *("." nz-number)
 *   section-binary  = "[" [section-part] "]"
 *   header-list     = "(" header-fld-name *(SP header-fld-name) ")"
 *   partial         = "<" number "." nz-number ">"
 */

struct cursor {
	const char *p, *end;
};

/* The response name being built; its capacity is fixed up front from the
 * attribute's length, which the name can never exceed by much (see
 * parse_att), so overrunning it is a broken invariant. */
struct name_buf {
	char *data;
	size_t len, cap;
};

static void nb_add(struct name_buf *b, const char *s, size_t len)
{
	if (len > b->cap - b->len)
		abort();
	memcpy(b->data + b->len, s, len);
	b->len += len;
}

static void nb_str(struct name_buf *b, const char *s)
{
	nb_add(b, s, strlen(s));
}

static void nb_num(struct name_buf *b, uint32_t v)
{
	char tmp[10];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	nb_add(b, tmp + n, sizeof(tmp) - n);
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

static bool at(const struct cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool at_digit(const struct cursor *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* number (nz false) or nz-number (nz true, no leading zero); uint32 only. */
static int parse_u32(struct cursor *c, bool nz, uint32_t *v_r, const char *invalid,
		     const char *too_big, const char **error_r)
{
	uint32_t v = 0;

	if (!at_digit(c) || (nz && *c->p == '0'))
		return fail(error_r, invalid);
	while (at_digit(c)) {
		uint32_t d = (uint32_t)(*c->p - '0');
		if (v > (UINT32_MAX - d) / 10)
			return fail(error_r, too_big);
		v = v * 10 + d;
		c->p++;
	}
	*v_r = v;
	return 0;
}

/* ATOM-CHAR (RFC 3501 §9). A bare header field name is an astring, whose
 * atom form also allows "]"; but the parser ends the bracket at the first
 * "]", so one can never arrive here. */
static bool is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static char ascii_upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/* One header-fld-name (an astring), upper-cased into the arena. Its extent
 * is found first so that exactly its length is allocated. Literals cannot
 * be part of an atom's text, so a "{" here is a client that tried. */
static int parse_field(struct arena *a, struct cursor *c, const char **name_r,
		       size_t *len_r, const char **error_r)
{
	const char *e;
	char *out;
	size_t n = 0;

	if (at(c, '{'))
		return fail(error_r, "Literals are not supported inside a section");
	if (at(c, '"')) {
		for (e = c->p + 1; e < c->end && *e != '"'; e++) {
			if (*e == '\\') {
				if (c->end - e < 2 || (e[1] != '"' && e[1] != '\\'))
					break;
				e++;
			}
		}
		if (e == c->end || *e != '"')
			return fail(error_r, "Invalid quoted header field name");
		out = arena_alloc(a, (size_t)(e - c->p));
		for (c->p++; c->p < e; c->p++) {
			if (*c->p == '\\')
				c->p++;
			/* Field names are printable US-ASCII (RFC 5322 §2.2); a
			 * CTL or 8-bit byte could not be echoed in a quoted string. */
			if ((unsigned char)*c->p < 0x20 || (unsigned char)*c->p > 0x7e)
				return fail(error_r, "Invalid header field name");
			out[n++] = ascii_upper(*c->p);
		}
		c->p++;
	} else {
		for (e = c->p; e < c->end && *e != ' ' && *e != ')'; e++) {
			if (!is_atom_char((unsigned char)*e))
				return fail(error_r, "Invalid header field name");
		}
		if (e == c->p)
			return fail(error_r, "Invalid header field list");
		out = arena_alloc(a, (size_t)(e - c->p) + 1);
		for (; c->p < e; c->p++)
			out[n++] = ascii_upper(*c->p);
	}
	out[n] = '\0';
	*name_r = out;
	*len_r = n;
	return 0;
}

/* Echoes a field name as an atom, or as a quoted string when it needs one. */
static void nb_field(struct name_buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && is_atom_char((unsigned char)s[i]); i++)
		;
	if (len > 0 && i == len) {
		nb_add(b, s, len);
		return;
	}
	nb_add(b, "\"", 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			nb_add(b, "\\", 1);
		nb_add(b, &s[i], 1);
	}
	nb_add(b, "\"", 1);
}

/* " (" header-fld-name *(SP header-fld-name) ")" */
static int parse_header_list(struct arena *a, struct cursor *c, struct imap_section *sec,
			     struct name_buf *nb, const char **error_r)
{
	size_t cap = 0;

	if (!at(c, ' ') || c->end - c->p < 2 || c->p[1] != '(')
		return fail(error_r, "HEADER.FIELDS needs a list of field names");
	c->p += 2;
	if (at(c, ')'))
		return fail(error_r, "Empty header field list");
	nb_str(nb, " (");
	for (;;) {
		const char *name;
		size_t len;

		if (sec->nfields == IMAP_FETCH_MAX_FIELDS)
			return fail(error_r, "Too many header fields");
		if (parse_field(a, c, &name, &len, error_r) < 0)
			return -1;
		if (sec->nfields == cap) {
			const char **f;
			size_t *l;
			cap = cap ? cap * 2 : 8;
			f = arena_alloc(a, cap * sizeof(*f));
			l = arena_alloc(a, cap * sizeof(*l));
			if (sec->nfields > 0) {
				memcpy(f, sec->fields, sec->nfields * sizeof(*f));
				memcpy(l, sec->field_lens, sec->nfields * sizeof(*l));
			}
			sec->fields = f;
			sec->field_lens = l;
		}
		sec->fields[sec->nfields] = name;
		sec->field_lens[sec->nfields] = len;
		if (sec->nfields++ > 0)
			nb_add(nb, " ", 1);
		nb_field(nb, name, len);
		if (at(c, ')'))
			break;
		/* Exactly one SP between names, as the grammar says. */
		if (!at(c, ' ') || c->end - c->p < 2 || c->p[1] == ' ' || c->p[1] == ')')
			return fail(error_r, "Invalid header field list");
		c->p++;
	}
	c->p++;
	nb_add(nb, ")", 1);
	return 0;
}

/* The text after the part numbers (or the whole spec when there are none):
 * HEADER, HEADER.FIELDS[.NOT] (...), TEXT, or MIME after a part number. */
static int parse_section_text(struct arena *a, struct cursor *c, struct imap_section *sec,
			      struct name_buf *nb, const char **error_r)
{
	const char *start = c->p;
	size_t len;

	while (c->p < c->end && *c->p != ' ' && *c->p != ']')
		c->p++;
	len = (size_t)(c->p - start);
	if (word_is(start, len, "HEADER"))
		sec->text = IMAP_SECTION_HEADER;
	else if (word_is(start, len, "HEADER.FIELDS"))
		sec->text = IMAP_SECTION_HEADER_FIELDS;
	else if (word_is(start, len, "HEADER.FIELDS.NOT"))
		sec->text = IMAP_SECTION_HEADER_FIELDS_NOT;
	else if (word_is(start, len, "TEXT"))
		sec->text = IMAP_SECTION_TEXT;
	else if (word_is(start, len, "MIME")) {
		/* A message's own header is HEADER; MIME names the MIME header
		 * of a body part (RFC 3501 §6.4.5). */
		if (sec->nparts == 0)
			return fail(error_r, "MIME needs a part number");
		sec->text = IMAP_SECTION_MIME;
	} else
		return fail(error_r, "Invalid section");
	for (size_t i = 0; i < len; i++) {
		char ch = ascii_upper(start[i]);
		nb_add(nb, &ch, 1);
	}
	if (sec->text == IMAP_SECTION_HEADER_FIELDS || sec->text == IMAP_SECTION_HEADER_FIELDS_NOT)
		return parse_header_list(a, c, sec, nb, error_r);
	return 0;
}

/* Everything between "[" and "]" (consumed too); binary allows part
 * numbers only (section-binary). */
static int parse_section(struct arena *a, struct cursor *c, bool binary,
			 struct imap_section *sec, struct name_buf *nb, const char **error_r)
{
	uint32_t parts[IMAP_FETCH_MAX_PART_LEVELS];
	bool text = !at_digit(c) && !at(c, ']');

	memset(sec, 0, sizeof(*sec));
	while (at_digit(c)) {
		if (sec->nparts == IMAP_FETCH_MAX_PART_LEVELS)
			return fail(error_r, "Too many section part levels");
		if (parse_u32(c, true, &parts[sec->nparts], "Invalid section part number",
			      "Section part number too big", error_r) < 0)
			return -1;
		if (sec->nparts++ > 0)
			nb_add(nb, ".", 1);
		nb_num(nb, parts[sec->nparts - 1]);
		if (!at(c, '.'))
			break;
		c->p++;
		if (!at_digit(c)) {
			text = true;
			nb_add(nb, ".", 1);
			break;
		}
	}
	if (sec->nparts > 0) {
		sec->parts = arena_alloc(a, sec->nparts * sizeof(*sec->parts));
		memcpy(sec->parts, parts, sec->nparts * sizeof(*sec->parts));
	}
	if (text && binary)
		return fail(error_r, "BINARY takes only part numbers");
	if (text && parse_section_text(a, c, sec, nb, error_r) < 0)
		return -1;
	if (!at(c, ']'))
		return fail(error_r, "Invalid section");
	c->p++;
	return 0;
}

/* "<" number "." nz-number ">": the whole rest of the attribute. The
 * response names only the origin (RFC 3501 §7.4.2 "BODY[<section>]<<origin
 * octet>>"); for BINARY we do the same, as RFC 3516 §4.2's prose and
 * Dovecot do, although RFC 9051's ABNF leaves the origin out (erratum 7246). */
static int parse_partial(struct cursor *c, struct imap_fetch_item *it, struct name_buf *nb,
			 const char **error_r)
{
	if (c->p == c->end)
		return 0;
	if (!at(c, '<'))
		return fail(error_r, "Unexpected text after section");
	c->p++;
	if (parse_u32(c, false, &it->offset, "Invalid partial", "Partial offset too big",
		      error_r) < 0)
		return -1;
	if (!at(c, '.'))
		return fail(error_r, "Invalid partial: <offset.length> expected");
	c->p++;
	if (parse_u32(c, true, &it->length, "Partial length must be a nonzero number",
		      "Partial length too big", error_r) < 0)
		return -1;
	if (!at(c, '>') || c->p + 1 != c->end)
		return fail(error_r, "Invalid partial");
	it->partial = true;
	nb_add(nb, "<", 1);
	nb_num(nb, it->offset);
	nb_add(nb, ">", 1);
	return 0;
}

static const struct {
	const char *name;
	enum imap_fetch_kind kind;
} simple_atts[] = {
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE }, { "FLAGS", IMAP_FETCH_FLAGS },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE }, { "RFC822", IMAP_FETCH_RFC822 },
	{ "RFC822.HEADER", IMAP_FETCH_RFC822_HEADER }, { "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
	{ "RFC822.TEXT", IMAP_FETCH_RFC822_TEXT }, { "BODY", IMAP_FETCH_BODY },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE }, { "UID", IMAP_FETCH_UID },
	{ "MODSEQ", IMAP_FETCH_MODSEQ }, { "PREVIEW", IMAP_FETCH_PREVIEW },
	{ "EMAILID", IMAP_FETCH_EMAILID }, { "THREADID", IMAP_FETCH_THREADID },
	{ "SAVEDATE", IMAP_FETCH_SAVEDATE },
};

/* The attributes that take a section, and how their response is named. */
static const struct {
	const char *name, *response, *needs_section;
	enum imap_fetch_kind kind;
	bool peek;
} section_atts[] = {
	{ "BODY", "BODY[", NULL, IMAP_FETCH_BODY_SECTION, false },
	{ "BODY.PEEK", "BODY[", "BODY.PEEK needs a [section]", IMAP_FETCH_BODY_SECTION, true },
	{ "BINARY", "BINARY[", "BINARY needs a [section]", IMAP_FETCH_BINARY, false },
	{ "BINARY.PEEK", "BINARY[", "BINARY.PEEK needs a [section]", IMAP_FETCH_BINARY, true },
	{ "BINARY.SIZE", "BINARY.SIZE[", "BINARY.SIZE needs a [section]",
	  IMAP_FETCH_BINARY_SIZE, false },
};

#define N_ELEMS(x) (sizeof(x) / sizeof((x)[0]))

/* The attributes without a section; their response name is their own. */
static bool simple_att(const char *s, size_t len, struct imap_fetch_item *it)
{
	for (size_t i = 0; i < N_ELEMS(simple_atts); i++) {
		if (word_is(s, len, simple_atts[i].name)) {
			memset(it, 0, sizeof(*it));
			it->kind = simple_atts[i].kind;
			it->name = simple_atts[i].name;
			it->name_len = strlen(it->name);
			return true;
		}
	}
	return false;
}

static int parse_att(struct arena *a, const char *s, size_t len, struct imap_fetch_item *it,
		     const char **error_r)
{
	const char *bracket = memchr(s, '[', len);
	size_t klen = bracket != NULL ? (size_t)(bracket - s) : len, i;
	struct cursor c;
	struct name_buf nb;

	if (bracket == NULL && simple_att(s, len, it))
		return 0;
	memset(it, 0, sizeof(*it));
	for (i = 0; i < N_ELEMS(section_atts); i++)
		if (word_is(s, klen, section_atts[i].name))
			break;
	if (i == N_ELEMS(section_atts))
		return fail(error_r, "Unknown fetch attribute");
	if (bracket == NULL)
		return fail(error_r, section_atts[i].needs_section);
	it->kind = section_atts[i].kind;
	it->peek = section_atts[i].peek;
	/* The name is never longer than the attribute (".PEEK" is dropped,
	 * names and numbers are echoed in at most their own length), plus the
	 * response prefix's slack. */
	nb.cap = len + 16;
	nb.len = 0;
	nb.data = arena_alloc(a, nb.cap + 1);
	nb_str(&nb, section_atts[i].response);
	c.p = bracket + 1;
	c.end = s + len;
	if (parse_section(a, &c, it->kind != IMAP_FETCH_BODY_SECTION, &it->section, &nb,
			  error_r) < 0)
		return -1;
	nb_add(&nb, "]", 1);
	if (it->kind == IMAP_FETCH_BINARY_SIZE && c.p != c.end)
		return fail(error_r, "BINARY.SIZE takes no partial");
	if (parse_partial(&c, it, &nb, error_r) < 0)
		return -1;
	nb.data[nb.len] = '\0';
	it->name = nb.data;
	it->name_len = nb.len;
	return 0;
}

/* Appends it unless an earlier item has the same response name. */
static void add_item(struct imap_fetch_request *req, const struct imap_fetch_item *it)
{
	for (size_t i = 0; i < req->count; i++) {
		struct imap_fetch_item *old = &req->items[i];
		if (old->name_len == it->name_len && memcmp(old->name, it->name, it->name_len) == 0) {
			old->peek = old->peek && it->peek;
			old->lazy = old->lazy && it->lazy;
			return;
		}
	}
	req->items[req->count++] = *it;
}

/* RFC 3501 §6.4.5: FAST = (FLAGS INTERNALDATE RFC822.SIZE), ALL = FAST +
 * ENVELOPE, FULL = ALL + BODY: each is a prefix of this list. */
static const char *const macro_atts[] = {
	"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY",
};

/* How many of macro_atts arg stands for; 0 when it is not a macro. */
static size_t macro_size(const struct imap_arg *arg)
{
	if (arg->type != IMAP_ARG_ATOM)
		return 0;
	if (strcasecmp(arg->u.str.data, "FAST") == 0)
		return 3;
	if (strcasecmp(arg->u.str.data, "ALL") == 0)
		return 4;
	return strcasecmp(arg->u.str.data, "FULL") == 0 ? 5 : 0;
}

int imap_fetch_preview_mods(const struct imap_arg *list, bool *lazy_r, const char **error_r)
{
	*lazy_r = false;
	if (list->type != IMAP_ARG_LIST || list->u.list.count == 0)
		return fail(error_r, "PREVIEW expects a list of modifiers");
	for (size_t i = 0; i < list->u.list.count; i++) {
		const struct imap_arg *m = &list->u.list.items[i];
		if (m->type != IMAP_ARG_ATOM || strcasecmp(m->u.str.data, "LAZY") != 0)
			return fail(error_r, "Unknown PREVIEW modifier");
		*lazy_r = true;
	}
	return 0;
}

enum raw_need { RAW_NONE, RAW_HEADER, RAW_ALL };

/* How much of the message bytes an item reads: the message's own header
 * alone for BODY[HEADER], BODY[HEADER.FIELDS[.NOT] ...] and RFC822.HEADER;
 * ENVELOPE, BODY, BODYSTRUCTURE and RFC822.SIZE none (precomputed). */
static enum raw_need raw_need(const struct imap_fetch_item *it)
{
	switch (it->kind) {
	case IMAP_FETCH_RFC822_HEADER:
		return RAW_HEADER;
	case IMAP_FETCH_BODY_SECTION:
		return it->section.nparts == 0 && (it->section.text == IMAP_SECTION_HEADER ||
						   it->section.text == IMAP_SECTION_HEADER_FIELDS ||
						   it->section.text == IMAP_SECTION_HEADER_FIELDS_NOT)
		       ? RAW_HEADER : RAW_ALL;
	case IMAP_FETCH_BINARY:
	case IMAP_FETCH_BINARY_SIZE:
	case IMAP_FETCH_RFC822:
	case IMAP_FETCH_RFC822_TEXT:
		return RAW_ALL;
	default:
		return RAW_NONE;
	}
}

int imap_fetch_parse(struct arena *a, const struct imap_arg *arg,
		     struct imap_fetch_request *req_r, const char **error_r)
{
	const struct imap_arg *list = arg;
	size_t n = 1;

	memset(req_r, 0, sizeof(*req_r));
	if (arg->type == IMAP_ARG_LIST) {
		list = arg->u.list.items;
		n = arg->u.list.count;
		if (n == 0)
			return fail(error_r, "Empty fetch attribute list");
		if (n > IMAP_FETCH_MAX_ITEMS)
			return fail(error_r, "Too many fetch attributes");
	} else if (arg->type == IMAP_ARG_EOL)
		return fail(error_r, "Missing fetch attributes");
	req_r->items = arena_alloc(a, (n > 5 ? n : 5) * sizeof(*req_r->items));
	if (arg->type == IMAP_ARG_ATOM && macro_size(arg) > 0) {
		for (size_t i = 0; i < macro_size(arg); i++)
			(void)simple_att(macro_atts[i], strlen(macro_atts[i]),
					 &req_r->items[req_r->count++]);
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct imap_fetch_item it;

		if (list[i].type != IMAP_ARG_ATOM)
			return fail(error_r, "Invalid fetch attribute");
		if (macro_size(&list[i]) > 0)
			return fail(error_r, "ALL, FAST and FULL cannot be used in a list");
		if (parse_att(a, list[i].u.str.data, list[i].u.str.len, &it, error_r) < 0)
			return -1;
		if (it.kind == IMAP_FETCH_PREVIEW && i + 1 < n && list[i + 1].type == IMAP_ARG_LIST &&
		    imap_fetch_preview_mods(&list[++i], &it.lazy, error_r) < 0)
			return -1;
		add_item(req_r, &it);
	}
	req_r->header_only = true;
	for (size_t i = 0; i < req_r->count; i++) {
		const struct imap_fetch_item *it = &req_r->items[i];
		enum raw_need need = raw_need(it);

		req_r->needs_raw |= need != RAW_NONE;
		req_r->header_only &= need != RAW_ALL;
		req_r->sets_seen |= it->kind == IMAP_FETCH_RFC822 || it->kind == IMAP_FETCH_RFC822_TEXT ||
				    ((it->kind == IMAP_FETCH_BODY_SECTION || it->kind == IMAP_FETCH_BINARY) &&
				     !it->peek);
	}
	req_r->header_only &= req_r->needs_raw;
	return 0;
}
