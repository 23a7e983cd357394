#include "server/imap/mailbox_name.h"
#include "server/imap/args.h"
#include "server/imap/mutf7.h"
#include "server/imap/writer.h"

#include <string.h>
#include <strings.h>

bool imap_mailbox_is_inbox(const char *name, size_t len)
{
	return len == 5 && memcmp(name, "INBOX", 5) == 0;
}

bool imap_mailbox_in_inbox(const char *name, size_t len)
{
	return len > 6 && memcmp(name, "INBOX/", 6) == 0;
}

/* RFC 3501 §5.1: "INBOX" is case-insensitive. A child "inbox/x" is the
 * same as "INBOX/x" (RFC 9051 §5.1 says so of names that begin with INBOX
 * and the delimiter), so the prefix is normalised too; any other name is
 * case-sensitive, as stored. */
static void normalise_inbox(char *name, size_t len)
{
	if (len >= 5 && strncasecmp(name, "INBOX", 5) == 0 &&
	    (len == 5 || name[5] == IMAP_MAILBOX_DELIM))
		memcpy(name, "INBOX", 5);
}

/* C0 controls, DEL and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F):
 * a name holding one cannot be shown or typed, and RFC 3501 §5.1 calls
 * them "best avoided"; refusing them at the door keeps them out of every
 * client's folder list. The input is valid UTF-8. */
