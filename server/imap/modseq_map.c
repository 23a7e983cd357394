#include "server/imap/modseq_map.h"
#include "server/core/buf.h"
#include "server/core/lower_bound.h"

#include <stdlib.h>
#include <string.h>

void modseq_map_free(struct modseq_map *m)
{
	free(m->s);
	memset(m, 0, sizeof(*m));
}

/* The index of the first span whose hi >= uid. */
static size_t find(const struct modseq_map *m, uint32_t uid)
{
	return lower_bound_u32(m->s, m->n, sizeof(*m->s), offsetof(struct modseq_span, hi), uid);
}

uint64_t modseq_map_get(const struct modseq_map *m, uint32_t uid)
{
	size_t i = find(m, uid);

	return i < m->n && m->s[i].lo <= uid ? m->s[i].modseq : 0;
}

/* Appends a span to the list being built, merged with the last one when
 * they touch and share the modseq. */
static void push(struct modseq_span **out, size_t *n, size_t *cap, uint32_t lo, uint32_t hi,
		 uint64_t modseq)
{
	if (*n > 0 && (*out)[*n - 1].modseq == modseq && (*out)[*n - 1].hi + 1 == lo) {
		(*out)[*n - 1].hi = hi;
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*out = xrealloc(*out, *cap * sizeof(**out));
	}
	(*out)[(*n)++] = (struct modseq_span){ lo, hi, modseq };
}

/* Spans [i, j) overlap lo..hi. They give way to: what the first keeps
 * left of lo, then over lo..hi each old span where it is newer and the new
 * modseq elsewhere, then what the last keeps right of hi. */
void modseq_map_raise(struct modseq_map *m, uint32_t lo, uint32_t hi, uint64_t modseq)
{
	struct modseq_span *repl = NULL;
	size_t i = find(m, lo), j = i, n = 0, cap = 0;
	uint64_t at = lo;     /* the next UID of lo..hi to cover (64 bits: hi may be UINT32_MAX) */

	while (j < m->n && m->s[j].lo <= hi)
		j++;
	for (size_t k = i; k < j; k++) {
		const struct modseq_span *o = &m->s[k];
		uint32_t olo = o->lo > lo ? o->lo : lo, ohi = o->hi < hi ? o->hi : hi;
		if (o->lo < lo)
			push(&repl, &n, &cap, o->lo, lo - 1, o->modseq);
		if (at < olo)
			push(&repl, &n, &cap, (uint32_t)at, olo - 1, modseq);
		push(&repl, &n, &cap, olo, ohi, o->modseq > modseq ? o->modseq : modseq);
		at = (uint64_t)ohi + 1;
		if (o->hi > hi)
			push(&repl, &n, &cap, hi + 1, o->hi, o->modseq);
	}
	if (at <= hi)
		push(&repl, &n, &cap, (uint32_t)at, hi, modseq);
	if (m->n - (j - i) + n > m->cap) {
		m->cap = m->n - (j - i) + n + 8;
		m->s = xrealloc(m->s, m->cap * sizeof(*m->s));
	}
	memmove(&m->s[i + n], &m->s[j], (m->n - j) * sizeof(*m->s));
	memcpy(&m->s[i], repl, n * sizeof(*repl));
	m->n = m->n - (j - i) + n;
	free(repl);
}
