/* Conversion of text in a declared charset to UTF-8, for decoded header
 * fields (RFC 2047, RFC 2231) and the search text.
 *
 * iconv does the work. Names are mapped first where mail and iconv
 * disagree, following the WHATWG Encoding Standard that browsers and most
 * mail clients use: ISO-8859-1 and US-ASCII labels are in practice
 * windows-1252 (0x80-0x9F are printable there), gb2312 is decoded as its
 * superset GB18030, ks_c_5601-1987 as CP949, Shift_JIS as CP932.
 *
 * US-ASCII, UTF-8 and charsets iconv does not know keep the bytes that form
 * valid UTF-8 and replace the rest with U+FFFD: 8-bit text labelled
 * us-ascii (or not labelled) is UTF-8 far more often than anything else
 * today, and guessing further would make search results depend on
 * heuristics. */
#include "server/mime/mime_internal.h"
#include "server/core/utf8.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const char replacement[] = "\xEF\xBF\xBD";

void mime_utf8_sanitize(const char *in, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, run = 0;

	buf_reserve(out, len);
	while (i < len) {
		size_t n = utf8_seq_len(s + i, len - i);

		if (n > 0) {
			i += n;
			continue;
		}
		buf_append(out, in + run, i - run);
		buf_append(out, replacement, 3);
		run = ++i;
	}
	buf_append(out, in + run, len - run);
}

size_t mime_utf8_cut(const char *s, size_t len)
{
	size_t i = len;

	/* Back up over at most three continuation bytes to a lead byte; cut
	 * before it unless its sequence is complete. */
	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return len;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	return len - (i - 1) >= need ? len : i - 1;
}

void mime_cs_init(struct mime_cs *cs)
{
	cs->name[0] = '\0';
	cs->open = cs->failed = false;
}

void mime_cs_free(struct mime_cs *cs)
{
	if (cs->open)
		iconv_close(cs->cd);
	mime_cs_init(cs);
}

struct alias {
	const char *label, *iconv;  /* iconv NULL: treat as UTF-8 */
};

static const struct alias aliases[] = {
	{ "us-ascii", NULL }, { "ascii", NULL }, { "ansi_x3.4-1968", NULL }, { "us", NULL },
	{ "utf-8", NULL }, { "utf8", NULL }, { "unknown-8bit", NULL }, { "x-unknown", NULL },
	{ "unknown", NULL }, { "default", NULL }, { "x-user-defined", NULL },
	{ "iso-8859-1", "WINDOWS-1252" }, { "iso8859-1", "WINDOWS-1252" },
	{ "iso_8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" }, { "l1", "WINDOWS-1252" },
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "x-gbk", "GB18030" }, { "euc-cn", "GB18030" },
	{ "cp936", "GB18030" },
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601", "CP949" }, { "euc-kr", "CP949" },
	{ "shift_jis", "CP932" }, { "shift-jis", "CP932" }, { "sjis", "CP932" },
	{ "x-sjis", "CP932" }, { "ms_kanji", "CP932" }, { "windows-31j", "CP932" },
	{ "iso-8859-8-i", "ISO-8859-8" }, { "windows-874", "CP874" },
	{ "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" },
};

/* The iconv name for a label, or NULL for "UTF-8 with replacement". Labels
 * are restricted to the characters IANA charset names use, so nothing a
 * message says can reach iconv_open as a path or with "//" options. */
static const char *iconv_name(struct mime_str label, char *tmp, size_t tmpsize)
{
	if (label.len == 0 || label.len >= tmpsize)
		return NULL;
	for (size_t i = 0; i < label.len; i++) {
		char c = label.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return NULL;
		tmp[i] = c;
	}
	tmp[label.len] = '\0';
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (mime_str_ieq(label, aliases[i].label))
			return aliases[i].iconv;
	return tmp;
}

static bool cs_open(struct mime_cs *cs, const char *name)
{
	if ((cs->open || cs->failed) && strcasecmp(cs->name, name) == 0) {
		if (cs->open)
			iconv(cs->cd, NULL, NULL, NULL, NULL);  /* back to the initial shift state */
		return cs->open;
	}
	mime_cs_free(cs);
	size_t n = strlen(name);
	memcpy(cs->name, name, n + 1);
	cs->cd = iconv_open("UTF-8", name);
	cs->open = cs->cd != (iconv_t)-1;
	cs->failed = !cs->open;
	return cs->open;
}

static void convert(iconv_t cd, const char *in, size_t len, struct buf *out)
{
	char *inp = (char *)in;
	size_t inleft = len;

	while (inleft > 0) {
		buf_reserve(out, inleft * 4 + 16);
		char *outp = (char *)out->data + out->len;
		size_t outleft = out->cap - out->len;
		size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
		int err = errno;

		out->len = (size_t)((uint8_t *)outp - out->data);
		if (r != (size_t)-1)
			break;
		if (err == E2BIG)
			continue;
		buf_append(out, replacement, 3);
		if (err != EILSEQ)
			break;          /* EINVAL: an incomplete sequence at the end */
		inp++;
		inleft--;
	}
	/* Emit what a stateful encoding still holds back. */
	for (;;) {
		buf_reserve(out, 64);
		char *outp = (char *)out->data + out->len;
		size_t outleft = out->cap - out->len;
		size_t r = iconv(cd, NULL, NULL, &outp, &outleft);
		int err = errno;

		out->len = (size_t)((uint8_t *)outp - out->data);
		if (r != (size_t)-1 || err != E2BIG)
			break;
	}
}

void mime_to_utf8(struct mime_cs *cs, struct mime_str charset, const char *in, size_t len, struct buf *out)
{
	char tmp[sizeof(cs->name)];
	const char *name = iconv_name(charset, tmp, sizeof(tmp));
	bool ascii = true;

	for (size_t i = 0; i < len && ascii; i++)
		ascii = (unsigned char)in[i] < 0x80;
	/* ASCII text is the same in every charset mail uses except the
	 * stateful ISO-2022 family and UTF-7/16/32, which need iconv. */
	if (name == NULL || (ascii && strncasecmp(name, "ISO-2022", 8) != 0 &&
			strncasecmp(name, "UTF-", 4) != 0 && strncasecmp(name, "UTF7", 4) != 0)) {
		mime_utf8_sanitize(in, len, out);
		return;
	}
	if (!cs_open(cs, name)) {
		mime_utf8_sanitize(in, len, out);
		return;
	}
	convert(cs->cd, in, len, out);
}
