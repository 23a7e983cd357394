#include "server/lmtp/parse.h"
#include "server/imap/mutf7.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum lmtp_verb verb;
} verbs[] = {
	{ "LHLO", LMTP_VERB_LHLO }, { "MAIL", LMTP_VERB_MAIL }, { "RCPT", LMTP_VERB_RCPT },
	{ "DATA", LMTP_VERB_DATA }, { "BDAT", LMTP_VERB_BDAT }, { "RSET", LMTP_VERB_RSET },
	{ "NOOP", LMTP_VERB_NOOP }, { "QUIT", LMTP_VERB_QUIT }, { "VRFY", LMTP_VERB_VRFY },
	{ "HELO", LMTP_VERB_HELO }, { "EHLO", LMTP_VERB_HELO },
	{ "EXPN", LMTP_VERB_NOT_OFFERED }, { "HELP", LMTP_VERB_NOT_OFFERED },
	{ "STARTTLS", LMTP_VERB_NOT_OFFERED }, { "ETRN", LMTP_VERB_NOT_OFFERED },
	{ "TURN", LMTP_VERB_NOT_OFFERED },
};

enum lmtp_verb lmtp_parse_verb(char *line, char **args_r)
{
	char *args = strchr(line, ' ');

	if (args != NULL)
		*args++ = '\0';
	else
		args = line + strlen(line);
	*args_r = args;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcasecmp(line, verbs[i].name) == 0)
			return verbs[i].verb;
	return LMTP_VERB_UNKNOWN;
}

const char *lmtp_after_keyword(const char *args, const char *keyword)
{
	size_t n = strlen(keyword);

	if (strncasecmp(args, keyword, n) != 0)
		return NULL;
	args += n;
	while (*args == ' ')
		args++;
	return args;
}

/* The end of a path's mailbox at s (after any source route): the '>'
 * that closes it, NULL when a byte is not allowed there. A quoted local
 * part (RFC 5321 §4.1.2 Quoted-string) may hold spaces, '<' and '>' and
 * backslash pairs; elsewhere only printable ASCII without spaces and '<',
 * or bytes outside ASCII (checked as UTF-8 by the caller). */
static const char *mailbox_end(const char *s, bool *utf8_r)
{
	bool quoted = false;

	for (const unsigned char *q = (const unsigned char *)s; *q != '\0'; q++) {
		if (*q >= 0x80) {
			*utf8_r = true;
		} else if (quoted && *q == '\\') {
			if (q[1] < ' ' || q[1] > '~')
				return NULL;
			q++;
		} else if (*q == '"') {
			quoted = !quoted;
		} else if (quoted ? *q < ' ' || *q > '~' : *q <= ' ' || *q > '~' || *q == '<') {
			return NULL;
		} else if (!quoted && *q == '>') {
			return (const char *)q;
		}
	}
	return NULL;
}

/* RFC 5321 §4.1.2 A-d-l, "@one,@two:" before the mailbox: servers "MUST
 * be prepared to encounter and ignore" it (Appendix C). The mailbox's
 * start, or NULL when the route is malformed. */
static const char *skip_source_route(const char *s)
{
	while (*s == '@') {
		s++;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '['))
			return NULL;
		while (*s != '\0' && *s != ',' && *s != ':' && *s > ' ' && *s <= '~' && *s != '>')
			s++;
		if (*s == ':')
			return s + 1;
		if (*s != ',')
			return NULL;
		s++;
	}
	return NULL;
}

char *lmtp_parse_path(const char **p, bool *utf8_r)
{
	const char *s = *p, *start, *end;
	bool utf8 = false;
	size_t len;

	if (*s != '<')
		return NULL;
	start = s + 1;
	if (*start == '@' && (start = skip_source_route(start)) == NULL)
		return NULL;
	end = mailbox_end(start, &utf8);
	if (end == NULL || (size_t)(end - s - 1) > LMTP_PATH_MAX)
		return NULL;
	len = (size_t)(end - start);
	if (utf8 && !imap_utf8_valid(start, len))
		return NULL;
	*p = end + 1;
	*utf8_r = utf8;
	return strndup(start, len);
}

bool lmtp_address_ok(const char *a)
{
	const char *at = strrchr(a, '@');

	return at != NULL && at != a && at[1] != '\0' && a[0] != '@';
}

/* SIZE=n's value, len bytes at p: false when it is not 1-20 digits. Past
 * max, the value stays max + 1 (no overflow). */
static bool size_value(const char *p, size_t len, uint64_t max, uint64_t *size_r)
{
	uint64_t size = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		if (size <= max)
			size = size * 10 + (uint64_t)(p[i] - '0');
		if (size > max)
			size = max + 1;
	}
	*size_r = size;
	return true;
}

const char *lmtp_parse_mail_params(const char *p, uint64_t max, struct lmtp_mail_params *out,
				   bool *fault_r)
{
	*out = (struct lmtp_mail_params){ 0 };
	*fault_r = true;
	while (*p != '\0') {
		const char *end;
		size_t n;

		if (*p != ' ')
			return "501 5.5.4 Syntax error in parameters";
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ' ');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n > 5 && strncasecmp(p, "SIZE=", 5) == 0) {
			if (!size_value(p + 5, n - 5, max, &out->size))
				return "501 5.5.4 Malformed SIZE parameter";
			out->has_size = true;
			if (out->size > max) {
				*fault_r = false;
				return "552 5.3.4 Message size exceeds fixed maximum message size";
			}
		} else if (n == 8 && strncasecmp(p, "SMTPUTF8", 8) == 0) {
			out->smtputf8 = true;
		} else if ((n == 9 && strncasecmp(p, "BODY=7BIT", 9) == 0) ||
			   (n == 13 && strncasecmp(p, "BODY=8BITMIME", 13) == 0)) {
			/* both stored as they come */
		} else {
			return "555 5.5.4 Unsupported parameter";
		}
		p += n;
	}
	*fault_r = false;
	return NULL;
}

const char *lmtp_parse_bdat(const char *args, uint64_t *size_r, bool *last_r)
{
	uint64_t size = 0;
	size_t n = 0;

	while (args[n] >= '0' && args[n] <= '9') {
		if (n == LMTP_BDAT_DIGITS_MAX)
			return "501 5.5.4 BDAT chunk size too large";
		size = size * 10 + (uint64_t)(args[n] - '0');
		n++;
	}
	if (n == 0)
		return "501 5.5.4 Syntax error in BDAT chunk size";
	if (args[n] == '\0')
		*last_r = false;
	else if (strcasecmp(args + n, " LAST") == 0)
		*last_r = true;
	else
		return "501 5.5.4 Syntax error in BDAT parameters";
	*size_r = size;
	return NULL;
}
