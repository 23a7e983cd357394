#include "server/imap/header_downgrade.h"
#include "server/core/base64.h"
#include "server/imap/mutf7.h"
#include "server/imap/writer.h"

#include <string.h>
#include <strings.h>

/* RFC 2047 §2: an encoded-word is at most 75 characters. */
#define WORD_MAX 75

bool imap_has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

void imap_encode_words(const char *s, size_t len, struct buf *out)
{
	/* A header that is not UTF-8 is almost always Latin-1 (or its
	 * Windows superset) written raw by an old mailer: labelled so, every
	 * byte reaches the client, which could not be said of U+FFFD. */
	bool utf8 = imap_utf8_valid(s, len);
	const char *charset = utf8 ? "UTF-8" : "ISO-8859-1";
	/* "=?" charset "?B?" ... "?=", and 4 BASE64 characters for 3 bytes:
	 * 45 bytes a word in UTF-8, 42 in ISO-8859-1. */
	size_t per_word = (WORD_MAX - 7 - strlen(charset)) / 4 * 3;
	size_t start = 0, end = len;

	/* RFC 2047 §5: an encoded-word replaces whole words, so the run
	 * starts and ends at white space. */
	while (start < len && (unsigned char)s[start] < 0x80)
		start++;
	if (start == len) {
		buf_append(out, s, len);
		return;
	}
	while ((unsigned char)s[end - 1] < 0x80)
		end--;
	while (start > 0 && !is_space(s[start - 1]))
		start--;
	while (end < len && !is_space(s[end]))
		end++;
	buf_append(out, s, start);
	for (size_t i = start; i < end;) {
		size_t j = i + per_word < end ? i + per_word : end;

		/* Never split a character: each word must decode on its own
		 * (RFC 2047 §5). */
		while (utf8 && j < end && ((unsigned char)s[j] & 0xc0) == 0x80)
			j--;
		if (i > start)
			buf_append(out, " ", 1);
		buf_appendf(out, "=?%s?B?", charset);
		base64_encode(s + i, j - i, out);
		buf_append_str(out, "?=");
		i = j;
	}
	buf_append(out, s + end, len - end);
}

enum tok_kind { TK_END, TK_ERROR, TK_OPEN, TK_CLOSE, TK_NIL, TK_ATOM, TK_STRING };

/* One token of a stored value: the spaces before it and its bytes as
 * written are kept, so that what is not rewritten is copied exactly. */
struct token {
	enum tok_kind kind;
	const char *sep;
	size_t sep_len;
	const char *src;
	size_t src_len;
	struct buf value;        /* TK_STRING: the string's bytes */
};

struct walk {
	const char *p, *end;
	struct buf *out;
	struct token tok[5];     /* an address's four fields and its ")" */
};

static bool read_quoted(struct walk *w, const char **q_r, struct token *t)
{
	const char *q = *q_r + 1;

	for (;;) {
		if (q == w->end || *q == '\r' || *q == '\n')
			return false;
		if (*q == '"')
			break;
		if (*q == '\\' && ++q == w->end)
			return false;
		buf_append(&t->value, q, 1);
		q++;
	}
	*q_r = q + 1;
	return true;
}

/* "{n}" CRLF n bytes, or "~{n}" (literal8). */
static bool read_literal(struct walk *w, const char **q_r, struct token *t)
{
	const char *q = *q_r + (**q_r == '~' ? 2 : 1);
	size_t n = 0;

	if (q == w->end || *q < '0' || *q > '9')
		return false;
	for (; q < w->end && *q >= '0' && *q <= '9'; q++) {
		if (n > (size_t)(w->end - w->p))
			return false;
		n = n * 10 + (size_t)(*q - '0');
	}
	if (w->end - q < 3 || memcmp(q, "}\r\n", 3) != 0 || (size_t)(w->end - q - 3) < n)
		return false;
	q += 3;
	buf_append(&t->value, q, n);
	*q_r = q + n;
	return true;
}

static void next(struct walk *w, struct token *t)
{
	const char *q = w->p;

	buf_clear(&t->value);
	t->sep = q;
	while (q < w->end && *q == ' ')
		q++;
	t->sep_len = (size_t)(q - t->sep);
	t->src = q;
	t->kind = TK_ERROR;
	if (q == w->end) {
		t->kind = TK_END;
	} else if (*q == '(' || *q == ')') {
		t->kind = *q == '(' ? TK_OPEN : TK_CLOSE;
		q++;
	} else if (*q == '"') {
		if (read_quoted(w, &q, t))
			t->kind = TK_STRING;
	} else if (*q == '{' || (*q == '~' && q + 1 < w->end && q[1] == '{')) {
		if (read_literal(w, &q, t))
			t->kind = TK_STRING;
	} else {
		while (q < w->end && *q != ' ' && *q != '(' && *q != ')' && *q != '"' && *q != '{')
			q++;
		/* An atom is copied as it is, so one with 8-bit bytes (which
		 * server/mime never writes) is refused rather than sent. */
		if (q > t->src && !imap_has_8bit(t->src, (size_t)(q - t->src)))
			t->kind = q - t->src == 3 && strncasecmp(t->src, "NIL", 3) == 0 ? TK_NIL : TK_ATOM;
	}
	t->src_len = (size_t)(q - t->src);
	w->p = q;
}

