/* A raw message becomes what the store takes (struct db_append_msg): one
 * MIME parse (server/mime) for ENVELOPE, BODYSTRUCTURE, the part map and
 * the search text, for APPEND and for LMTP delivery alike. */
#include "server/imap/message_analyse.h"
#include "server/imap/datetime.h"
#include "server/imap/mutf7.h"
#include "server/mime/mime.h"

#include <stdint.h>
#include <string.h>

/* PostgreSQL text must be valid UTF-8 without NUL: any other byte becomes
 * '?'. The MIME layer already converts, so this only catches its misses
 * (8-bit bytes in field names, undeclared charsets). Writes at most len
 * bytes to out and returns how many. */
static size_t utf8_clean(const char *s, size_t len, char *out)
{
	size_t at = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c != 0 && i + n <= len && imap_utf8_valid(s + i, n)) {
			memcpy(out + at, s + i, n);
			at += n;
			i += n;
		} else {
			out[at++] = '?';
			i++;
		}
	}
	return at;
}

static const char *arena_utf8(struct arena *a, const void *s, size_t len, size_t *len_r)
{
	char *out = arena_alloc(a, len + 1);
	size_t n = utf8_clean(s, len, out);

	out[n] = '\0';
	if (len_r != NULL)
		*len_r = n;
	return out;
}

/* For SEARCH: "name:value" per top-level field, name in lower case, and
 * the header as "Name: value" lines. */
static void search_fields(struct arena *a, const struct mime_message *mm, struct db_append_msg *m)
{
	size_t text_room = 1, at = 0;
	char *text;

	m->header_fields = arena_alloc(a, (mm->nfields + 1) * sizeof(char *));
	m->nheader_fields = mm->nfields;
	for (size_t i = 0; i < mm->nfields; i++) {
		const struct mime_field *f = &mm->fields[i];
		char *field = arena_alloc(a, f->name_len + f->value_len + 2);
		size_t n = 0;

		for (size_t k = 0; k < f->name_len; k++) {
			char c = f->name[k];
			c = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			n += utf8_clean(&c, 1, field + n);
		}
		field[n++] = ':';
		n += utf8_clean(f->value, f->value_len, field + n);
		field[n] = '\0';
		m->header_fields[i] = field;
		text_room += f->name_len + f->value_len + 3;
	}
	text = arena_alloc(a, text_room);
	for (size_t i = 0; i < mm->nfields; i++) {
		const struct mime_field *f = &mm->fields[i];
		at += utf8_clean(f->name, f->name_len, text + at);
		memcpy(text + at, ": ", 2);
		at += 2;
		at += utf8_clean(f->value, f->value_len, text + at);
		text[at++] = '\n';
	}
	text[at] = '\0';
	m->header_text = text;
}

/* A copy of what mime_parse wrote; NULL (the store computes it later)
 * when it wrote nothing. */
static const char *arena_buf(struct arena *a, const struct buf *b, size_t *len_r)
{
	*len_r = b->len;
	return b->data == NULL ? NULL : arena_strndup(a, b->data, b->len);
}

/* Parses the message with server/mime and keeps, in the arena, what the
 * store takes; the parse's own memory is released here. */
void imap_message_analyse(struct arena *a, struct db_append_msg *m)
{
	struct mime_limits limits;
	struct mime_message mm;

	mime_limits_default(&limits);
	mime_message_init(&mm);
	mime_parse(m->raw, m->raw_len, &limits, &mm);
	m->envelope = arena_buf(a, &mm.envelope, &m->envelope_len);
	m->body = arena_buf(a, &mm.body, &m->body_len);
	m->bodystructure = arena_buf(a, &mm.bodystructure, &m->bodystructure_len);
	m->parts = arena_buf(a, &mm.parts, &m->parts_len);
	m->mime_version = MIME_VERSION;
	search_fields(a, &mm, m);
	m->body_text = arena_utf8(a, mm.text.data, mm.text.len, &m->body_text_len);
	m->preview = arena_utf8(a, mm.preview.data, mm.preview.len, NULL);
	m->sent_days = mm.sent_date == INT64_MIN ? INT64_MIN :
		       imap_utc_days(mm.sent_date, mm.sent_zone);
	mime_message_free(&mm);
}
