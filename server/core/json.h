/* JSON strings for the JSON log format (log.c): whatever bytes they are
 * given, the output is one valid JSON string on one line. */
#ifndef KAIRAN_CORE_JSON_H
#define KAIRAN_CORE_JSON_H

#include <stddef.h>

#include "server/core/buf.h"

/* Appends len bytes of s as a JSON string, quotes included (RFC 8259 §7):
 * '"' and '\' escaped, every control character (U+0000..U+001F, and DEL)
 * as \u00XX, valid UTF-8 copied as it is, and each byte that is not part
 * of a valid UTF-8 sequence as \ufffd, so that a login name or a peer's
 * text in another charset can never break the line or the parser. */
void json_append_string(struct buf *out, const void *s, size_t len);

#endif
