#include "server/imap/msn_map.h"
#include "server/core/buf.h"
#include "server/core/lower_bound.h"

#include <stdlib.h>
#include <string.h>

void msn_map_free(struct msn_map *m)
{
	free(m->runs);
	free(m->before);
	memset(m, 0, sizeof(*m));
}

/* The run that holds uid, or nruns. */
static size_t run_of(const struct msn_map *m, uint32_t uid)
{
	size_t i = lower_bound_u32(m->runs, m->nruns, sizeof(*m->runs),
				   offsetof(struct imap_uid_range, hi), uid);

	return i < m->nruns && m->runs[i].lo <= uid ? i : m->nruns;
}

uint32_t msn_map_msn(const struct msn_map *m, uint32_t uid)
{
	size_t i = run_of(m, uid);

	return i < m->nruns ? m->before[i] + (uid - m->runs[i].lo) + 1 : 0;
}

uint32_t msn_map_uid(const struct msn_map *m, uint32_t msn)
{
	/* The last run with fewer than msn messages before it. */
	size_t i = lower_bound_u32(m->before, m->nruns, sizeof(*m->before), 0, msn) - 1;

	return m->runs[i].lo + (msn - 1 - m->before[i]);
}

uint32_t msn_map_last(const struct msn_map *m)
{
	return m->nruns > 0 ? m->runs[m->nruns - 1].hi : 0;
}

static void insert_run(struct msn_map *m, size_t i, uint32_t lo, uint32_t hi, uint32_t before)
{
	if (m->nruns == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->runs = xrealloc(m->runs, m->cap * sizeof(*m->runs));
		m->before = xrealloc(m->before, m->cap * sizeof(*m->before));
	}
	memmove(&m->runs[i + 1], &m->runs[i], (m->nruns - i) * sizeof(*m->runs));
	memmove(&m->before[i + 1], &m->before[i], (m->nruns - i) * sizeof(*m->before));
	m->runs[i] = (struct imap_uid_range){ lo, hi };
	m->before[i] = before;
	m->nruns++;
}

void msn_map_append(struct msn_map *m, uint32_t uid)
{
	if (m->nruns > 0 && m->runs[m->nruns - 1].hi + 1 == uid)
		m->runs[m->nruns - 1].hi = uid;
	else
		insert_run(m, m->nruns, uid, uid, m->count);
	m->count++;
}

uint32_t msn_map_remove(struct msn_map *m, uint32_t uid)
{
	size_t i = run_of(m, uid), after;   /* after: the first run behind the message */
	struct imap_uid_range *r;
	uint32_t msn;

	if (i == m->nruns)
		return 0;
	msn = m->before[i] + (uid - m->runs[i].lo) + 1;
	r = &m->runs[i];
	after = i + 1;
	if (r->lo == uid && r->hi == uid) {
		memmove(&m->runs[i], &m->runs[i + 1], (m->nruns - i - 1) * sizeof(*m->runs));
		memmove(&m->before[i], &m->before[i + 1], (m->nruns - i - 1) * sizeof(*m->before));
		m->nruns--;
		after = i;
	} else if (r->lo == uid)
		r->lo++;
	else if (r->hi == uid)
		r->hi--;
	else {
		uint32_t hi = r->hi;
		r->hi = uid - 1;
		/* The second half: msn - 1 messages before it, once removed. */
		insert_run(m, i + 1, uid + 1, hi, msn - 1);
		after = i + 2;
	}
	for (size_t j = after; j < m->nruns; j++)
		m->before[j]--;
	m->count--;
	return msn;
}