static void write_encoded(struct buf *out, const char *s, size_t len)
{
	struct buf enc;

	buf_init(&enc);
	imap_encode_words(s, len, &enc);
	imap_write_string(out, enc.len > 0 ? (const char *)enc.data : "", enc.len);
	buf_free(&enc);
}

/* A token as it was, or as encoded-words when it is an 8-bit string. */
static void emit(struct buf *out, const struct token *t)
{
	buf_append(out, t->sep, t->sep_len);
	if (t->kind == TK_STRING && imap_has_8bit((const char *)t->value.data, t->value.len))
		write_encoded(out, (const char *)t->value.data, t->value.len);
	else
		buf_append(out, t->src, t->src_len);
}

static bool is_8bit_string(const struct token *t)
{
	return t->kind == TK_STRING && imap_has_8bit((const char *)t->value.data, t->value.len);
}

/* "Name <mailbox@host>", or "mailbox@host" without a name. */
static void address_text(const struct walk *w, struct buf *text)
{
	const struct token *name = &w->tok[0], *mbox = &w->tok[2], *host = &w->tok[3];

	if (name->kind == TK_STRING && name->value.len > 0) {
		buf_append(text, name->value.data, name->value.len);
		buf_append_str(text, " <");
	}
	buf_append(text, mbox->value.data, mbox->value.len);
	buf_append(text, "@", 1);
	buf_append(text, host->value.data, host->value.len);
	if (name->kind == TK_STRING && name->value.len > 0)
		buf_append(text, ">", 1);
}

/* One address, its "(" already read (sep: the spaces before it). */
static int address(struct walk *w, const struct token *open, bool *in_group)
{
	struct token *f = w->tok;
	struct buf text;

	for (size_t i = 0; i < 4; i++) {
		next(w, &f[i]);
		if (f[i].kind != TK_NIL && f[i].kind != TK_STRING)
			return -1;
	}
	next(w, &f[4]);
	if (f[4].kind != TK_CLOSE)
		return -1;
	if (f[3].kind == TK_NIL)                 /* RFC 3501 §7.4.2: a group marker */
		*in_group = f[2].kind != TK_NIL;
	if (f[3].kind == TK_NIL || (!is_8bit_string(&f[1]) && !is_8bit_string(&f[2]) &&
				    !is_8bit_string(&f[3]))) {
		emit(w->out, open);
		for (size_t i = 0; i < 5; i++)
			emit(w->out, &f[i]);
		return 0;
	}
	buf_init(&text);
	address_text(w, &text);
	buf_append(w->out, open->sep, open->sep_len);
	buf_append_str(w->out, *in_group ? "(" : "(NIL NIL ");
	write_encoded(w->out, (const char *)text.data, text.len);
	buf_append_str(w->out, *in_group ? " NIL \"invalid\" \"invalid\")" : " NIL)(NIL NIL NIL NIL)");
	buf_free(&text);
	return 0;
}

/* An address list: "(" 1*address ")", its "(" already written. */
static int address_list(struct walk *w)
{
	bool in_group = false;
	struct token t;
	int r = 0;

	buf_init(&t.value);
	for (;;) {
		next(w, &t);
		if (t.kind == TK_CLOSE) {
			emit(w->out, &t);
			break;
		}
		if (t.kind != TK_OPEN || address(w, &t, &in_group) < 0) {
			r = -1;
			break;
		}
	}
	buf_free(&t.value);
	return r;
}

static void walk_init(struct walk *w, const char *v, size_t len, struct buf *out)
{
	w->p = v;
	w->end = v + len;
	w->out = out;
	for (size_t i = 0; i < 5; i++)
		buf_init(&w->tok[i].value);
}

static int walk_done(struct walk *w, int r, size_t old_len)
{
	for (size_t i = 0; i < 5; i++)
		buf_free(&w->tok[i].value);
	if (r < 0)
		w->out->len = old_len;
	return r;
}

/* RFC 3501 §7.4.2: date, subject, then six address lists (from, sender,
 * reply-to, to, cc, bcc), in-reply-to and message-id. */
