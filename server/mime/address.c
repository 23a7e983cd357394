/* RFC 5322 §3.4 address lists as RFC 3501 §7.4.2 ENVELOPE addresses:
 *
 *   address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
 *
 * Display names, local parts and domains are given as in the header (RFC
 * 2047 encoded words not decoded; quoted strings unquoted, as Dovecot and
 * Cyrus do). A group becomes (NIL NIL "name" NIL), its members, then
 * (NIL NIL NIL NIL). An address without a display name takes the text of
 * its last comment ("user@host (Real Name)"), as in Dovecot and Cyrus. A
 * missing local part or domain becomes "MISSING_MAILBOX" / "MISSING_DOMAIN"
 * (Dovecot's words): a NIL host would turn the address into a group marker.
 * The obsolete route "<@a,@b:user@host>" (RFC 5322 §4.4) gives the adl
 * "@a,@b". Garbage up to the next ',' is skipped. */
#include "server/mime/mime_internal.h"

#include <stdlib.h>
#include <string.h>

enum tok_type { T_WORD, T_QUOTED, T_DOMLIT, T_SPECIAL, T_COMMENT };

struct tok {
	enum tok_type type;
	char c;                 /* T_SPECIAL */
	bool space_before;      /* white space or a comment before it */
	size_t off, len;        /* text, in the token buffer */
};

struct ap {
	struct tok *t;
	size_t n, cap, i;
	struct buf text;        /* token contents */
	struct buf s1, s2, s3, s4;
	struct buf *out;
	size_t count;
	bool specs;             /* mime_address_specs: "mailbox@host" only */
};

static void add_tok(struct ap *ap, enum tok_type type, char c, bool space, size_t off)
{
	if (ap->n == ap->cap) {
		ap->cap = ap->cap ? ap->cap * 2 : 32;
		ap->t = xrealloc(ap->t, ap->cap * sizeof(*ap->t));
	}
	ap->t[ap->n++] = (struct tok){ type, c, space, off, ap->text.len - off };
}

static void tokenize(struct ap *ap, struct mime_str raw)
{
	struct buf comment;
	struct mime_lex lx;
	bool space = false;

	buf_init(&comment);
	mime_lex_init(&lx, raw, &comment);
	while (lx.p < lx.end) {
		size_t off = ap->text.len;
		char c = *lx.p;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(') {
			lx.saw_comment = false;
			mime_lex_cfws(&lx);
			if (lx.saw_comment) {
				buf_append(&ap->text, comment.data, comment.len);
				add_tok(ap, T_COMMENT, 0, true, off);
			}
			space = true;
			continue;
		}
		if (c == '"') {
			mime_lex_quoted(&lx, &ap->text);
			add_tok(ap, T_QUOTED, 0, space, off);
		} else if (c == '[') {
			const char *close = memchr(lx.p, ']', (size_t)(lx.end - lx.p));
			const char *stop = close != NULL ? close + 1 : lx.end;
			for (const char *p = lx.p; p < stop; p++)
				if (*p != '\r' && *p != '\n')
					buf_append(&ap->text, p, 1);
			lx.p = stop;
			add_tok(ap, T_DOMLIT, 0, space, off);
		} else {
			struct mime_str w = mime_lex_token(&lx, false);
			if (w.len > 0) {
				buf_append(&ap->text, w.p, w.len);
				add_tok(ap, T_WORD, 0, space, off);
			} else {
				lx.p++;
				add_tok(ap, T_SPECIAL, c, space, off);
			}
		}
		space = false;
	}
	buf_free(&comment);
}

static const struct tok *cur(const struct ap *ap)
{
	return ap->i < ap->n ? &ap->t[ap->i] : NULL;
}

static bool at_special(const struct ap *ap, char c)
{
	const struct tok *t = cur(ap);
	return t != NULL && t->type == T_SPECIAL && t->c == c;
}

static void skip_comments(struct ap *ap, struct buf *last_comment)
{
	while (ap->i < ap->n && ap->t[ap->i].type == T_COMMENT) {
		if (last_comment != NULL) {
			buf_clear(last_comment);
			buf_append(last_comment, buf_at(&ap->text, ap->t[ap->i].off), ap->t[ap->i].len);
		}
		ap->i++;
	}
}

static bool is_word(const struct tok *t)
{
	return t != NULL && (t->type == T_WORD || t->type == T_QUOTED);
}

