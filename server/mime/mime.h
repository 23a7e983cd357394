/* server/mime: parse an RFC 5322 / MIME message once, when it is stored
 * (APPEND, LMTP), into everything FETCH and SEARCH need later without
 * reparsing: the ENVELOPE, BODY and BODYSTRUCTURE values in IMAP syntax, the
 * byte ranges of every part (the "part map"), the decoded header fields and
 * the decoded text.
 *
 * Pure code: no I/O, no globals, thread-safe (iconv descriptors are opened
 * per call). Depends on server/core only (DESIGN.md), so it carries its own
 * IMAP string quoting (quote.c) rather than using server/imap/writer.c.
 *
 * Malformed mail never makes mime_parse fail: it degrades and says so in
 * mime_message.degraded. Work is linear in the message size (times the
 * nesting depth, at most max_depth, for lines that start with "--"). */
#ifndef KAIRAN_MIME_MIME_H
#define KAIRAN_MIME_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/buf.h"

/* Stored in messages.mime_version: bump it whenever the output of
 * mime_parse changes for some input (a bug fix in BODYSTRUCTURE, a new part
 * map format), so that rows computed by an older kairand can be recomputed
 * lazily. */
#define MIME_VERSION 3

/* The longest preview, in characters (RFC 8970 §3: "no more than 256"). */
#define MIME_PREVIEW_CHARS 256

struct mime_limits {
	size_t max_depth;        /* nesting of multipart/message parts; 32 */
	size_t max_parts;        /* parts in the whole message; 1000 */
	size_t max_header_bytes; /* bytes of one header block looked at; 1 MiB */
	size_t max_fields;       /* fields of one header block looked at; 5000 */
	size_t max_text_bytes;   /* size of mime_message.text; 1 MiB */
};

void mime_limits_default(struct mime_limits *l);

/* What mime_parse had to work around (bits of mime_message.degraded). */
enum mime_degraded {
	MIME_DEGRADED_DEPTH      = 1u << 0, /* a part nested too deep became an opaque leaf */
	MIME_DEGRADED_PARTS      = 1u << 1, /* parts after max_parts were left out */
	MIME_DEGRADED_HEADER     = 1u << 2, /* a header block went over max_header_bytes or max_fields */
	MIME_DEGRADED_BOUNDARY   = 1u << 3, /* a multipart without boundary, delimiter or close delimiter */
	MIME_DEGRADED_SYNTAX     = 1u << 4, /* a header without the blank line, a bad Content-Type ... */
	MIME_DEGRADED_TEXT       = 1u << 5, /* the search text was cut at max_text_bytes */
	MIME_DEGRADED_ENCODING   = 1u << 6, /* an encapsulated message with a base64/QP encoding, kept opaque */
};

/* One header field: name as in the message, value decoded: unfolded
 * (RFC 5322 §2.2.3), leading white space dropped, RFC 2047 encoded words
 * decoded and the whole converted to UTF-8 (invalid bytes become U+FFFD).
 * NUL bytes are dropped (the value goes into PostgreSQL text), and the
 * value is NUL-terminated for convenience; value_len excludes that NUL. */
struct mime_field {
	const char *name;     /* points into the raw message passed to mime_parse */
	size_t name_len;
	char *value;          /* owned by the mime_message */
	size_t value_len;
};

struct mime_message {
	/* IMAP values in wire syntax, each one parenthesised list ready to be
	 * written after "ENVELOPE ", "BODY " or "BODYSTRUCTURE ". Strings are
	 * quoted or literals ({n}\r\n...) per RFC 3501 §4.3, so they may hold
	 * CRLF and 8-bit bytes: store as bytea, send as is. */
	struct buf envelope;       /* RFC 3501 §7.4.2 ENVELOPE; raw header bytes, encoded words not decoded */
	struct buf body;           /* BODY: BODYSTRUCTURE without extension data */
	struct buf bodystructure;  /* with body-ext-1part / body-ext-mpart (md5, disposition, language, location) */
	/* The part map (JSON text for messages.parts); the format is described
	 * at the top of partmap.c. Read it with mime_section_find. */
	struct buf parts;
	/* The Date: field as seconds since the epoch (UTC) and its zone in
	 * minutes east of UTC; sent_date is INT64_MIN when the field is missing
	 * or unparseable. RFC 3501 §6.4.4 SENTBEFORE/SENTON/SENTSINCE compare
	 * "disregarding time and timezone", i.e. the calendar date as written:
	 * use the date of sent_date shifted by sent_zone. The RFC does not say
	 * what a message without a usable Date matches; Kairan's SEARCH treats
	 * it as matching no SENT* key (documented in mime.c). */
	int64_t sent_date;
	int sent_zone;
	/* Top-level header fields in order (at most max_fields), for SEARCH
	 * HEADER/FROM/SUBJECT/... */
	struct mime_field *fields;
	size_t nfields;
	/* Decoded text of the message for SEARCH BODY/TEXT: every "text/..." leaf
	 * (also inside attached messages) decoded from base64/quoted-printable,
	 * converted to UTF-8, text/html reduced to its text, parts joined with
	 * "\n"; at most max_text_bytes (cut on a character boundary). Valid
	 * UTF-8 without NUL bytes, ready for a PostgreSQL text column. */
	struct buf text;
	/* RFC 8970 preview (preview.c): at most MIME_PREVIEW_CHARS characters
	 * of the first text part, white space collapsed; valid UTF-8 without
	 * NUL or control characters; empty when there is no text to show. */
	struct buf preview;
	unsigned degraded;         /* enum mime_degraded bits */

