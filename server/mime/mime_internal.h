/* Internal interfaces of server/mime, shared between its files. Nothing
 * outside server/mime includes this. */
#ifndef KAIRAN_MIME_INTERNAL_H
#define KAIRAN_MIME_INTERNAL_H

#include <iconv.h>

#include "server/mime/mime.h"

#define MIME_NONE UINT32_MAX

/* A byte string inside some other buffer; not NUL-terminated. */
struct mime_str {
	const char *p;
	size_t len;
};

bool mime_str_ieq(struct mime_str s, const char *lit);   /* ASCII case-insensitive */
bool mime_mem_ieq(const char *a, size_t alen, const char *b, size_t blen);
char mime_lower(char c);

/* ---- header.c: header blocks and fields ---- */

/* One field of a header block as it is in the message. */
struct mime_hfield {
	struct mime_str name;
	struct mime_str raw;      /* after the colon, still folded, without the final line end */
};

/* Iterates over the fields of one header block, looking at no more than
 * max_header_bytes and max_fields of it; limited is set when it stopped
 * because of that. */
struct mime_hiter {
	const char *p, *end;
	size_t nfields, max_fields;
	bool limited;
};

void mime_hiter_init(struct mime_hiter *it, const char *hdr, size_t len, const struct mime_limits *l);
bool mime_hiter_next(struct mime_hiter *it, struct mime_hfield *f);
/* Appends the value with line breaks removed (RFC 5322 §2.2.3 unfolding)
 * and leading white space dropped. */
void mime_unfold(struct mime_str raw, struct buf *out);
/* Does the line at p (up to end) start a header field? (name, optional
 * white space, colon; Python's email package and RFC 5322 §4.5.3) */
bool mime_is_field_line(const char *p, const char *end);

/* The Content-* fields of one part (first occurrence of each; raw values). */
struct mime_cfields {
	struct mime_str type, cte, id, desc, md5, disp, lang, loc;
	bool has_type, has_cte, has_id, has_desc, has_md5, has_disp, has_lang, has_loc;
	bool limited;
};
void mime_cfields_read(const char *hdr, size_t len, const struct mime_limits *l, struct mime_cfields *cf);

/* ---- lex.c: RFC 5322 / RFC 2045 lexical tokens over a raw (folded) value ---- */

struct mime_lex {
	const char *p, *end;
	struct buf *comment;      /* when non-NULL: the text of the last comment skipped */
	bool saw_comment;
};

void mime_lex_init(struct mime_lex *lx, struct mime_str v, struct buf *comment);
/* Skips white space, line breaks and (nested) comments; returns true when
 * anything was skipped. */
bool mime_lex_cfws(struct mime_lex *lx);
/* An RFC 2045 token (mime) or RFC 5322 atom (!mime); 8-bit bytes count as
 * token characters (RFC 6532). Empty when none. */
struct mime_str mime_lex_token(struct mime_lex *lx, bool mime);
/* At '"': appends the unescaped content (line breaks removed) to out. */
void mime_lex_quoted(struct mime_lex *lx, struct buf *out);
static inline bool mime_lex_at(const struct mime_lex *lx, char c)
{
	return lx->p < lx->end && *lx->p == c;
}

/* ---- charset.c: conversion to UTF-8 ---- */

/* One cached iconv descriptor, so that a message whose parts and encoded
 * words share a charset opens it once. Lives for one mime_parse call. */
struct mime_cs {
	char name[64];
	iconv_t cd;
	bool open, failed;
};

void mime_cs_init(struct mime_cs *cs);
void mime_cs_free(struct mime_cs *cs);
/* Appends in (len bytes in charset) as UTF-8. Unknown charsets, us-ascii
 * and utf-8 keep the bytes that are valid UTF-8; anything undecodable
 * becomes U+FFFD. */
void mime_to_utf8(struct mime_cs *cs, struct mime_str charset, const char *in, size_t len, struct buf *out);
void mime_utf8_sanitize(const char *in, size_t len, struct buf *out);
/* Length of the longest prefix of s (len bytes) that does not end inside a
 * UTF-8 sequence, so a cut there keeps valid UTF-8 valid. */
size_t mime_utf8_cut(const char *s, size_t len);

/* ---- rfc2047.c ---- */

/* Appends the unfolded value v with its RFC 2047 encoded words decoded,
 * all of it converted to UTF-8. */
void mime_decode_words(struct mime_cs *cs, const char *v, size_t len, struct buf *out);

/* ---- params.c: Content-Type / Content-Disposition ---- */

struct mime_param {
	struct mime_str name;     /* as written, RFC 2231 "*n*" suffix removed */
	size_t off, len;          /* value in mime_mtype.pool: unquoted, RFC 2231 decoded to UTF-8 */
};

struct mime_mtype {
	struct mime_str type, subtype;   /* tokens as written */
	struct mime_param *params;
	size_t nparams, cap;
	struct buf pool;
	bool params_limited;
};

