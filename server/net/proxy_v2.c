#include "server/net/proxy_v2.h"

#include <netinet/in.h>
#include <string.h>

static const uint8_t signature[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

int proxy_v2_length(const uint8_t *b)
{
	size_t body;

	if (memcmp(b, signature, sizeof(signature)) != 0 || (b[12] & 0xf0) != 0x20)
		return -1;
	body = (size_t)b[14] << 8 | b[15];
	return body > PROXY_V2_MAX_BODY ? -1 : (int)(PROXY_V2_FIXED + body);
}

int proxy_v2_parse(const uint8_t *b, size_t len, struct sockaddr_storage *sa, socklen_t *salen,
		   bool *local)
{
	const uint8_t *a = b + PROXY_V2_FIXED;
	size_t body = len - PROXY_V2_FIXED;
	uint8_t command = b[12] & 0x0f, family = b[13];

	*local = false;
	if (command == 0x0) {            /* LOCAL */
		*local = true;
		return 0;
	}
	if (command != 0x1)              /* PROXY */
		return -1;
	if (family == 0x11 && body >= 12) {          /* TCP over IPv4 */
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		memset(sa, 0, sizeof(*sa));
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a, 4);
		memcpy(&in->sin_port, a + 8, 2);     /* network order, as sent */
		*salen = sizeof(*in);
		return 0;
	}
	if (family == 0x21 && body >= 36) {          /* TCP over IPv6 */
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		memset(sa, 0, sizeof(*sa));
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a, 16);
		memcpy(&in6->sin6_port, a + 32, 2);
		*salen = sizeof(*in6);
		return 0;
	}
	if (family == 0x00) {            /* UNSPEC: as LOCAL (§2.2) */
		*local = true;
		return 0;
	}
	return -1;
}
