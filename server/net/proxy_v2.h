/* The PROXY protocol, version 2 (HAProxy's specification, "The PROXY
 * protocol, Versions 1 & 2", §2.2): the binary header a load balancer
 * sends before the client's bytes, naming the client's address. Pure code:
 * server/proxy_accept.c reads the header off a connection and hands the
 * address to the IMAP session. Version 1 (the text form) is not accepted. */
#ifndef KAIRAN_NET_PROXY_V2_H
#define KAIRAN_NET_PROXY_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The fixed part: 12 signature bytes, version/command, family, length. */
#define PROXY_V2_FIXED 16
/* The most address and TLV bytes accepted after it: the addresses take at
 * most 216 (AF_UNIX), and a balancer that sends more TLVs than this is
 * misconfigured for Kairan, which reads none of them. */
#define PROXY_V2_MAX_BODY 1024

/* With the PROXY_V2_FIXED bytes at b: the whole header's length, or -1
 * when they are not a version 2 header or announce more than
 * PROXY_V2_MAX_BODY bytes. */
int proxy_v2_length(const uint8_t *b);

/* Parses a complete header of len bytes (proxy_v2_length's). A PROXY
 * command over TCP gives the client's address in *sa / *salen; a LOCAL
 * command (the balancer's own health check) or an unspecified family
 * sets *local and leaves *sa alone. -1 when malformed (a family the length
 * cannot hold, an unknown command). */
int proxy_v2_parse(const uint8_t *b, size_t len, struct sockaddr_storage *sa, socklen_t *salen,
		   bool *local);

#endif
