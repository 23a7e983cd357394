#include "server/core/utf8.h"

size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;           /* a continuation byte, C0, C1, F5..FF */
	if (c == 0xE0)
		lo = 0xA0;          /* overlong below U+0800 */
	else if (c == 0xED)
		hi = 0x9F;          /* surrogates U+D800..U+DFFF */
	else if (c == 0xF0)
		lo = 0x90;          /* overlong below U+10000 */
	else if (c == 0xF4)
		hi = 0x8F;          /* above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}
