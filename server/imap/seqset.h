/* Sequence sets: RFC 3501 §9 (RFC 9051 §9) "sequence-set" and RFC 5182's
 * "$" (the saved SEARCH result).
 *
 *   sequence-set = (seq-number / seq-range) ["," sequence-set]
 *   seq-range    = seq-number ":" seq-number
 *   seq-number   = nz-number / "*"
 *   nz-number    = digit-nz *DIGIT          ; 1..4294967295
 *
 * A set goes through two steps. imap_seqset_parse checks the grammar and
 * keeps the elements as the client wrote them ('*' unresolved, ranges in
 * either order), because '*' only gets a value once the command knows the
 * mailbox. imap_seqset_resolve then turns that into the canonical form every
 * other function here expects: ascending, disjoint, non-adjacent ranges with
 * lo <= hi and no '*'. Pure code; all memory comes from the caller's arena. */
#ifndef KAIRAN_IMAP_SEQSET_H
#define KAIRAN_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/arena.h"
#include "server/core/buf.h"

/* '*' before resolution: 0 is never a valid nz-number, so it cannot clash. */
#define IMAP_SEQ_STAR 0

struct imap_seq_range { uint32_t lo, hi; };

struct imap_seqset {
	struct imap_seq_range *ranges;  /* in the arena; NULL when count == 0 */
	size_t count;
	bool saved;                     /* "$" (RFC 5182 SEARCHRES): no ranges */
};

/* Parses len bytes of s (NUL and anything else outside the grammar is
 * rejected): "1", "1:5", "5:1", "*", "3:*", "*:3", "1,3:5,7", or "$" alone
 * (RFC 5182 §3 adds "$" as a whole sequence-set, never as an element).
 * Rejects 0, leading zeros, numbers above 4294967295, empty elements,
 * leading/trailing commas, spaces and signs, and more than max_ranges
 * elements (checked before anything is allocated, so a hostile
 * "1,1,1,..." costs nothing). *set_r's ranges are in wire order, unresolved,
 * in a; on failure *set_r is an empty set. Returns 0 or -1. */
int imap_seqset_parse(struct arena *a, const char *s, size_t len, size_t max_ranges,
		struct imap_seqset *set_r);

/* Gives '*' the value max and puts the set in canonical form in out (new
 * ranges in a; in and out may be the same struct). max is what RFC
 * 9051 §9 calls "the largest number in use":
 *   - message sequence numbers: the number of messages (EXISTS); pass
 *     clamp = true, which trims every range to 1..max, so nothing names a
 *     message that does not exist;
 *   - UIDs: the UID of the last message, or UIDNEXT when the mailbox is empty
 *     (RFC 9051 §9); pass clamp = false, since UIDs above the last one are
 *     legal and simply match nothing. Unclamped, "559:*" with max 500 is
 *     500:559, which contains the last UID as RFC 3501 §6.4.8 requires.
 * max == 0 means there is no message to be '*': every element that uses '*'
 * is dropped (so "*" alone resolves to the empty set) while the explicit
 * numbers of an unclamped set remain.
 * A saved set ("$") cannot be resolved here: the command substitutes the
 * session's saved result; out is then an empty set with saved = true. */
void imap_seqset_resolve(struct arena *a, const struct imap_seqset *in, uint32_t max,
		bool clamp, struct imap_seqset *out);

/* RFC 3501 §9: "The server should respond with a tagged BAD response to a
 * command that uses a message sequence number greater than the number of
 * messages in the selected mailbox. This includes "*" if the selected mailbox
 * is empty." True when the parsed (unresolved) set obeys that for a mailbox
 * of max messages; commands that take sequence numbers check it before
 * resolving with clamp. A saved set is always in range. */
bool imap_seqset_in_range(const struct imap_seqset *parsed, uint32_t max);

/* For resolved sets only. contains is a binary search. count is 64-bit:
 * "1:4294967295" holds 2^32 - 1 numbers and two such sets cannot overflow. */
bool imap_seqset_contains(const struct imap_seqset *resolved, uint32_t n);
uint64_t imap_seqset_count(const struct imap_seqset *resolved);

/* Appends the compact form "1:3,5,7:9" of a resolved set (COPYUID, ESEARCH
 * ALL, SEARCHRES). An empty set appends nothing: the grammar has no empty
 * sequence-set, so callers must leave the item out (or say NIL) instead. */
void imap_seqset_format(const struct imap_seqset *resolved, struct buf *out);
/* The same for n ascending numbers (ESEARCH ALL, MODIFIED, VANISHED). */
void imap_numbers_format(const uint32_t *items, size_t n, struct buf *out);

#endif