void mime_mtype_init(struct mime_mtype *mt);
void mime_mtype_free(struct mime_mtype *mt);
/* Parses "type/subtype *(; param)" (with_subtype) or "type *(; param)"
 * (Content-Disposition). Returns false when there is no valid type (and
 * subtype); the parameters are then not parsed. */
bool mime_mtype_parse(struct mime_mtype *mt, struct mime_str v, bool with_subtype, struct mime_cs *cs);
/* The value of the first parameter called name, or false. */
bool mime_mtype_param(const struct mime_mtype *mt, const char *name, struct mime_str *value);

/* ---- tree.c: the part tree ---- */

enum mime_kind { MIME_LEAF, MIME_MULTIPART, MIME_MESSAGE };

struct mime_part {
	uint64_t hoff, hlen, boff, blen, lines;
	uint64_t body_lineno;          /* line feeds before boff (parser state) */
	uint32_t parent, first_child, last_child, next, nchildren;
	uint16_t depth;
	uint8_t kind;                  /* enum mime_kind */
	uint8_t enc;                   /* enum mime_encoding */
	bool in_header;                /* parser state: header not finished yet */
	bool digest;                   /* multipart/digest: children default to message/rfc822 */
	bool default_message;          /* no valid Content-Type means message/rfc822 */
	bool opaque;                   /* shown as application/octet-stream (limits) */
	bool is_text;                  /* type "text" (also by default): has a line count */
	bool synthetic;                /* made up for a multipart without parts: no header */
};

struct mime_tree {
	struct mime_part *v;
	size_t n, cap;
	unsigned degraded;
};

void mime_tree_parse(const char *raw, size_t len, const struct mime_limits *l, struct mime_cs *cs,
		struct mime_tree *t);
void mime_tree_free(struct mime_tree *t);

/* The effective media type of a part: Content-Type, or the RFC 2045 §5.2 /
 * RFC 2046 §5.1.5 default when it is missing or invalid. */
struct mime_ctype {
	struct mime_mtype mt;
	bool valid;                    /* Content-Type present and valid: mt holds it */
	struct mime_str type, subtype;
};
void mime_ctype_read(struct mime_ctype *ct, const struct mime_cfields *cf, bool default_message,
		struct mime_cs *cs);
void mime_ctype_free(struct mime_ctype *ct);
enum mime_encoding mime_cte_parse(const struct mime_cfields *cf, struct mime_str *token);

/* ---- quote.c: IMAP strings ---- */

void mime_imap_string(struct buf *out, const char *s, size_t len);
void mime_imap_nstring(struct buf *out, const char *s, size_t len, bool nil);

/* ---- envelope.c / address.c ---- */

void mime_write_envelope(struct buf *out, const char *hdr, size_t len, const struct mime_limits *l);
/* Appends "(" 1*address ")" for an address-list value, or nothing and
 * returns false when it holds no address. */
bool mime_write_addresses(struct buf *out, struct mime_str raw);
/* Appends the addresses of an address-list value as SEARCH should also
 * see them: "mailbox@host" each, separated by spaces, comments, quoting
 * and folding removed (display names and groups left out); nothing when
 * it holds none. */
void mime_address_specs(struct buf *out, struct mime_str raw);

/* ---- date.c ---- */

/* RFC 5322 §3.3 date-time, obsolete forms included. Returns false when
 * unparseable. */
bool mime_parse_date(struct mime_str v, int64_t *utc_r, int *zone_r);

/* ---- bodystructure.c, partmap.c, text.c ---- */

void mime_write_bodystructure(struct buf *out, const char *raw, const struct mime_tree *t,
		uint32_t part, bool extended, const struct mime_limits *l, struct mime_cs *cs);
void mime_write_partmap(struct buf *out, const struct mime_tree *t);
void mime_extract_text(struct buf *out, const char *raw, const struct mime_tree *t,
		const struct mime_limits *l, struct mime_cs *cs, unsigned *degraded);
/* Appends the text of a text leaf as a reader sees it: at most take bytes
 * of its body, content-transfer-encoding undone, converted from its
 * charset to UTF-8, text/html reduced to text. tmp is scratch. */
void mime_leaf_text(const char *raw, const struct mime_part *p, uint64_t take,
		const struct mime_limits *l, struct mime_cs *cs, struct buf *tmp, struct buf *out);
/* Appends the preview of the message (RFC 8970, preview.c) to out. */
void mime_extract_preview(struct buf *out, const char *raw, const struct mime_tree *t,
		const struct mime_limits *l, struct mime_cs *cs);
/* Appends the text of an HTML document (tags dropped, entities decoded). */
void mime_html_to_text(const char *in, size_t len, struct buf *out);
/* Lenient decoding for search: never fails, skips what it cannot decode. */
void mime_decode_lenient(const char *data, size_t len, enum mime_encoding enc, struct buf *out);

#endif
