/* libFuzzer target for the IMAP URL parser CATENATE uses
 * (server/imap/imap_url.h): any input, as an astring's bytes would arrive.
 *
 * Invariants: the parser returns 0 or -1, never reads past the input (ASan),
 * and on success a mailbox is non-empty valid UTF-8 without control
 * characters, the UID is non-zero, a PARTIAL length is non-zero, and a
 * section holds no control character. A broken invariant calls abort(). */
#include "server/core/arena.h"
#include "server/imap/imap_url.h"
#include "server/imap/mutf7.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_text(const char *s)
{
	size_t n = strlen(s);

	if (!imap_utf8_valid(s, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct imap_url u;
	const char *why = NULL;
	char *copy = malloc(size > 0 ? size : 1);

	/* A private copy of exactly size bytes, so ASan sees any overread. */
	if (size > 0)
		memcpy(copy, data, size);
	arena_init(&a);
	int r = imap_url_parse(&a, copy, size, &u, &why);
	if (r != 0 && (r != -1 || why == NULL))
		abort();
	if (r == 0) {
		if (u.uid == 0 || (u.has_length && u.length == 0) || (u.has_length && !u.partial))
			abort();
		if (u.mailbox != NULL && (u.mailbox[0] == '\0' || (check_text(u.mailbox), 0)))
			abort();
		if (u.section != NULL)
			check_text(u.section);
	}
	arena_free(&a);
	free(copy);
	return 0;
}
