#include "server/imap/fetch_section.h"
#include "server/mime/mime.h"

#include <string.h>
#include <strings.h>

static bool field_listed(const struct imap_section *sec, const char *name, size_t len)
{
	for (size_t i = 0; i < sec->nfields; i++)
		if (sec->field_lens[i] == len && strncasecmp(sec->fields[i], name, len) == 0)
			return true;
	return false;
}

void imap_filter_header(const char *hdr, size_t len, const struct imap_section *sec,
			bool exclude, struct buf *out)
{
	size_t pos = 0;

	while (pos < len) {
		size_t start = pos, name_end;
		const char *colon;
		bool keep;

		/* A field runs to the first line end not followed by a
		 * continuation line (RFC 5322 §2.2.3 folding). */
		for (;;) {
			const char *nl = memchr(hdr + pos, '\n', len - pos);
			pos = nl != NULL ? (size_t)(nl - hdr) + 1 : len;
			if (pos >= len || (hdr[pos] != ' ' && hdr[pos] != '\t'))
				break;
		}
		if (hdr[start] == '\r' || hdr[start] == '\n')
			break; /* the blank line ending the header */
		colon = memchr(hdr + start, ':', pos - start);
		if (colon == NULL)
			continue; /* not a field: dropped from any subset */
		name_end = (size_t)(colon - hdr);
		while (name_end > start && (hdr[name_end - 1] == ' ' || hdr[name_end - 1] == '\t'))
			name_end--;
		keep = field_listed(sec, hdr + start, name_end - start) != exclude;
		if (keep)
			buf_append(out, hdr + start, pos - start);
	}
	buf_append(out, "\r\n", 2);
}

/* Ranges come from the stored map; never trust them past the bytes (which
 * may also be the message's header alone: DB_FETCH_HEADER). */
static enum imap_section_result slice(const char *raw, size_t raw_len, struct mime_range r,
				      const char **data_r, size_t *len_r)
{
	if (r.off > raw_len || r.len > raw_len - r.off)
		return IMAP_SECTION_MISSING;
	*data_r = raw + r.off;
	*len_r = (size_t)r.len;
	return IMAP_SECTION_OK;
}

enum imap_section_result imap_fetch_section(const struct imap_fetch_item *item,
		const char *raw, size_t raw_len, const char *parts, size_t parts_len,
		struct buf *scratch, const char **data_r, size_t *len_r)
{
	const struct imap_section *sec = &item->section;
	struct mime_section ms;
	struct mime_range hdr, text;
	const char *cut;             /* the bytes a decoding or filtering step reads */
	size_t cut_len;
	bool have_message;

	if (item->kind == IMAP_FETCH_RFC822) {
		*data_r = raw;
		*len_r = raw_len;
		return IMAP_SECTION_OK;
	}
	if (mime_section_find((const uint8_t *)parts, parts_len, sec->parts, sec->nparts, &ms) < 0)
		return IMAP_SECTION_MISSING;
	/* At depth 0, HEADER and TEXT are the message's own; deeper they
	 * exist only for a message/rfc822 part (RFC 3501 §6.4.5). */
	have_message = sec->nparts == 0 || ms.is_message;
	hdr = sec->nparts == 0 ? ms.header : ms.msg_header;
	text = sec->nparts == 0 ? ms.body : ms.msg_text;

	if (item->kind == IMAP_FETCH_BINARY || item->kind == IMAP_FETCH_BINARY_SIZE) {
		if (ms.is_multipart && sec->nparts > 0)
			return IMAP_SECTION_MISSING;
		if (sec->nparts == 0) {
			*data_r = raw;      /* BINARY[] is the whole message, as is */
			*len_r = raw_len;
			return IMAP_SECTION_OK;
		}
		if (slice(raw, raw_len, ms.body, &cut, &cut_len) != IMAP_SECTION_OK)
			return IMAP_SECTION_MISSING;
		buf_clear(scratch);
		if (mime_decode_content(cut, cut_len, ms.encoding, scratch) < 0)
			return IMAP_SECTION_UNDECODABLE;
		*data_r = (const char *)scratch->data;
		*len_r = scratch->len;
		return IMAP_SECTION_OK;
	}
	switch (item->kind == IMAP_FETCH_RFC822_HEADER ? IMAP_SECTION_HEADER :
		item->kind == IMAP_FETCH_RFC822_TEXT ? IMAP_SECTION_TEXT : sec->text) {
	case IMAP_SECTION_ALL:
		if (sec->nparts == 0) {
			*data_r = raw;
			*len_r = raw_len;
			return IMAP_SECTION_OK;
		}
		return slice(raw, raw_len, ms.body, data_r, len_r);
	case IMAP_SECTION_MIME:
		return slice(raw, raw_len, ms.header, data_r, len_r);
	case IMAP_SECTION_HEADER:
		if (!have_message)
			return IMAP_SECTION_MISSING;
		return slice(raw, raw_len, hdr, data_r, len_r);
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		if (!have_message || slice(raw, raw_len, hdr, &cut, &cut_len) != IMAP_SECTION_OK)
			return IMAP_SECTION_MISSING;
		buf_clear(scratch);
		imap_filter_header(cut, cut_len, sec, sec->text == IMAP_SECTION_HEADER_FIELDS_NOT,
				   scratch);
		*data_r = (const char *)scratch->data;
		*len_r = scratch->len;
		return IMAP_SECTION_OK;
	case IMAP_SECTION_TEXT:
		if (!have_message)
			return IMAP_SECTION_MISSING;
		return slice(raw, raw_len, text, data_r, len_r);
	}
	return IMAP_SECTION_MISSING;
}