/* phrase = 1*word / obs-phrase (words and dots): words joined by one space
 * where the header had white space or a comment between them. */
static void read_phrase(struct ap *ap, struct buf *out, struct buf *last_comment)
{
	for (;;) {
		skip_comments(ap, last_comment);
		const struct tok *t = cur(ap);
		if (t == NULL || !(is_word(t) || (t->type == T_SPECIAL && t->c == '.')))
			return;
		if (out->len > 0 && t->space_before)
			buf_append(out, " ", 1);
		if (t->type == T_SPECIAL)
			buf_append(out, ".", 1);
		else
			buf_append(out, buf_at(&ap->text, t->off), t->len);
		ap->i++;
	}
}

/* local-part / domain: words (or a domain literal) joined by dots. */
static void read_dotted(struct ap *ap, struct buf *out, struct buf *last_comment, bool domain)
{
	bool want_word = true;

	for (;;) {
		skip_comments(ap, last_comment);
		const struct tok *t = cur(ap);
		if (t == NULL)
			return;
		if (want_word && (is_word(t) || (domain && t->type == T_DOMLIT))) {
			buf_append(out, buf_at(&ap->text, t->off), t->len);
			want_word = false;
		} else if (!want_word && t->type == T_SPECIAL && t->c == '.') {
			buf_append(out, ".", 1);
			want_word = true;
		} else {
			return;
		}
		ap->i++;
	}
}

static void emit(struct ap *ap, const struct buf *name, const struct buf *adl,
		const struct buf *mbox, const struct buf *host)
{
	struct buf *o = ap->out;

	if (ap->specs) {
		if (mbox->len == 0 && host->len == 0)
			return;
		if (o->len > 0)
			buf_append(o, " ", 1);
		buf_append(o, mbox->data, mbox->len);
		if (host->len > 0) {
			buf_append(o, "@", 1);
			buf_append(o, host->data, host->len);
		}
		ap->count++;
		return;
	}
	buf_append(o, "(", 1);
	mime_imap_nstring(o, (const char *)name->data, name->len, name->len == 0);
	buf_append(o, " ", 1);
	mime_imap_nstring(o, (const char *)adl->data, adl->len, adl->len == 0);
	buf_append(o, " ", 1);
	if (mbox->len > 0)
		mime_imap_string(o, (const char *)mbox->data, mbox->len);
	else
		buf_append_str(o, "\"MISSING_MAILBOX\"");
	buf_append(o, " ", 1);
	if (host->len > 0)
		mime_imap_string(o, (const char *)host->data, host->len);
	else
		buf_append_str(o, "\"MISSING_DOMAIN\"");
	buf_append(o, ")", 1);
	ap->count++;
}

/* Skips to the ',' (or ';' in a group) that ends this address. */
static void skip_rest(struct ap *ap, bool in_group, struct buf *last_comment)
{
	int angle = 0;

	for (; ap->i < ap->n; ap->i++) {
		const struct tok *t = &ap->t[ap->i];
		if (t->type == T_COMMENT) {
			buf_clear(last_comment);
			buf_append(last_comment, buf_at(&ap->text, t->off), t->len);
		}
		if (t->type != T_SPECIAL)
			continue;
		if (t->c == '<')
			angle++;
		else if (t->c == '>' && angle > 0)
			angle--;
		else if (angle == 0 && (t->c == ',' || (in_group && t->c == ';')))
			return;
	}
}