	/* private: storage for fields[].value */
	struct buf field_data_;
};

void mime_message_init(struct mime_message *m);
/* Frees what mime_parse allocated; m can be parsed into again after init. */
void mime_message_free(struct mime_message *m);

/* Parses raw (len bytes, may contain NUL and 8-bit bytes; CRLF or bare LF
 * line ends, sizes and ranges are of the bytes as given) into m, which must
 * be freshly initialised. limits NULL means mime_limits_default. The
 * mime_field names point into raw: keep raw alive while using them.
 * Never fails; see enum mime_degraded. */
void mime_parse(const char *raw, size_t len, const struct mime_limits *limits,
		struct mime_message *m);

/* The preview alone (as mime_message.preview), for messages stored before
 * it was computed: one parse of the part tree, no other output. Appends
 * to out. */
void mime_preview(const char *raw, size_t len, struct buf *out);

/* Byte range in the raw message. */
struct mime_range {
	uint64_t off, len;
};

enum mime_encoding {
	MIME_ENC_7BIT, MIME_ENC_8BIT, MIME_ENC_BINARY, MIME_ENC_BASE64, MIME_ENC_QP, MIME_ENC_OTHER
};

/* Where the pieces of one section are (RFC 3501 §6.4.5, RFC 9051 §6.4.5). */
struct mime_section {
	/* depth 0: the message header including its blank line (BODY[HEADER]);
	 * otherwise the part's MIME header (BODY[x.MIME]), including the blank
	 * line when there is one. */
	struct mime_range header;
	/* depth 0: the message body (BODY[TEXT]); otherwise the part's content
	 * (BODY[x]), without the CRLF that belongs to the next boundary. */
	struct mime_range body;
	/* The part is message/rfc822 or message/global (always true at depth
	 * 0): msg_header and msg_text are then the encapsulated message's
	 * header and body (BODY[x.HEADER], BODY[x.TEXT], and the fields of
	 * BODY[x.HEADER.FIELDS ...]). Zero ranges otherwise; RFC 3501 defines
	 * HEADER/TEXT only on such parts, so FETCH should answer an empty
	 * string (Dovecot's choice) or NO for other parts. */
	bool is_message;
	struct mime_range msg_header, msg_text;
	enum mime_encoding encoding;  /* Content-Transfer-Encoding, for BINARY[] */
	bool is_multipart;
};

/* Looks the part path up (path[0..depth-1], 1-based part numbers as in
 * BODY[1.2.3]; depth 0 is the whole message) in a part map written by
 * mime_parse, as stored (PostgreSQL's jsonb output, with its added spaces,
 * is accepted too). Returns 0, or -1 when the path names no part or the map
 * is not one this version reads (FETCH then answers per RFC 3501: BODY[]
 * of a missing part is an empty string / NIL). */
int mime_section_find(const uint8_t *parts, size_t parts_len, const uint32_t *path,
		size_t depth, struct mime_section *s);

/* Undoes the content-transfer-encoding for BINARY[] (RFC 3516 / RFC 9051
 * §6.4.5), appending to out. 7bit/8bit/binary are copied; base64 ignores
 * line breaks and white space; quoted-printable follows RFC 2045 §6.7
 * (malformed "=" sequences are kept as they are). Returns 0, or -1 with out
 * unchanged when the data cannot be decoded (base64 with characters
 * outside its alphabet or a dangling sixth bit, any MIME_ENC_OTHER): FETCH
 * then answers NO [UNKNOWN-CTE]. */
int mime_decode_content(const char *data, size_t len, enum mime_encoding enc, struct buf *out);

#endif
