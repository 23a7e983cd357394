/* The bytes of a FETCH body section (RFC 3501 §6.4.5 BODY[section],
 * RFC 3516 BINARY[section]), cut from the stored message with the part map
 * that server/mime computed at APPEND time: no re-parsing of the message. */
#ifndef KAIRAN_IMAP_FETCH_SECTION_H
#define KAIRAN_IMAP_FETCH_SECTION_H

#include <stddef.h>

#include "server/core/buf.h"
#include "server/imap/fetch_args.h"

enum imap_section_result {
	IMAP_SECTION_OK,
	IMAP_SECTION_MISSING,      /* no such part: the response carries NIL */
	IMAP_SECTION_UNDECODABLE,  /* BINARY of a part with a broken or unknown encoding */
};

/* Sets *data_r and *len_r to the section's bytes before any partial; they point
 * into raw or into scratch (HEADER.FIELDS filtering, BINARY decoding). */
enum imap_section_result imap_fetch_section(const struct imap_fetch_item *item,
		const char *raw, size_t raw_len, const char *parts, size_t parts_len,
		struct buf *scratch, const char **data_r, size_t *len_r);

/* Writes the header fields of hdr (a header block, blank line included)
 * whose names are (not, for .NOT) in the list, then the blank line. */
void imap_filter_header(const char *hdr, size_t len, const struct imap_section *sec,
			bool exclude, struct buf *out);

#endif