static int envelope(struct walk *w)
{
	struct token t;
	int r = -1;

	buf_init(&t.value);
	next(w, &t);
	if (t.kind != TK_OPEN)
		goto out;
	emit(w->out, &t);
	for (size_t field = 0;; field++) {
		next(w, &t);
		if (t.kind == TK_CLOSE) {
			emit(w->out, &t);
			break;
		}
		if (t.kind == TK_OPEN && field >= 2 && field <= 7) {
			emit(w->out, &t);
			if (address_list(w) < 0)
				goto out;
		} else if (t.kind == TK_STRING || t.kind == TK_NIL) {
			emit(w->out, &t);
		} else {
			goto out;
		}
	}
	next(w, &t);
	if (t.kind == TK_END) {
		emit(w->out, &t);            /* trailing spaces, kept as they were */
		r = 0;
	}
out:
	buf_free(&t.value);
	return r;
}

int imap_envelope_downgrade(const char *env, size_t len, struct buf *out)
{
	struct walk w;
	size_t old_len = out->len;

	walk_init(&w, env, len, out);
	return walk_done(&w, envelope(&w), old_len);
}

/* Whether the list whose "(" was just read is a body-fld-param (RFC 3501
 * §9: "(" string SP string *(SP string SP string) ")"): strings only, in
 * pairs. No other list of BODYSTRUCTURE is (a disposition holds a list,
 * a language list has no 8-bit bytes to rewrite). The reader is left
 * where it was. */
static bool at_parameters(struct walk *w)
{
	const char *at = w->p;
	struct token *t = &w->tok[2];
	size_t n = 0;

	for (next(w, t); t->kind == TK_STRING; next(w, t))
		n++;
	w->p = at;
	return t->kind == TK_CLOSE && n >= 2 && n % 2 == 0;
}

/* RFC 2231 §7 attribute-char: what an extended value may hold as it is. */
static bool attribute_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL;
}

/* A parameter whose value has 8-bit bytes, as the message would have had
 * it without RFC 6532: RFC 2231's name*=charset''%XX (§4), the form MIME
 * defines for parameter values (RFC 2047 §5 forbids encoded-words in
 * them). */
static void emit_extended_parameter(struct buf *out, const struct token *key,
				    const struct token *value)
{
	const char *v = (const char *)value->value.data;
	struct buf name, ext;

	buf_init(&name);
	buf_init(&ext);
	buf_append(&name, key->value.data, key->value.len);
	buf_append(&name, "*", 1);
	buf_append_str(&ext, imap_utf8_valid(v, value->value.len) ? "utf-8''" : "iso-8859-1''");
	for (size_t i = 0; i < value->value.len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (attribute_char(c))
			buf_append(&ext, &v[i], 1);
		else
			buf_appendf(&ext, "%%%02X", c);
	}
	buf_append(out, key->sep, key->sep_len);
	imap_write_string(out, (const char *)name.data, name.len);
	buf_append(out, value->sep, value->sep_len);
	imap_write_string(out, (const char *)ext.data, ext.len);
	buf_free(&name);
	buf_free(&ext);
}

/* The pairs of a parameter list, its "(" written; ends after its ")". */
static int parameters(struct walk *w)
{
	struct token *key = &w->tok[0], *value = &w->tok[1];

	for (;;) {
		next(w, key);
		if (key->kind == TK_CLOSE) {
			emit(w->out, key);
			return 0;
		}
		next(w, value);
		if (key->kind != TK_STRING || value->kind != TK_STRING)
			return -1;
		if (!is_8bit_string(key) && is_8bit_string(value)) {
			emit_extended_parameter(w->out, key, value);
		} else {
			emit(w->out, key);
			emit(w->out, value);
		}
	}
}

int imap_bodystructure_downgrade(const char *v, size_t len, struct buf *out)
{
	struct walk w;
	size_t old_len = out->len, depth = 0;
	struct token t;
	int r = 0;

	buf_init(&t.value);
	walk_init(&w, v, len, out);
	for (next(&w, &t); t.kind != TK_END; next(&w, &t)) {
		if (t.kind == TK_ERROR || (t.kind == TK_CLOSE && depth == 0)) {
			r = -1;
			break;
		}
		emit(out, &t);
		if (t.kind == TK_OPEN && at_parameters(&w)) {
			if (parameters(&w) < 0) {
				r = -1;
				break;
			}
			continue;
		}
		depth += t.kind == TK_OPEN;
		depth -= t.kind == TK_CLOSE;
	}
	if (r == 0 && depth != 0)
		r = -1;
	if (r == 0)
		emit(out, &t);                   /* TK_END: trailing spaces */
	buf_free(&t.value);
	return walk_done(&w, r, old_len);
}
