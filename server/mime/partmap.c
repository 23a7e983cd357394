/* The part map: where every part of a message is, stored in messages.parts
 * (jsonb) so that FETCH BODY[section] and BINARY[section] are a substring
 * of the raw message away, without parsing it again.
 *
 * Format, version 1: a JSON array whose first element is the version,
 * followed by one array per part in pre-order (a part, then its
 * descendants):
 *
 *   [1,[hoff,hlen,boff,blen,kind,enc,ndesc],[...],...]
 *
 *   hoff,hlen  the part's header in the raw message (the message header
 *              for the top level and for an encapsulated message; the MIME
 *              header for a body part), including its blank line if any
 *   boff,blen  the part's body (without the CRLF before the next boundary)
 *   kind       0 a leaf, 1 multipart (its parts follow), 2 message/rfc822
 *              or message/global (the next node is the encapsulated
 *              message: header = the message's header, body = its body)
 *   enc        enum mime_encoding of the part (0 7bit, 1 8bit, 2 binary,
 *              3 base64, 4 quoted-printable, 5 other)
 *   ndesc      number of nodes that follow and belong to this part's
 *              subtree, so a reader can skip a subtree without recursion
 *
 * The first node is the whole message. Only arrays and non-negative
 * integers appear, because jsonb keeps neither object key order nor
 * white space: PostgreSQL gives back "[1, [0, 120, ...]]", which the
 * reader accepts as well. A new layout needs a new version number and
 * MIME_VERSION bump; mime_section_find refuses versions it does not know.
 *
 * Section numbers (RFC 3501 §6.4.5) map onto nodes as in Dovecot: a number
 * selects a part of a multipart; a message that is not multipart has only
 * part 1, itself; after a message/rfc822 part, the next number continues
 * inside its encapsulated message. */
#include "server/mime/mime_internal.h"

#include <stdlib.h>
#include <string.h>

static void write_node(struct buf *out, const struct mime_tree *t, const uint32_t *ndesc, uint32_t idx)
{
	const struct mime_part *p = &t->v[idx];
	int kind = p->kind == MIME_MULTIPART ? 1 : p->kind == MIME_MESSAGE ? 2 : 0;

	buf_appendf(out, ",[%llu,%llu,%llu,%llu,%d,%d,%u]", (unsigned long long)p->hoff,
			(unsigned long long)p->hlen, (unsigned long long)p->boff,
			(unsigned long long)p->blen, kind, p->enc, ndesc[idx]);
	for (uint32_t c = p->first_child; c != MIME_NONE; c = t->v[c].next)
		write_node(out, t, ndesc, c);
}

void mime_write_partmap(struct buf *out, const struct mime_tree *t)
{
	uint32_t *ndesc = xcalloc(t->n, sizeof(*ndesc));

	/* Children always come after their parent in t->v. */
	for (size_t i = t->n; i-- > 1;)
		ndesc[t->v[i].parent] += 1 + ndesc[i];
	buf_append(out, "[1", 2);
	write_node(out, t, ndesc, 0);
	buf_append(out, "]", 1);
	free(ndesc);
}

struct node {
	uint64_t v[7];
};

enum { N_HOFF, N_HLEN, N_BOFF, N_BLEN, N_KIND, N_ENC, N_NDESC };

struct rd {
	const uint8_t *p, *end;
};

static void skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool expect(struct rd *r, char c)
{
	skip_ws(r);
	if (r->p == r->end || *r->p != (uint8_t)c)
		return false;
	r->p++;
	return true;
}

static bool number(struct rd *r, uint64_t *v)
{
	skip_ws(r);
	const uint8_t *start = r->p;
	*v = 0;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		if (*v > (UINT64_MAX >> 4))
			return false;   /* far beyond any message size */
		*v = *v * 10 + (uint64_t)(*r->p++ - '0');
	}
	return r->p != start;
}

/* ",[a,b,c,d,e,f,g]" */
static bool read_node(struct rd *r, struct node *n)
{
	if (!expect(r, ',') || !expect(r, '['))
		return false;
	for (int i = 0; i < 7; i++)
		if ((i > 0 && !expect(r, ',')) || !number(r, &n->v[i]))
			return false;
	return expect(r, ']') && n->v[N_KIND] <= 2 && n->v[N_ENC] <= MIME_ENC_OTHER;
}

static bool skip_nodes(struct rd *r, uint64_t count)
{
	struct node n;

	while (count-- > 0)
		if (!read_node(r, &n))
			return false;
	return true;
}

static struct mime_range range(uint64_t off, uint64_t len)
{
	return (struct mime_range){ off, len };
}

int mime_section_find(const uint8_t *parts, size_t parts_len, const uint32_t *path,
		size_t depth, struct mime_section *s)
{
	struct rd r = { parts, parts + parts_len };
	struct node cur, child;
	uint64_t version;
	bool entered = true;   /* cur is a message whose part 1 is still unused */

	memset(s, 0, sizeof(*s));
	if (!expect(&r, '[') || !number(&r, &version) || version != 1 || !read_node(&r, &cur))
		return -1;
	for (size_t i = 0; i < depth; i++) {
		uint32_t n = path[i];

		if (n == 0)
			return -1;
		if (cur.v[N_KIND] == 1) {
			uint64_t left = cur.v[N_NDESC];
			if (left == 0 || !read_node(&r, &child))
				return -1;
			for (uint32_t k = 1; k < n; k++) {
				if (left <= 1 + child.v[N_NDESC] || child.v[N_NDESC] >= left)
					return -1;      /* no part number n */
				left -= 1 + child.v[N_NDESC];
				if (!skip_nodes(&r, child.v[N_NDESC]) || !read_node(&r, &child))
					return -1;
			}
			cur = child;
		} else if (n != 1 || !entered) {
			return -1;
		}
		entered = false;
		if (i + 1 < depth && cur.v[N_KIND] == 2) {
			if (!read_node(&r, &cur))
				return -1;
			entered = true;
		}
	}
	s->header = range(cur.v[N_HOFF], cur.v[N_HLEN]);
	s->body = range(cur.v[N_BOFF], cur.v[N_BLEN]);
	s->encoding = (enum mime_encoding)cur.v[N_ENC];
	s->is_multipart = cur.v[N_KIND] == 1;
	if (depth == 0) {
		s->is_message = true;
		s->msg_header = s->header;
		s->msg_text = s->body;
	} else if (cur.v[N_KIND] == 2) {
		if (!read_node(&r, &child))
			return -1;
		s->is_message = true;
		s->msg_header = range(child.v[N_HOFF], child.v[N_HLEN]);
		s->msg_text = range(child.v[N_BOFF], child.v[N_BLEN]);
	}
	return 0;
}
