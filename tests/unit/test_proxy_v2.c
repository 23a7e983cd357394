/* The PROXY v2 header parser (server/net/proxy_v2.c) on the headers
 * HAProxy sends, and on broken ones. */
#include "tests/unit/unit.h"
#include "server/net/proxy_v2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static size_t header(uint8_t *b, uint8_t ver_cmd, uint8_t family, const uint8_t *body, size_t n)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55,
					 0x49, 0x54, 0x0a };

	memcpy(b, sig, 12);
	b[12] = ver_cmd;
	b[13] = family;
	b[14] = (uint8_t)(n >> 8);
	b[15] = (uint8_t)n;
	memcpy(b + 16, body, n);
	return 16 + n;
}

static void test_tcp4_and_tcp6(void)
{
	uint8_t b[128], v4[12] = { 203, 0, 113, 7, 127, 0, 0, 1, 0x15, 0xb3, 0x00, 0x8f };
	uint8_t v6[36 + 5] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct sockaddr_storage ss;
	socklen_t len;
	bool local;
	size_t n = header(b, 0x21, 0x11, v4, sizeof(v4));
	char text[64];

	CHECK(proxy_v2_length(b) == (int)n);
	CHECK(proxy_v2_parse(b, n, &ss, &len, &local) == 0 && !local && ss.ss_family == AF_INET);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
	CHECK(strcmp(text, "203.0.113.7") == 0);
	CHECK(ntohs(((struct sockaddr_in *)&ss)->sin_port) == 5555);
	/* IPv6, with 5 bytes of TLVs after the addresses. */
	v6[32] = 0x01;
	v6[33] = 0xbb;
	n = header(b, 0x21, 0x21, v6, sizeof(v6));
	CHECK(proxy_v2_length(b) == (int)n);
	CHECK(proxy_v2_parse(b, n, &ss, &len, &local) == 0 && ss.ss_family == AF_INET6);
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof(text));
	CHECK(strcmp(text, "2001:db8::") == 0 && ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == 443);
}

static void test_local_and_broken(void)
{
	uint8_t b[128], short4[8] = { 0 };
	struct sockaddr_storage ss;
	socklen_t len;
	bool local;
	size_t n = header(b, 0x20, 0x00, short4, 0);

	CHECK(proxy_v2_parse(b, n, &ss, &len, &local) == 0 && local);       /* health check */
	n = header(b, 0x21, 0x11, short4, sizeof(short4));                 /* too short for TCP4 */
	CHECK(proxy_v2_parse(b, n, &ss, &len, &local) == -1);
	n = header(b, 0x2f, 0x11, short4, sizeof(short4));                 /* unknown command */
	CHECK(proxy_v2_parse(b, n, &ss, &len, &local) == -1);
	header(b, 0x11, 0x11, short4, sizeof(short4));                     /* version 1 */
	CHECK(proxy_v2_length(b) == -1);
	memcpy(b, "PROXY TCP4 1.2.3.4", 16);                               /* the text form */
	CHECK(proxy_v2_length(b) == -1);
	header(b, 0x21, 0x11, short4, 0);
	b[14] = 0xff;                                                      /* 65,280 bytes announced */
	CHECK(proxy_v2_length(b) == -1);
}

int main(void)
{
	UNIT_RUN(test_tcp4_and_tcp6);
	UNIT_RUN(test_local_and_broken);
	return unit_report("test_proxy_v2");
}
