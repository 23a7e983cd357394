/* UTF-8 validity, byte by byte: for code that must keep valid text and
 * replace or escape the rest (the MIME decoders, the JSON log). */
#ifndef KAIRAN_CORE_UTF8_H
#define KAIRAN_CORE_UTF8_H

#include <stddef.h>

/* The length (1 to 4) of the valid UTF-8 sequence that starts at s, or 0
 * when it is not one (RFC 3629 §4: no overlong forms, no surrogates,
 * nothing above U+10FFFF, no sequence cut short by len). len > 0. */
size_t utf8_seq_len(const unsigned char *s, size_t len);

#endif
