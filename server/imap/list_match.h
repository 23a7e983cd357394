/* LIST and LSUB patterns (RFC 3501 §6.3.8): "*" matches any run of
 * characters, "%" any run without the hierarchy delimiter, everything else
 * itself. Pure: no I/O; memory from the caller's arena.
 *
 * A pattern is compiled once per command and matched against every name of
 * the account, so matching must stay cheap whatever the client sends: it
 * runs the pattern as a bit-parallel automaton (one bit per pattern
 * position, the classic shift-and technique extended to wildcards), which
 * costs O(name length x pattern length / 64) with no backtracking. A
 * backtracking matcher would take exponential time on patterns such as
 * "*a*a*a*a*b" against long names, and a greedy one gets "*a%b" against
 * "a/ab" wrong. */
#ifndef KAIRAN_IMAP_LIST_MATCH_H
#define KAIRAN_IMAP_LIST_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/arena.h"

struct imap_list_pattern;

/* Compiles the canonical pattern (reference and pattern already joined,
 * UTF-8). Runs of wildcards collapse ("%*" is "*", "%%" is "%"). A
 * pattern with more literal characters than max_name bytes can match
 * nothing, and compiles to a pattern that matches nothing instead of
 * allocating for its length. */
struct imap_list_pattern *imap_list_pattern_compile(struct arena *a, const char *pat, size_t len,
						    char delim, size_t max_name);

/* Whether name matches. "INBOX" and the "INBOX" of an "INBOX/..." name
 * match case-insensitively (RFC 3501 §5.1: "inbox", "Inbox/%" and "i*"
 * find it), as the store spells it "INBOX"; every other character is
 * compared exactly. Not reentrant: the pattern holds the scratch state. */
bool imap_list_match(struct imap_list_pattern *p, const char *name, size_t len);

#endif
