#include "server/core/quoting.h"

bool quoting_fits_quoted(const char *s, size_t len)
{
	if (len > 1024)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
			return false;
	}
	return true;
}
