/* libFuzzer target for the downgrade of stored header data
 * (server/imap/header_downgrade.h). The input is taken as a stored
 * ENVELOPE and as a stored BODYSTRUCTURE. Invariants:
 *   - on success the output holds no 8-bit byte (what a client without
 *     UTF-8 must never see), and an input without 8-bit bytes comes out
 *     byte for byte;
 *   - on failure the output buffer is as it was.
 * A broken invariant calls abort(), which libFuzzer reports as a crash. */
#include "server/core/buf.h"
#include "server/imap/header_downgrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILED(...) do { \
	fprintf(stderr, "fuzz_header_downgrade: " __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

static void check(const char *name, int (*fn)(const char *, size_t, struct buf *),
		  const char *in, size_t len)
{
	struct buf out;

	buf_init(&out);
	buf_append(&out, "x", 1);
	if (fn(in, len, &out) < 0) {
		if (out.len != 1)
			FAILED("%s: failed but wrote %zu bytes", name, out.len - 1);
	} else {
		if (imap_has_8bit((const char *)out.data, out.len))
			FAILED("%s: 8-bit byte in the output", name);
		if (!imap_has_8bit(in, len) &&
		    (out.len - 1 != len || memcmp(out.data + 1, in, len) != 0))
			FAILED("%s: a 7-bit value changed", name);
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check("envelope", imap_envelope_downgrade, (const char *)data, size);
	check("bodystructure", imap_bodystructure_downgrade, (const char *)data, size);
	return 0;
}
