#include "server/core/address.h"

#include <string.h>

bool address_normalise(const char *in, size_t len, char out[ADDRESS_MAX + 1])
{
	size_t at = len;

	out[0] = '\0';
	if (len == 0 || len > ADDRESS_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= ' ' || c > '~' || strchr("<>()[],;:\\\"", c) != NULL)
			return false;
		if (c == '@') {
			if (at != len)
				return false;   /* a second '@' */
			at = i;
		}
	}
	if (at == 0 || at >= len - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
	out[len] = '\0';
	return true;
}
