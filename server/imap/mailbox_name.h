/* Mailbox names at the protocol boundary (RFC 3501 §5.1, DESIGN.md
 * "Namespaces"): the one place where a name a client sends becomes the name
 * the store uses, and back.
 *
 * The store keeps names in UTF-8 with '/' as the hierarchy delimiter and
 * INBOX spelled exactly "INBOX" (migrations/0001_initial.sql). A client
 * sends modified UTF-7 (§5.1.3) and may spell INBOX in any case (§5.1).
 * Today every name is in the personal namespace ("" prefix, "/"
 * delimiter); when "Other Users/" and "Shared/" arrive, this module is
 * where a name is resolved to its owner, so that commands keep calling the
 * same function. */
#ifndef KAIRAN_IMAP_MAILBOX_NAME_H
#define KAIRAN_IMAP_MAILBOX_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/buf.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

#define IMAP_MAILBOX_DELIM '/'
/* Bytes of the UTF-8 name and levels of hierarchy. Generous for people
 * (Dovecot allows 255 bytes per level), small enough that a LIST over a
 * full account stays bounded. */
#define IMAP_MAILBOX_MAX_BYTES 1000
#define IMAP_MAILBOX_MAX_LEVELS 32
/* Per account. LIST and LSUB read all of an account's names at once, so
 * these bound their memory and time (at most ~10 MB of names); CREATE and
 * SUBSCRIBE refuse more with NO [LIMIT]. Far above what people use. */
#define IMAP_MAILBOXES_PER_ACCOUNT 10000
#define IMAP_SUBSCRIPTIONS_PER_ACCOUNT 10000

/* What imap_mailbox_arg makes of an argument. */
enum imap_name_status {
	IMAP_NAME_OK = 0,
	/* Not an astring: a syntax error, BAD. */
	IMAP_NAME_SYNTAX = -1,
	/* A well-formed argument that no mailbox can have (not canonical
	 * modified UTF-7, empty, a leading or trailing delimiter, an empty
	 * level "a//b", a control character (C0, DEL, C1), over
	 * IMAP_MAILBOX_MAX_BYTES or IMAP_MAILBOX_MAX_LEVELS): NO
	 * [NONEXISTENT] where a command names an existing mailbox, NO
	 * [CANNOT] where it would make one (imap_mailbox_name_refused). */
	IMAP_NAME_IMPOSSIBLE = -2,
};

/* Takes a mailbox argument (astring), decodes it from modified UTF-7,
 * normalises INBOX (any case, alone or as the "INBOX/" prefix of a child)
 * and validates it. On success *name_r is the store's UTF-8 name,
 * NUL-terminated, in the session arena (valid until the command ends), and
 * *len_r its length; returns IMAP_NAME_OK. Otherwise returns the failure
 * with *error_r a static reason. */
enum imap_name_status imap_mailbox_arg(struct imap_session *s, const struct imap_arg *arg,
				       const char **name_r, size_t *len_r, const char **error_r);

/* The result for a name imap_mailbox_arg refused: BAD for a syntax error,
 * else NO with `code` (NONEXISTENT, or CANNOT for a name to be created). */
struct imap_result imap_mailbox_name_refused(struct imap_session *s, enum imap_name_status st,
					     const char *code, const char *problem);

/* Whether a valid name may be given to a new mailbox or subscription
 * (CREATE, RENAME's target, SUBSCRIBE, kairanctl): no level may be "." or
 * "..", which clients and tools read as paths (mbsync aborts a whole
 * account's sync on them), and no U+2028 or U+2029 (RFC 9755 §3). An
 * existing such name stays usable, so that it can be renamed or deleted.
 * false with *error_r. */
bool imap_mailbox_name_creatable(const char *name, size_t len, const char **error_r);

/* The same for CREATE, where one trailing delimiter is the client's hint
 * that it means to create children (RFC 3501 §6.3.3) and is dropped. */
enum imap_name_status imap_mailbox_arg_create(struct imap_session *s, const struct imap_arg *arg,
					      const char **name_r, size_t *len_r,
					      const char **error_r);

/* The pure part of the above, for names already in UTF-8: normalises INBOX
 * in place and validates. *len_r is updated when CREATE's trailing
 * delimiter is dropped. 0, or -1 with *error_r. */
int imap_mailbox_name_check(char *name, size_t *len_r, bool create, const char **error_r);

/* Whether a store name is INBOX itself or one of its children. */
bool imap_mailbox_is_inbox(const char *name, size_t len);
bool imap_mailbox_in_inbox(const char *name, size_t len);

/* The one place a name changes encoding (RFC 9755 §3): a name the client
 * sent (a mailbox argument, a LIST reference or pattern) becomes UTF-8,
 * appended to out: decoded from modified UTF-7 (imap_mutf7_to_utf8), or,
 * once the client enabled UTF-8 (imap_session_utf8), checked to be
 * UTF-8 (imap_utf8_valid) and copied. -1 with out unchanged otherwise. */
int imap_name_from_client(const struct imap_session *s, const char *raw, size_t len,
			  struct buf *out);

/* The reverse, for a name shown in text: UTF-8 to a client that enabled
 * it, modified UTF-7 to the others. Appends to out. */
void imap_name_to_client(const struct imap_session *s, const char *name, size_t len,
			 struct buf *out);

/* Writes a store name to out as the client must see it: modified UTF-7
 * (or UTF-8, imap_name_to_client), then an atom, quoted string or literal
 * (imap_write_astring), so that spaces, quotes and 8-bit bytes never
 * break the response. */
void imap_write_mailbox(const struct imap_session *s, struct buf *out,
			const char *name, size_t len);

/* Writes a mailbox argument back as the client spelled it (already
 * checked by imap_mailbox_arg), so that a client matching responses to
 * its requests by name finds it, whatever case it gave INBOX: STATUS,
 * GETQUOTAROOT. */
void imap_write_mailbox_arg(const struct imap_session *s, struct buf *out,
			    const struct imap_arg *arg);

#endif
