/* mime_parse: runs the pieces in order over one message. See mime.h for
 * the contract. */
#include "server/mime/mime_internal.h"

#include <stdlib.h>
#include <string.h>

void mime_limits_default(struct mime_limits *l)
{
	l->max_depth = 32;
	l->max_parts = 1000;
	l->max_header_bytes = 1024 * 1024;
	l->max_fields = 5000;
	l->max_text_bytes = 1024 * 1024;
}

void mime_message_init(struct mime_message *m)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->envelope);
	buf_init(&m->body);
	buf_init(&m->bodystructure);
	buf_init(&m->parts);
	buf_init(&m->text);
	buf_init(&m->preview);
	buf_init(&m->field_data_);
	m->sent_date = INT64_MIN;
}

void mime_message_free(struct mime_message *m)
{
	buf_free(&m->envelope);
	buf_free(&m->body);
	buf_free(&m->bodystructure);
	buf_free(&m->parts);
	buf_free(&m->text);
	buf_free(&m->preview);
	buf_free(&m->field_data_);
	free(m->fields);
	mime_message_init(m);
}

/* Drops the NUL bytes from b after offset from: the decoded values and the
 * text go into PostgreSQL text columns, which cannot hold NUL. */
static void drop_nuls(struct buf *b, size_t from)
{
	size_t w = from;

	for (size_t r = from; r < b->len; r++)
		if (b->data[r] != '\0')
			b->data[w++] = b->data[r];
	b->len = w;
}

/* The fields SEARCH FROM, TO, CC and BCC look at. */
static bool is_address_key(struct mime_str name)
{
	return mime_str_ieq(name, "from") || mime_str_ieq(name, "to") || mime_str_ieq(name, "cc") ||
	       mime_str_ieq(name, "bcc");
}

/* SEARCH FROM/TO/CC/BCC must find an address as parsed as well as the
 * header as written: "<user (comment)@ (comment) domain.org>" is
 * user@domain.org. The parsed addresses (address.c) follow the decoded
 * value in b (from offset from), after a tab, unless the value already
 * holds them as written. tmp is scratch. */
static void add_address_specs(struct buf *b, size_t from, struct mime_str raw, struct buf *tmp)
{
	buf_clear(tmp);
	mime_address_specs(tmp, raw);
	if (tmp->len == 0 ||
	    memmem(b->data + from, b->len - from, tmp->data, tmp->len) != NULL)
		return;
	buf_append(b, "\t", 1);
	buf_append(b, tmp->data, tmp->len);
}

/* The top-level fields, decoded for SEARCH; values live in field_data_ and
 * get their pointers once it has stopped growing. SENT* keys use the first
 * Date field; a message without a parseable one keeps INT64_MIN, and
 * Kairan's SEARCH lets it match no SENTBEFORE/SENTON/SENTSINCE key (RFC
 * 3501 §6.4.4 does not say; Dovecot would fall back to INTERNALDATE). */
static void read_fields(struct mime_message *m, const char *raw, const struct mime_part *root,
		const struct mime_limits *l, struct mime_cs *cs)
{
	struct mime_hiter it;
	struct mime_hfield f;
	struct buf tmp;
	size_t cap = 0;
	size_t *offs = NULL;
	bool have_date = false;

	buf_init(&tmp);
	mime_hiter_init(&it, raw + root->hoff, root->hlen, l);
	while (mime_hiter_next(&it, &f)) {
		if (m->nfields == cap) {
			cap = cap ? cap * 2 : 32;
			m->fields = xrealloc(m->fields, cap * sizeof(*m->fields));
			offs = xrealloc(offs, cap * sizeof(*offs));
		}
		buf_clear(&tmp);
		mime_unfold(f.raw, &tmp);
		offs[m->nfields] = m->field_data_.len;
		mime_decode_words(cs, (const char *)tmp.data, tmp.len, &m->field_data_);
		if (is_address_key(f.name))
			add_address_specs(&m->field_data_, offs[m->nfields], f.raw, &tmp);
		drop_nuls(&m->field_data_, offs[m->nfields]);
		struct mime_field *mf = &m->fields[m->nfields++];
		mf->name = f.name.p;
		mf->name_len = f.name.len;
		mf->value_len = m->field_data_.len - offs[m->nfields - 1];
		buf_append(&m->field_data_, "", 1);
		if (!have_date && mime_str_ieq(f.name, "date")) {
			have_date = true;
			if (!mime_parse_date(f.raw, &m->sent_date, &m->sent_zone))
				m->sent_date = INT64_MIN;
		}
	}
	for (size_t i = 0; i < m->nfields; i++)
		m->fields[i].value = (char *)m->field_data_.data + offs[i];
	if (it.limited)
		m->degraded |= MIME_DEGRADED_HEADER;
	free(offs);
	buf_free(&tmp);
}

void mime_parse(const char *raw, size_t len, const struct mime_limits *limits, struct mime_message *m)
{
	struct mime_limits l;
	struct mime_tree t;
	struct mime_cs cs;

	if (limits != NULL)
		l = *limits;
	else
		mime_limits_default(&l);
	/* Depth is a recursion depth for the writers and a uint16_t. */
	if (l.max_depth > 1000)
		l.max_depth = 1000;
	mime_cs_init(&cs);
	mime_tree_parse(raw, len, &l, &cs, &t);
	m->degraded |= t.degraded;
	const struct mime_part *root = &t.v[0];
	mime_write_envelope(&m->envelope, raw + root->hoff, root->hlen, &l);
	mime_write_bodystructure(&m->body, raw, &t, 0, false, &l, &cs);
	mime_write_bodystructure(&m->bodystructure, raw, &t, 0, true, &l, &cs);
	mime_write_partmap(&m->parts, &t);
	read_fields(m, raw, root, &l, &cs);
	mime_extract_text(&m->text, raw, &t, &l, &cs, &m->degraded);
	drop_nuls(&m->text, 0);
	mime_extract_preview(&m->preview, raw, &t, &l, &cs);
	mime_tree_free(&t);
	mime_cs_free(&cs);
}
