/* A message's precomputed columns as statement parameters (db_private.h),
 * the one encoding APPEND (db_append.c) and reanalysis (db_reanalyse.c)
 * share. */
#include <stdio.h>
#include <string.h>

#include "schema/db_message.h"
#include "schema/db_private.h"

/* The body text without NUL bytes. */
static void clean_text(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\0')
			buf_append(out, &s[i], 1);
	buf_append(out, "", 1);
}

static void binary(struct db_analysed *a, int i, const char *data, size_t len)
{
	a->values[i] = data;
	a->lengths[i] = (int)len;
	a->formats[i] = 1;
}

void db_analysed_params(struct db_analysed *a, const struct db_append_msg *m)
{
	memset(a, 0, sizeof(*a));
	buf_init(&a->fields);
	buf_init(&a->text);
	binary(a, 0, m->envelope, m->envelope_len);
	binary(a, 1, m->body, m->body_len);
	binary(a, 2, m->bodystructure, m->bodystructure_len);
	binary(a, 3, m->parts, m->parts_len);
	snprintf(a->version, sizeof(a->version), "%d", m->mime_version);
	a->values[4] = a->version;
	db_text_array_append(&a->fields, (const char *const *)m->header_fields, m->nheader_fields);
	a->values[5] = (const char *)a->fields.data;
	clean_text(m->body_text != NULL ? m->body_text : "", m->body_text_len, &a->text);
	a->values[6] = (const char *)a->text.data;
	snprintf(a->sent, sizeof(a->sent), "%lld", (long long)m->sent_days);
	a->values[7] = m->sent_days == INT64_MIN ? NULL : a->sent;
	a->values[8] = m->header_text != NULL ? m->header_text : "";
	a->values[9] = m->preview != NULL ? m->preview : "";
}

void db_analysed_free(struct db_analysed *a)
{
	buf_free(&a->fields);
	buf_free(&a->text);
}
