#include "server/imap/uid_ranges.h"
#include "server/core/buf.h"
#include "server/core/lower_bound.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void uid_ranges_free(struct uid_ranges *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

/* The index of the first range whose hi >= uid. */
static size_t find(const struct uid_ranges *s, uint32_t uid)
{
	return lower_bound_u32(s->r, s->n, sizeof(*s->r), offsetof(struct imap_uid_range, hi), uid);
}

bool uid_ranges_has(const struct uid_ranges *s, uint32_t uid)
{
	size_t i = find(s, uid);

	return i < s->n && s->r[i].lo <= uid;
}

static void insert_at(struct uid_ranges *s, size_t i, uint32_t lo, uint32_t hi)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->r = xrealloc(s->r, s->cap * sizeof(*s->r));
	}
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
	s->r[i].lo = lo;
	s->r[i].hi = hi;
	s->n++;
}

static void remove_at(struct uid_ranges *s, size_t i)
{
	memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof(*s->r));
	s->n--;
}

void uid_ranges_add(struct uid_ranges *s, uint32_t uid)
{
	size_t i = find(s, uid);
	bool joins_prev = i > 0 && s->r[i - 1].hi + 1 == uid;
	bool joins_next = i < s->n && uid != UINT32_MAX && s->r[i].lo == uid + 1;

	if (i < s->n && s->r[i].lo <= uid)
		return;
	if (joins_prev && joins_next) {
		s->r[i - 1].hi = s->r[i].hi;
		remove_at(s, i);
	} else if (joins_prev)
		s->r[i - 1].hi = uid;
	else if (joins_next)
		s->r[i].lo = uid;
	else
		insert_at(s, i, uid, uid);
}

void uid_ranges_remove(struct uid_ranges *s, uint32_t uid)
{
	size_t i = find(s, uid);

	if (i == s->n || s->r[i].lo > uid)
		return;
	if (s->r[i].lo == uid && s->r[i].hi == uid)
		remove_at(s, i);
	else if (s->r[i].lo == uid)
		s->r[i].lo++;
	else if (s->r[i].hi == uid)
		s->r[i].hi--;
	else {
		insert_at(s, i + 1, uid + 1, s->r[i].hi);
		s->r[i].hi = uid - 1;
	}
}

/* One bound: digits, or empty for an unbounded end. */
static int parse_bound(const char **p, bool *present_r, long long *v_r)
{
	char *end;

	*present_r = (**p >= '0' && **p <= '9') || **p == '-';
	if (!*present_r)
		return 0;
	*v_r = strtoll(*p, &end, 10);
	*p = end;
	return 0;
}

static long long clip(long long v)
{
	return v < 1 ? 1 : v;
}

int uid_ranges_parse_multirange(struct uid_ranges *s, const char *p)
{
	s->n = 0;
	if (*p++ != '{')
		goto bad;
	while (*p == '[' || *p == '(') {
		bool lo_incl = *p++ == '[', has_lo, has_hi, hi_incl;
		long long lo = 1, hi = 4294967296LL;

		parse_bound(&p, &has_lo, &lo);
		if (*p++ != ',')
			goto bad;
		parse_bound(&p, &has_hi, &hi);
		if (*p != ']' && *p != ')')
			goto bad;
		hi_incl = *p++ == ']';
		lo = has_lo ? lo + !lo_incl : 1;
		hi = has_hi ? hi - !hi_incl : 4294967295LL;
		/* Clipped to the UID space; what lies wholly outside is dropped. */
		if (lo <= hi && hi >= 1 && lo <= 4294967295LL)
			insert_at(s, s->n, (uint32_t)clip(lo), (uint32_t)(hi > 4294967295LL ? 4294967295LL : hi));
		if (*p == ',')
			p++;
	}
	if (*p++ != '}' || *p != '\0')
		goto bad;
	return 0;
bad:
	s->n = 0;
	return -1;
}
