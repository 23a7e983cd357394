#include "server/imap/private_keywords.h"
#include "server/core/buf.h"

#include <string.h>
#include <strings.h>

#define SEPARATORS " ,\t"

const char *imap_private_keyword_next(const char **p, size_t *len_r)
{
	const char *name;

	*p += strspn(*p, SEPARATORS);
	name = *p;
	*len_r = strcspn(name, SEPARATORS);
	*p += *len_r;
	return *len_r > 0 ? name : NULL;
}

const char *imap_private_keyword(const char *names, const char *kw, size_t len, size_t *len_r)
{
	const char *name;

	while ((name = imap_private_keyword_next(&names, len_r)) != NULL)
		if (*len_r == len && strncasecmp(name, kw, len) == 0)
			return name;
	return NULL;
}

/* Appends one element to a text[] literal being built. */
static void array_add(struct buf *b, const char *s, size_t len)
{
	buf_append_str(b, b->len > 1 ? ",\"" : "\"");
	buf_append(b, s, len);
	buf_append(b, "\"", 1);
}

static const char *array_done(struct arena *a, struct buf *b)
{
	const char *out;

	buf_append(b, "}", 1);
	out = arena_strndup(a, (const char *)b->data, b->len);
	buf_free(b);
	return out;
}

const char *imap_private_keywords_array(struct arena *a, const char *names)
{
	struct buf b;
	const char *name;
	size_t len;

	buf_init(&b);
	buf_append(&b, "{", 1);
	while ((name = imap_private_keyword_next(&names, &len)) != NULL)
		array_add(&b, name, len);
	return array_done(a, &b);
}

size_t imap_private_keywords_split(struct arena *a, const char *names, const struct imap_flags *f,
				   struct imap_flags *shared_r, const char **private_r)
{
	struct buf b;
	size_t nprivate = 0;

	*shared_r = *f;
	shared_r->keywords = arena_alloc(a, (f->nkeywords + 1) * sizeof(*shared_r->keywords));
	shared_r->keyword_lens = arena_alloc(a, (f->nkeywords + 1) * sizeof(*shared_r->keyword_lens));
	shared_r->nkeywords = 0;
	buf_init(&b);
	buf_append(&b, "{", 1);
	for (size_t i = 0; i < f->nkeywords; i++) {
		size_t len;
		const char *name = imap_private_keyword(names, f->keywords[i], f->keyword_lens[i], &len);
		if (name != NULL) {
			array_add(&b, name, len);
			nprivate++;
			continue;
		}
		shared_r->keywords[shared_r->nkeywords] = f->keywords[i];
		shared_r->keyword_lens[shared_r->nkeywords++] = f->keyword_lens[i];
	}
	*private_r = array_done(a, &b);
	return nprivate;
}
