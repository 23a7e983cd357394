#include "server/imap/seqset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* nz-number = digit-nz *DIGIT (RFC 3501 §9), and it must fit in 32 bits
 * (RFC 3501 §2.3.1.1: UIDs and sequence numbers are 32-bit). Leading zeros
 * are outside the grammar, which also keeps "0001" from hiding a 0. */
static int parse_number(const char *s, size_t len, size_t *pos, uint32_t *n_r)
{
	size_t i = *pos;
	uint64_t n = 0;

	if (i < len && s[i] == '*') {
		*pos = i + 1;
		*n_r = IMAP_SEQ_STAR;
		return 0;
	}
	if (i >= len || s[i] < '1' || s[i] > '9')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		n = n * 10 + (uint64_t)(s[i] - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*pos = i;
	*n_r = (uint32_t)n;
	return 0;
}

int imap_seqset_parse(struct arena *a, const char *s, size_t len, size_t max_ranges,
		struct imap_seqset *set_r)
{
	size_t elements = 1, pos = 0;

	set_r->ranges = NULL;
	set_r->count = 0;
	set_r->saved = false;
	if (len == 1 && s[0] == '$') {
		set_r->saved = true;
		return 0;
	}
	if (len == 0)
		return -1;
	/* Count before allocating: the element count is bounded by the commas,
	 * and a hostile list is refused before it costs any memory. */
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ',' && ++elements > max_ranges)
			return -1;
	}
	if (elements > max_ranges)
		return -1;

	struct imap_seq_range *r = arena_alloc(a, elements * sizeof(*r));
	for (size_t k = 0; k < elements; k++) {
		if (parse_number(s, len, &pos, &r[k].lo) < 0)
			return -1;
		r[k].hi = r[k].lo;
		if (pos < len && s[pos] == ':') {
			pos++;
			if (parse_number(s, len, &pos, &r[k].hi) < 0)
				return -1;
		}
		/* Each element but the last must be followed by exactly one comma;
		 * the last by the end of the input. */
		if (k + 1 < elements) {
			if (pos >= len || s[pos] != ',')
				return -1;
			pos++;
		}
	}
	if (pos != len)
		return -1;
	set_r->ranges = r;
	set_r->count = elements;
	return 0;
}

static int range_cmp(const void *x, const void *y)
{
	const struct imap_seq_range *a = x, *b = y;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (a->hi > b->hi) - (a->hi < b->hi);
}

void imap_seqset_resolve(struct arena *a, const struct imap_seqset *in, uint32_t max,
		bool clamp, struct imap_seqset *out)
{
	struct imap_seq_range *r = NULL;
	size_t n = 0;

	out->saved = in->saved;
	if (in->count > 0 && !in->saved)
		r = arena_alloc(a, in->count * sizeof(*r));
	for (size_t i = 0; i < in->count && !in->saved; i++) {
		uint32_t lo = in->ranges[i].lo, hi = in->ranges[i].hi;

		/* max == 0: there is no message for '*' to name. */
		if ((lo == IMAP_SEQ_STAR || hi == IMAP_SEQ_STAR) && max == 0)
			continue;
		if (lo == IMAP_SEQ_STAR)
			lo = max;
		if (hi == IMAP_SEQ_STAR)
			hi = max;
		/* "5:1" and "1:5" are the same range (RFC 3501 §9 seq-range). */
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (clamp) {
			if (lo > max)
				continue;
			if (hi > max)
				hi = max;
		}
		r[n].lo = lo;
		r[n].hi = hi;
		n++;
	}
	if (n > 1)
		qsort(r, n, sizeof(*r), range_cmp);

	/* Merge in place: after sorting, a range overlaps or touches the last
	 * kept one exactly when it starts no later than one past its end. The
	 * sum is done in 64 bits so that hi = 4294967295 cannot wrap. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept > 0 && (uint64_t)r[i].lo <= (uint64_t)r[kept - 1].hi + 1) {
			if (r[i].hi > r[kept - 1].hi)
				r[kept - 1].hi = r[i].hi;
		} else
			r[kept++] = r[i];
	}
	out->ranges = kept > 0 ? r : NULL;
	out->count = kept;
}

bool imap_seqset_in_range(const struct imap_seqset *parsed, uint32_t max)
{
	if (parsed->saved)
		return true;
	for (size_t i = 0; i < parsed->count; i++) {
		const struct imap_seq_range *r = &parsed->ranges[i];
		/* '*' is IMAP_SEQ_STAR (0): valid exactly when max > 0. */
		if (r->lo > max || r->hi > max)
			return false;
		if ((r->lo == IMAP_SEQ_STAR || r->hi == IMAP_SEQ_STAR) && max == 0)
			return false;
	}
	return true;
}

bool imap_seqset_contains(const struct imap_seqset *resolved, uint32_t n)
{
	size_t lo = 0, hi = resolved->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct imap_seq_range *r = &resolved->ranges[mid];
		if (n < r->lo)
			hi = mid;
		else if (n > r->hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t imap_seqset_count(const struct imap_seqset *resolved)
{
	uint64_t total = 0;

	for (size_t i = 0; i < resolved->count; i++)
		total += (uint64_t)resolved->ranges[i].hi - resolved->ranges[i].lo + 1;
	return total;
}

void imap_seqset_format(const struct imap_seqset *resolved, struct buf *out)
{
	for (size_t i = 0; i < resolved->count; i++) {
		const struct imap_seq_range *r = &resolved->ranges[i];
		if (r->lo == r->hi)
			buf_appendf(out, "%s%" PRIu32, i > 0 ? "," : "", r->lo);
		else
			buf_appendf(out, "%s%" PRIu32 ":%" PRIu32, i > 0 ? "," : "",
					r->lo, r->hi);
	}
}

void imap_numbers_format(const uint32_t *items, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && items[j + 1] == items[j] + 1)
			j++;
		if (j > i)
			buf_appendf(out, "%s%" PRIu32 ":%" PRIu32, i > 0 ? "," : "", items[i], items[j]);
		else
			buf_appendf(out, "%s%" PRIu32, i > 0 ? "," : "", items[i]);
		i = j + 1;
	}
}
