/* RFC 3501 §7.4.2 ENVELOPE of a message header:
 *
 *   "(" date SP subject SP from SP sender SP reply-to SP to SP cc SP bcc
 *       SP in-reply-to SP message-id ")"
 *
 * Values are the header fields as they are, unfolded (RFC 5322 §2.2.3)
 * and without the white space after the colon; encoded words stay encoded
 * (clients decode them). The first occurrence of each field counts. A
 * field that is missing is NIL; one that is present but empty is "" (its
 * address list, having no address, is NIL). Sender and Reply-To default to
 * From when missing or without addresses, as §7.4.2 requires. */
#include "server/mime/mime_internal.h"

#include <string.h>

enum { F_DATE, F_SUBJECT, F_FROM, F_SENDER, F_REPLY_TO, F_TO, F_CC, F_BCC, F_IN_REPLY_TO,
	F_MESSAGE_ID, F_COUNT };

static const char *const field_names[F_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc", "in-reply-to", "message-id",
};

static void write_text(struct buf *out, const struct mime_str *v, bool has, struct buf *tmp)
{
	if (!has) {
		buf_append(out, "NIL", 3);
		return;
	}
	buf_clear(tmp);
	mime_unfold(*v, tmp);
	mime_imap_string(out, (const char *)tmp->data, tmp->len);
}

void mime_write_envelope(struct buf *out, const char *hdr, size_t len, const struct mime_limits *l)
{
	struct mime_str v[F_COUNT];
	bool has[F_COUNT] = { false };
	struct mime_hiter it;
	struct mime_hfield f;
	struct buf tmp, from;

	mime_hiter_init(&it, hdr, len, l);
	while (mime_hiter_next(&it, &f)) {
		for (int i = 0; i < F_COUNT; i++) {
			if (!has[i] && mime_str_ieq(f.name, field_names[i])) {
				v[i] = f.raw;
				has[i] = true;
				break;
			}
		}
	}
	buf_init(&tmp);
	buf_init(&from);
	buf_append(out, "(", 1);
	write_text(out, &v[F_DATE], has[F_DATE], &tmp);
	buf_append(out, " ", 1);
	write_text(out, &v[F_SUBJECT], has[F_SUBJECT], &tmp);
	buf_append(out, " ", 1);
	if (!has[F_FROM] || !mime_write_addresses(&from, v[F_FROM]))
		buf_append(&from, "NIL", 3);
	buf_append(out, from.data, from.len);
	for (int i = F_SENDER; i <= F_BCC; i++) {
		buf_append(out, " ", 1);
		if (has[i] && mime_write_addresses(out, v[i]))
			continue;
		if (i == F_SENDER || i == F_REPLY_TO)
			buf_append(out, from.data, from.len);
		else
			buf_append(out, "NIL", 3);
	}
	buf_append(out, " ", 1);
	write_text(out, &v[F_IN_REPLY_TO], has[F_IN_REPLY_TO], &tmp);
	buf_append(out, " ", 1);
	write_text(out, &v[F_MESSAGE_ID], has[F_MESSAGE_ID], &tmp);
	buf_append(out, ")", 1);
	buf_free(&tmp);
	buf_free(&from);
}