static void read_mailbox(struct ap *ap, bool in_group)
{
	struct buf *name = &ap->s1, *adl = &ap->s2, *mbox = &ap->s3, *host = &ap->s4;
	struct buf comment;
	size_t start = ap->i;

	buf_clear(name);
	buf_clear(adl);
	buf_clear(mbox);
	buf_clear(host);
	buf_init(&comment);
	read_phrase(ap, name, &comment);
	if (at_special(ap, '<')) {
		ap->i++;
		skip_comments(ap, NULL);
		if (at_special(ap, '@')) {
			/* obs-route = obs-domain-list ":" */
			while (at_special(ap, '@') || at_special(ap, ',')) {
				bool at = at_special(ap, '@');
				ap->i++;
				if (at) {
					if (adl->len > 0)
						buf_append(adl, ",", 1);
					buf_append(adl, "@", 1);
					read_dotted(ap, adl, NULL, true);
				}
				skip_comments(ap, NULL);
			}
			if (at_special(ap, ':'))
				ap->i++;
		}
		read_dotted(ap, mbox, NULL, false);
		if (at_special(ap, '@')) {
			ap->i++;
			read_dotted(ap, host, NULL, true);
		}
	} else {
		/* addr-spec: the "phrase" was the local part. */
		ap->i = start;
		buf_clear(name);
		buf_clear(&comment);
		read_dotted(ap, mbox, &comment, false);
		if (at_special(ap, '@')) {
			ap->i++;
			read_dotted(ap, host, &comment, true);
		}
	}
	skip_rest(ap, in_group, &comment);
	if (name->len == 0)
		buf_append(name, comment.data, comment.len);
	/* Nothing at all (", ,"): no address. */
	if (ap->i > start && (mbox->len > 0 || host->len > 0 || name->len > 0 || adl->len > 0))
		emit(ap, name, adl, mbox, host);
	buf_free(&comment);
}

/* Is there a group ("phrase :") at the current token? */
static bool group_ahead(const struct ap *ap)
{
	for (size_t j = ap->i; j < ap->n; j++) {
		const struct tok *t = &ap->t[j];
		if (t->type == T_WORD || t->type == T_QUOTED || t->type == T_COMMENT ||
				(t->type == T_SPECIAL && t->c == '.'))
			continue;   /* phrase = words and (obs-phrase) dots */
		return t->type == T_SPECIAL && t->c == ':';
	}
	return false;
}

static void read_group(struct ap *ap)
{
	struct buf *name = &ap->s1;

	buf_clear(name);
	read_phrase(ap, name, NULL);
	ap->i++;        /* ':' */
	if (!ap->specs) {
		buf_append(ap->out, "(NIL NIL ", 9);
		mime_imap_string(ap->out, (const char *)name->data, name->len);
		buf_append(ap->out, " NIL)", 5);
		ap->count++;
	}
	while (ap->i < ap->n) {
		skip_comments(ap, NULL);
		if (at_special(ap, ';')) {
			ap->i++;
			break;
		}
		if (at_special(ap, ',')) {
			ap->i++;
			continue;
		}
		if (ap->i >= ap->n)
			break;
		size_t before = ap->i;
		read_mailbox(ap, true);
		if (ap->i == before)
			ap->i++;
	}
	if (!ap->specs)
		buf_append(ap->out, "(NIL NIL NIL NIL)", 17);
}

/* Parses raw into out: the ENVELOPE list, or with specs the bare
 * addresses; the number of addresses written. */
static size_t parse_list(struct buf *out, struct mime_str raw, bool specs)
{
	struct ap ap;

	memset(&ap, 0, sizeof(ap));
	buf_init(&ap.text);
	buf_init(&ap.s1);
	buf_init(&ap.s2);
	buf_init(&ap.s3);
	buf_init(&ap.s4);
	ap.out = out;
	ap.specs = specs;
	tokenize(&ap, raw);
	while (ap.i < ap.n) {
		size_t before = ap.i;

		/* Comments alone make no address; before an address, they may
		 * give it its name, so read_mailbox sees them again. */
		skip_comments(&ap, NULL);
		if (ap.i >= ap.n)
			break;
		if (at_special(&ap, ',') || at_special(&ap, ';')) {
			ap.i++;
			continue;
		}
		ap.i = before;
		if (group_ahead(&ap))
			read_group(&ap);
		else
			read_mailbox(&ap, false);
		if (ap.i <= before)
			ap.i = before + 1;      /* always make progress */
	}
	free(ap.t);
	buf_free(&ap.text);
	buf_free(&ap.s1);
	buf_free(&ap.s2);
	buf_free(&ap.s3);
	buf_free(&ap.s4);
	return ap.count;
}

bool mime_write_addresses(struct buf *out, struct mime_str raw)
{
	size_t mark = out->len;

	buf_append(out, "(", 1);
	if (parse_list(out, raw, false) == 0) {
		out->len = mark;
		return false;
	}
	buf_append(out, ")", 1);
	return true;
}

void mime_address_specs(struct buf *out, struct mime_str raw)
{
	struct buf specs;

	buf_init(&specs);
	if (parse_list(&specs, raw, true) > 0)
		buf_append(out, specs.data, specs.len);
	buf_free(&specs);
}
