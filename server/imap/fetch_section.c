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

/* The ranges of the part the section names; depth 0 is the message. */
static bool find_part(const struct imap_section *sec, size_t raw_len,
		      const char *parts, size_t parts_len, struct mime_section *ms)
{
	if (mime_section_find((const uint8_t *)parts, parts_len, sec->parts, sec->nparts, ms) < 0)
		return false;
	/* Ranges come from the stored map; never trust them past the bytes. */
	return ms->header.off + ms->header.len <= raw_len && ms->body.off + ms->body.len <= raw_len &&
	       (!ms->is_message || (ms->msg_header.off + ms->msg_header.len <= raw_len &&
				    ms->msg_text.off + ms->msg_text.len <= raw_len));
}

enum imap_section_result imap_fetch_section(const struct imap_fetch_item *item,
		const char *raw, size_t raw_len, const char *parts, size_t parts_len,
		struct buf *scratch, const char **data_r, size_t *len_r)
{
	const struct imap_section *sec = &item->section;
	struct mime_section ms;
	struct mime_range hdr, text;
	bool have_message;

	if (item->kind == IMAP_FETCH_RFC822) {
		*data_r = raw;
		*len_r = raw_len;
		return IMAP_SECTION_OK;
	}
	if (!find_part(sec, raw_len, parts, parts_len, &ms))
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
		buf_clear(scratch);
		if (mime_decode_content(raw + ms.body.off, (size_t)ms.body.len, ms.encoding, scratch) < 0)
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
		} else {
			*data_r = raw + ms.body.off;
			*len_r = (size_t)ms.body.len;
		}
		return IMAP_SECTION_OK;
	case IMAP_SECTION_MIME:
		*data_r = raw + ms.header.off;
		*len_r = (size_t)ms.header.len;
		return IMAP_SECTION_OK;
	case IMAP_SECTION_HEADER:
		if (!have_message)
			return IMAP_SECTION_MISSING;
		*data_r = raw + hdr.off;
		*len_r = (size_t)hdr.len;
		return IMAP_SECTION_OK;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		if (!have_message)
			return IMAP_SECTION_MISSING;
		buf_clear(scratch);
		imap_filter_header(raw + hdr.off, (size_t)hdr.len, sec,
				   sec->text == IMAP_SECTION_HEADER_FIELDS_NOT, scratch);
		*data_r = (const char *)scratch->data;
		*len_r = scratch->len;
		return IMAP_SECTION_OK;
	case IMAP_SECTION_TEXT:
		if (!have_message)
			return IMAP_SECTION_MISSING;
		*data_r = raw + text.off;
		*len_r = (size_t)text.len;
		return IMAP_SECTION_OK;
	}
	return IMAP_SECTION_MISSING;
}
