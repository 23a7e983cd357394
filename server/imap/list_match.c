#include "server/imap/list_match.h"

#include <stdint.h>
#include <string.h>

/* State i (0..m) of the automaton means "the first i pattern items have
 * matched the name read so far"; the set of live states is a bit vector of
 * `words` 64-bit words. Reading byte c, state i moves to i+1 when item i is
 * the literal c, and stays at i when item i is "*" (or "%" and c is not the
 * delimiter). A wildcard may also match nothing, so a live state before a
 * wildcard makes the state after it live too (the "closure"); since runs of
 * wildcards are collapsed, one step of it suffices. */
struct imap_list_pattern {
	bool never;            /* cannot match anything */
	char delim;
	size_t m;              /* items after collapsing */
	size_t words;
	uint64_t *lit;         /* lit[c * words ...]: items that are the byte c */
	uint64_t *star, *pct;  /* items that are "*", "%" */
	uint64_t *cur, *next;  /* scratch */
};

#define BIT_SET(v, i) ((v)[(i) / 64] |= (uint64_t)1 << ((i) % 64))
#define BIT_GET(v, i) (((v)[(i) / 64] >> ((i) % 64)) & 1)

static uint64_t *zeroed(struct arena *a, size_t words)
{
	uint64_t *v = arena_alloc(a, words * sizeof(uint64_t));

	memset(v, 0, words * sizeof(uint64_t));
	return v;
}

struct imap_list_pattern *imap_list_pattern_compile(struct arena *a, const char *pat, size_t len,
						    char delim, size_t max_name)
{
	struct imap_list_pattern *p = arena_alloc(a, sizeof(*p));
	char *items = arena_alloc(a, len + 1);
	size_t m = 0, literals = 0;

	memset(p, 0, sizeof(*p));
	p->delim = delim;
	/* Collapse each run of wildcards into one: "*" if it holds a "*"
	 * (which already matches whatever the "%"s could), else "%". */
	for (size_t i = 0; i < len; i++) {
		char c = pat[i];

		if (c == '*' || c == '%') {
			if (m > 0 && (items[m - 1] == '*' || items[m - 1] == '%')) {
				if (c == '*')
					items[m - 1] = '*';
				continue;
			}
		} else
			literals++;
		items[m++] = c;
	}
	if (literals > max_name) {
		p->never = true;
		return p;
	}
	p->m = m;
	p->words = (m + 1 + 63) / 64;
	p->lit = zeroed(a, 256 * p->words);
	p->star = zeroed(a, p->words);
	p->pct = zeroed(a, p->words);
	p->cur = zeroed(a, p->words);
	p->next = zeroed(a, p->words);
	for (size_t i = 0; i < m; i++) {
		if (items[i] == '*')
			BIT_SET(p->star, i);
		else if (items[i] == '%')
			BIT_SET(p->pct, i);
		else
			BIT_SET(p->lit + (size_t)(unsigned char)items[i] * p->words, i);
	}
	return p;
}

/* v |= (v & w) << 1, across words. */
static void closure(uint64_t *v, const uint64_t *star, const uint64_t *pct, size_t words)
{
	uint64_t carry = 0;

	for (size_t k = 0; k < words; k++) {
		uint64_t wild = v[k] & (star[k] | pct[k]);
		uint64_t out = (wild << 1) | carry;

		carry = wild >> 63;
		v[k] |= out;
	}
}

static unsigned char ascii_other_case(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	if (c >= 'a' && c <= 'z')
		return (unsigned char)(c - 'a' + 'A');
	return c;
}

bool imap_list_match(struct imap_list_pattern *p, const char *name, size_t len)
{
	size_t words = p->words, icase = 0;
	uint64_t *cur = p->cur, *next = p->next;

	if (p->never)
		return false;
	if (len >= 5 && memcmp(name, "INBOX", 5) == 0 && (len == 5 || name[5] == p->delim))
		icase = 5;
	memset(cur, 0, words * sizeof(uint64_t));
	cur[0] = 1;
	closure(cur, p->star, p->pct, words);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		const uint64_t *lit = p->lit + (size_t)c * words;
		const uint64_t *lit2 = i < icase ? p->lit + (size_t)ascii_other_case(c) * words : lit;
		bool not_delim = c != (unsigned char)p->delim;
		uint64_t carry = 0, any = 0;

		for (size_t k = 0; k < words; k++) {
			uint64_t adv = cur[k] & (lit[k] | lit2[k]);
			uint64_t stay = cur[k] & (p->star[k] | (not_delim ? p->pct[k] : 0));

			next[k] = (adv << 1) | carry | stay;
			carry = adv >> 63;
			any |= next[k];
		}
		if (any == 0)
			return false;
		closure(next, p->star, p->pct, words);
		{
			uint64_t *t = cur;
			cur = next;
			next = t;
		}
	}
	return BIT_GET(cur, p->m) != 0;
}