static bool has_control(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		if (c == 0xc2 && i + 1 < len && (unsigned char)name[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

/* The line and paragraph separators U+2028, U+2029 (E2 80 A8, E2 80 A9),
 * which RFC 9755 §3 forbids in a name besides the controls. Modified UTF-7
 * could always spell them, so a store may hold such names from before:
 * they are refused for new names only (imap_mailbox_name_creatable),
 * and an old one can still be renamed or deleted. */
static bool has_separator(const char *name, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++)
		if ((unsigned char)name[i] == 0xe2 && (unsigned char)name[i + 1] == 0x80 &&
		    ((unsigned char)name[i + 2] == 0xa8 || (unsigned char)name[i + 2] == 0xa9))
			return true;
	return false;
}

int imap_mailbox_name_check(char *name, size_t *len_r, bool create, const char **error_r)
{
	size_t len = *len_r, levels = 1;

	/* §6.3.3: "foo/" asks for "foo" that will have children. Only one
	 * delimiter is taken: "foo//" still has an empty level. */
	if (create && len > 0 && name[len - 1] == IMAP_MAILBOX_DELIM)
		len--;
	if (len == 0) {
		*error_r = "Empty mailbox name";
		return -1;
	}
	if (len > IMAP_MAILBOX_MAX_BYTES) {
		*error_r = "Mailbox name too long";
		return -1;
	}
	if (name[0] == IMAP_MAILBOX_DELIM) {
		*error_r = "Mailbox name begins with the hierarchy delimiter";
		return -1;
	}
	if (name[len - 1] == IMAP_MAILBOX_DELIM) {
		*error_r = "Mailbox name ends with the hierarchy delimiter";
		return -1;
	}
	for (size_t i = 1; i < len; i++) {
		if (name[i] != IMAP_MAILBOX_DELIM)
			continue;
		if (name[i - 1] == IMAP_MAILBOX_DELIM) {
			*error_r = "Mailbox name has an empty hierarchy level";
			return -1;
		}
		levels++;
	}
	if (levels > IMAP_MAILBOX_MAX_LEVELS) {
		*error_r = "Mailbox name has too many hierarchy levels";
		return -1;
	}
	if (has_control(name, len)) {
		*error_r = "Mailbox name contains control characters";
		return -1;
	}
	name[len] = '\0';
	normalise_inbox(name, len);
	*len_r = len;
	return 0;
}

int imap_name_from_client(const struct imap_session *s, const char *raw, size_t len,
			  struct buf *out)
{
	/* RFC 9755 §3: after ENABLE UTF8=ACCEPT a name is UTF-8 and nothing
	 * else, so "&" is an ordinary character and "&AOk-" names a mailbox
	 * called "&AOk-", not "é" (RFC 9051 §5.1 reads names the same way). */
	if (imap_session_utf8(s)) {
		if (!imap_utf8_valid(raw, len))
			return -1;
		buf_append(out, raw, len);
		return 0;
	}
	return imap_mutf7_to_utf8(raw, len, out);
}

static enum imap_name_status mailbox_arg(struct imap_session *s, const struct imap_arg *arg,
					 bool create, const char **name_r, size_t *len_r,
					 const char **error_r)
{
	const char *raw;
	size_t raw_len, len;
	struct buf utf8;
	char *name;

	if (!imap_arg_astring(arg, &raw, &raw_len)) {
		*error_r = "Invalid mailbox name argument";
		return IMAP_NAME_SYNTAX;
	}
	/* Modified UTF-7 is at worst slightly shorter than the UTF-8 it
	 * encodes (8 BASE64 characters for three 3-byte characters), so an
	 * argument twice the limit cannot decode to an acceptable name and is
	 * refused before any work is spent on it. */
	if (raw_len > 2 * (size_t)IMAP_MAILBOX_MAX_BYTES) {
		*error_r = "Mailbox name too long";
		return IMAP_NAME_IMPOSSIBLE;
	}
	buf_init(&utf8);
	if (imap_name_from_client(s, raw, raw_len, &utf8) < 0) {
		buf_free(&utf8);
		*error_r = imap_session_utf8(s) ? "Mailbox name is not valid UTF-8 (RFC 9755 3)" :
			   "Mailbox name is not valid modified UTF-7 (RFC 3501 5.1.3)";
		return IMAP_NAME_IMPOSSIBLE;
	}
	len = utf8.len;
	name = arena_strndup(&s->arena, utf8.len > 0 ? (const char *)utf8.data : "", utf8.len);
	buf_free(&utf8);
	if (imap_mailbox_name_check(name, &len, create, error_r) < 0)
		return IMAP_NAME_IMPOSSIBLE;
	*name_r = name;
	*len_r = len;
	return IMAP_NAME_OK;
}

enum imap_name_status imap_mailbox_arg(struct imap_session *s, const struct imap_arg *arg,
				       const char **name_r, size_t *len_r, const char **error_r)
{
	return mailbox_arg(s, arg, false, name_r, len_r, error_r);
}

enum imap_name_status imap_mailbox_arg_create(struct imap_session *s, const struct imap_arg *arg,
					      const char **name_r, size_t *len_r,
					      const char **error_r)
{
	return mailbox_arg(s, arg, true, name_r, len_r, error_r);
}

/* A name that cannot exist is not a syntax error: RFC 3501 §5.1.3 defines
 * no grammar for it, and a client that got BAD could take its own command
 * for malformed. It names no mailbox (NONEXISTENT) and can name no new
 * one (CANNOT), as in Dovecot. */
struct imap_result imap_mailbox_name_refused(struct imap_session *s, enum imap_name_status st,
					     const char *code, const char *problem)
{
	if (st == IMAP_NAME_SYNTAX)
		return imap_bad(s, NULL, "%s", problem);
	return imap_no(s, code, "%s", problem);
}

bool imap_mailbox_name_creatable(const char *name, size_t len, const char **error_r)
{
	size_t start = 0;

	if (has_separator(name, len)) {
		*error_r = "Mailbox name contains a line or paragraph separator (RFC 9755 3)";
		return false;
	}

	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != IMAP_MAILBOX_DELIM)
			continue;
		if ((i - start == 1 && name[start] == '.') ||
		    (i - start == 2 && name[start] == '.' && name[start + 1] == '.')) {
			*error_r = "A hierarchy level cannot be \".\" or \"..\"";
			return false;
		}
		start = i + 1;
	}
	return true;
}

void imap_name_to_client(const struct imap_session *s, const char *name, size_t len,
			 struct buf *out)
{
	if (imap_session_utf8(s))
		buf_append(out, name, len);
	else
		imap_utf8_to_mutf7(name, len, out);
}

void imap_write_mailbox(const struct imap_session *s, struct buf *out,
			const char *name, size_t len)
{
	struct buf enc;

	/* RFC 9755 §3: a client that enabled UTF-8 gets it in a quoted
	 * string; the others get modified UTF-7, which is US-ASCII. */
	if (imap_session_utf8(s)) {
		imap_write_utf8_astring(out, name, len);
		return;
	}
	buf_init(&enc);
	imap_utf8_to_mutf7(name, len, &enc);
	imap_write_astring(out, enc.len > 0 ? (const char *)enc.data : "", enc.len);
	buf_free(&enc);
}

void imap_write_mailbox_arg(const struct imap_session *s, struct buf *out,
			    const struct imap_arg *arg)
{
	const char *raw;
	size_t len;

	imap_arg_astring(arg, &raw, &len);
	if (imap_session_utf8(s))
		imap_write_utf8_astring(out, raw, len);
	else
		imap_write_astring(out, raw, len);
}
