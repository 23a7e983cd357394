/* The effective media type and transfer encoding of a part, shared by the
 * structure parser (which only needs to know multipart/message/other) and
 * the BODYSTRUCTURE writer (which needs everything). */
#include "server/mime/mime_internal.h"

#include <string.h>

void mime_ctype_read(struct mime_ctype *ct, const struct mime_cfields *cf, bool default_message,
		struct mime_cs *cs)
{
	mime_mtype_init(&ct->mt);
	ct->valid = cf->has_type && mime_mtype_parse(&ct->mt, cf->type, true, cs);
	if (ct->valid) {
		ct->type = ct->mt.type;
		ct->subtype = ct->mt.subtype;
		return;
	}
	/* RFC 2045 §5.2: a missing or syntactically invalid Content-Type
	 * means text/plain; charset=us-ascii, except in multipart/digest,
	 * whose parts default to message/rfc822 (RFC 2046 §5.1.5). */
	mime_mtype_free(&ct->mt);
	ct->type.p = default_message ? "message" : "text";
	ct->subtype.p = default_message ? "rfc822" : "plain";
	ct->type.len = strlen(ct->type.p);
	ct->subtype.len = strlen(ct->subtype.p);
}

void mime_ctype_free(struct mime_ctype *ct)
{
	mime_mtype_free(&ct->mt);
}

enum mime_encoding mime_cte_parse(const struct mime_cfields *cf, struct mime_str *token)
{
	static const struct { const char *name; enum mime_encoding enc; } known[] = {
		{ "7bit", MIME_ENC_7BIT }, { "8bit", MIME_ENC_8BIT }, { "binary", MIME_ENC_BINARY },
		{ "base64", MIME_ENC_BASE64 }, { "quoted-printable", MIME_ENC_QP },
	};
	struct mime_lex lx;

	token->p = NULL;
	token->len = 0;
	if (!cf->has_cte)
		return MIME_ENC_7BIT;
	mime_lex_init(&lx, cf->cte, NULL);
	mime_lex_cfws(&lx);
	/* RFC 2045 §6.1: mechanism := token; an invalid value counts as
	 * absent (7bit), as in Dovecot. Anything after the token is ignored. */
	*token = mime_lex_token(&lx, true);
	if (token->len == 0)
		return MIME_ENC_7BIT;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (mime_str_ieq(*token, known[i].name))
			return known[i].enc;
	return MIME_ENC_OTHER;
}
