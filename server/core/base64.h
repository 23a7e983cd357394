/* Base64 (RFC 4648 §4) for SASL exchanges. */
#ifndef KAIRAN_CORE_BASE64_H
#define KAIRAN_CORE_BASE64_H

#include <stddef.h>

#include "server/core/buf.h"

/* Strict decoding: the standard alphabet, length a multiple of 4, padding
 * only at the end, zero pad bits, no white space. Appends to out; -1 (out
 * unchanged) on any deviation. */
int base64_decode(const char *in, size_t len, struct buf *out);
/* The 6-bit value of a character of the standard alphabet, -1 for any
 * other byte (padding included); the lenient decoders of server/mime and
 * the modified BASE64 of mailbox names build on it. */
int base64_value(unsigned char c);
void base64_encode(const void *in, size_t len, struct buf *out);

#endif
