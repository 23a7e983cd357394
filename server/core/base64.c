#include "server/core/base64.h"

#include <stdint.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t len, struct buf *out)
{
	size_t start = out->len;

	if (len % 4 != 0)
		return -1;
	buf_reserve(out, len / 4 * 3);
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		uint32_t n;
		uint8_t bytes[3];

		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = base64_value(c)) < 0)
				goto bad; /* '=' followed by data, or a foreign byte */
		}
		n = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* The bits that padding leaves over must be zero (canonical). */
		if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0))
			goto bad;
		bytes[0] = (uint8_t)(n >> 16);
		bytes[1] = (uint8_t)(n >> 8);
		bytes[2] = (uint8_t)n;
		buf_append(out, bytes, (size_t)(3 - pad));
	}
	return 0;
bad:
	out->len = start;
	return -1;
}

void base64_encode(const void *in, size_t len, struct buf *out)
{
	const uint8_t *p = in;

	buf_reserve(out, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = (uint32_t)p[i] << 16;
		char quad[4];
		if (i + 1 < len)
			n |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			n |= p[i + 2];
		quad[0] = alphabet[n >> 18 & 63];
		quad[1] = alphabet[n >> 12 & 63];
		quad[2] = i + 1 < len ? alphabet[n >> 6 & 63] : '=';
		quad[3] = i + 2 < len ? alphabet[n & 63] : '=';
		buf_append(out, quad, 4);
	}
}
