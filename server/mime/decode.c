/* Content-transfer-encodings (RFC 2045 §6): strict enough for BINARY[]
 * (RFC 3516 §4.2: a server that cannot decode answers NO [UNKNOWN-CTE]),
 * and a lenient variant for the search text, which takes what it can. */
#include "server/mime/mime_internal.h"
#include "server/core/base64.h"

#include <string.h>

/* -2 for the padding '=', which ends a quantum here. */
static int b64val(unsigned char c)
{
	return c == '=' ? -2 : base64_value(c);
}

/* Base64 with line breaks and white space ignored. '=' ends a quantum;
 * data after it starts a new one (some encoders concatenate encoded
 * chunks). strict: anything else outside the alphabet, or a quantum of a
 * single character (6 bits cannot make a byte), is an error; otherwise such
 * input is skipped. */
static int base64(const char *s, size_t len, struct buf *out, bool strict)
{
	uint8_t quad[4];
	size_t n = 0;

	buf_reserve(out, len / 4 * 3 + 3);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v = b64val(c);

		if (v == -1) {
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || !strict)
				continue;
			return -1;
		}
		if (v == -2) {
			if (n == 1 && strict)
				return -1;
			if (n >= 2) {
				uint8_t b[2] = { (uint8_t)(quad[0] << 2 | quad[1] >> 4),
						 (uint8_t)(quad[1] << 4 | quad[2] >> 2) };
				buf_append(out, b, n - 1);
			}
			n = 0;
			continue;
		}
		quad[n++] = (uint8_t)v;
		if (n == 4) {
			uint8_t b[3] = { (uint8_t)(quad[0] << 2 | quad[1] >> 4),
					 (uint8_t)(quad[1] << 4 | quad[2] >> 2),
					 (uint8_t)(quad[2] << 6 | quad[3]) };
			buf_append(out, b, 3);
			n = 0;
		}
	}
	if (n == 1 && strict)
		return -1;
	if (n >= 2) {
		/* Missing padding at the end is tolerated. */
		uint8_t b[2] = { (uint8_t)(quad[0] << 2 | quad[1] >> 4),
				 (uint8_t)(quad[1] << 4 | quad[2] >> 2) };
		buf_append(out, b, n - 1);
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;    /* not allowed by §6.7, but seen */
	return -1;
}

/* Quoted-printable, RFC 2045 §6.7: "=XX" is a byte, "=" at the end of a
 * line (trailing white space allowed) is a soft line break, white space at
 * the end of a line was added in transport and goes (rule 3). A "=" that is
 * neither stays as it is (the RFC's suggestion for robust decoders). Line
 * breaks are kept as they are in the data. */
static void quoted_printable(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	buf_reserve(out, len);
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t eol = nl != NULL ? (size_t)(nl - s) : len;   /* the '\n', or len */
		size_t brk = eol;                                   /* start of the line break */
		bool soft = false;

		if (nl != NULL && brk > i && s[brk - 1] == '\r')
			brk--;
		size_t end = brk;
		while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		for (size_t j = i; j < end;) {
			const char *eq = memchr(s + j, '=', end - j);
			size_t stop = eq != NULL ? (size_t)(eq - s) : end;
			int hi, lo;

			buf_append(out, s + j, stop - j);
			if (eq == NULL)
				break;
			j = stop;
			if (j + 1 == end) {
				soft = true;
				j++;
			} else if (j + 2 < end && (hi = hexval(s[j + 1])) >= 0 && (lo = hexval(s[j + 2])) >= 0) {
				uint8_t byte = (uint8_t)(hi * 16 + lo);
				buf_append(out, &byte, 1);
				j += 3;
			} else {
				buf_append(out, "=", 1);
				j++;
			}
		}
		if (nl == NULL)
			break;
		if (!soft)
			buf_append(out, s + brk, eol + 1 - brk);
		i = eol + 1;
	}
}

int mime_decode_content(const char *data, size_t len, enum mime_encoding enc, struct buf *out)
{
	size_t mark = out->len;

	switch (enc) {
	case MIME_ENC_7BIT:
	case MIME_ENC_8BIT:
	case MIME_ENC_BINARY:
		buf_append(out, data, len);
		return 0;
	case MIME_ENC_BASE64:
		if (base64(data, len, out, true) < 0) {
			out->len = mark;
			return -1;
		}
		return 0;
	case MIME_ENC_QP:
		quoted_printable(data, len, out);
		return 0;
	case MIME_ENC_OTHER:
		break;
	}
	return -1;
}

void mime_decode_lenient(const char *data, size_t len, enum mime_encoding enc, struct buf *out)
{
	if (enc == MIME_ENC_BASE64)
		(void)base64(data, len, out, false);
	else if (enc == MIME_ENC_QP)
		quoted_printable(data, len, out);
	else
		buf_append(out, data, len);
}
