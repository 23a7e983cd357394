/* libFuzzer target for what kairanctl import parses from a source it does
 * not control (docs/migration.md): an mbox file, and the responses of
 * another IMAP server.
 *
 * Input layout: byte 0 even: the rest is an mbox file, parsed as
 * imp_mbox_scan parses the mapped file, then every message read as the
 * importer reads it. Byte 0 odd: the rest is one IMAP response, literals
 * inline as imap_wire_response leaves them, tokenised to its end and
 * parsed as a FETCH response.
 *
 * Contracts checked: parsing returns 0 or -1 (with a reason); every
 * message lies within the file and the messages do not overlap; a message
 * read is refused or comes out with CRLF line ends only (no bare LF), no
 * longer than twice its bytes; tokens lie within the response or the
 * cursor's scratch; a FETCH's numbers are -1 or not negative. ASan and
 * UBSan catch the rest; LeakSanitizer any leak.
 *
 * A broken contract calls abort(), which libFuzzer reports as a crash. */
#include "server/ctl/import_source.h"
#include "server/ctl/imap_tokens.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILED(...) do { \
	fprintf(stderr, "fuzz_import: " __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

/* The importer's IMAP source is not linked: no message of that kind. */
int imp_imap_message(const struct imp_msg *m, size_t max, struct buf *out, char *err,
		     size_t errlen)
{
	(void)m, (void)max, (void)out, (void)err, (void)errlen;
	abort();
}

static void check_crlf(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			FAILED("a bare LF at %zu of %zu", i, b->len);
}

static void fuzz_mbox(const uint8_t *data, size_t size)
{
	struct imp_source src = { 0 };
	struct imp_mbox mbox = { (const char *)data, size };
	struct arena a;
	char err[256] = "";
	size_t prev_end = 0;
	int r;

	arena_init(&a);
	r = imp_mbox_parse(&a, &mbox, 1, &src, "fuzz", err, sizeof(err));
	if (r != 0 && (r != -1 || err[0] == '\0'))
		FAILED("imp_mbox_parse returned %d with \"%s\"", r, err);
	for (size_t f = 0; r == 0 && f < src.nfolders; f++)
		for (size_t i = 0; i < src.folders[f].n; i++) {
			const struct imp_msg *m = &src.folders[f].msgs[i];
			struct buf out;

			if (m->offset < prev_end || m->offset + m->len > size)
				FAILED("message %zu at %zu+%zu outside the file or overlapping", i,
				       m->offset, m->len);
			prev_end = m->offset + m->len;
			buf_init(&out);
			if (imp_message_read(m, 1 << 20, &out, err, sizeof(err)) == 0) {
				check_crlf(&out);
				if (out.len > 2 * m->len)
					FAILED("message %zu grew from %zu to %zu", i, m->len, out.len);
			}
			buf_free(&out);
		}
	arena_free(&a);
}

static void fuzz_response(const uint8_t *data, size_t size)
{
	struct imap_cursor cur;
	struct imap_fetch_item it;
	struct imap_tok t;
	const char *text = (const char *)data;

	imap_cursor_init(&cur, text, size);
	do {
		t = imap_next(&cur);
		if (t.len > 0 && !(t.p >= text && t.p + t.len <= text + size) &&
		    !(t.p >= (const char *)cur.scratch.data &&
		      t.p + t.len <= (const char *)cur.scratch.data + cur.scratch.len))
			FAILED("a token outside the response and the scratch");
	} while (t.kind != IMAP_TOK_END);
	buf_free(&cur.scratch);
	imap_cursor_init(&cur, text, size);
	if (imap_fetch_parse(&cur, &it) &&
	    (it.uid < -1 || it.size < -1 || it.nkeywords > 64))
		FAILED("a FETCH item out of range");
	buf_free(&cur.scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	/* A copy of exactly the input's length: ASan sees any read past it. */
	copy = malloc(size - 1 > 0 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if ((data[0] & 1) == 0)
		fuzz_mbox(copy, size - 1);
	else
		fuzz_response(copy, size - 1);
	free(copy);
	return 0;
}
