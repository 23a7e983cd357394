/* STATUS (RFC 3501 §6.3.10; DELETED and SIZE from RFC 9051 §6.3.11 and
 * RFC 8438, HIGHESTMODSEQ from RFC 7162 §3.1.6, APPENDLIMIT from RFC 7889
 * §4, MAILBOXID from RFC 8474 §4.3, DELETED-STORAGE from RFC 9208 §4.2).
 * One query whatever the items; the DELETED-STORAGE sum is only computed
 * when asked for. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/mailbox_place.h"
#include "server/imap/objectid.h"
#include "server/imap/rights.h"
#include "server/imap/store_args.h"
#include "server/imap/writer.h"
#include "schema/db_mailbox.h"

#include <inttypes.h>

void imap_status_write_items(struct imap_session *s, unsigned items,
			     const struct db_mailbox_status *st)
{
	struct buf *out = &s->out;
	const char *sep = "";
	char id[IMAP_OBJECTID_BUF];

	/* A fixed order, whatever the request's: the RFC sets none. */
#define ITEM(bit, fmt, ...) do { \
	if (items & (bit)) { \
		buf_appendf(out, "%s" fmt, sep, __VA_ARGS__); \
		sep = " "; \
	} \
} while (0)
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %" PRIu32, st->messages);
	ITEM(IMAP_STATUS_RECENT, "RECENT %" PRIu32, st->recent);
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %" PRIu64, st->uidnext);
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %" PRIu32, st->uidvalidity);
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %" PRIu32, st->unseen);
	ITEM(IMAP_STATUS_DELETED, "DELETED %" PRIu32, st->deleted);
	ITEM(IMAP_STATUS_SIZE, "SIZE %" PRIu64, st->size);
	ITEM(IMAP_STATUS_DELETED_STORAGE, "DELETED-STORAGE %" PRIu64, st->deleted_storage);
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %" PRIu64, st->highestmodseq);
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %lld", (long long)s->cfg->max_literal_size);
	ITEM(IMAP_STATUS_MAILBOXID, "MAILBOXID (%s)", imap_mailboxid(id, st->mailbox_id, st->uidvalidity));
#undef ITEM
}

/* The item list is parsed before any SQL, so that a BAD never depends on
 * the mailbox; dispatch then parses the name and checks "r" (RFC 4314 §4). */
struct imap_result imap_check_status(struct imap_session *s, const struct imap_command *cmd)
{
	unsigned *items = arena_alloc(&s->arena, sizeof(*items));
	const char *problem;

	if (cmd->nargs != 2)
		return imap_bad(s, NULL, "STATUS expects a mailbox name and a list of items");
	if (imap_status_parse(&cmd->args[1], items, &problem) < 0)
		return imap_bad(s, NULL, "%s", problem);
	/* RFC 9051 Appendix E: no \Recent, so no RECENT item either. */
	if (s->imap4rev2 && (*items & IMAP_STATUS_RECENT))
		return imap_bad(s, NULL, "RECENT is not an IMAP4rev2 STATUS item");
	s->parsed = items;
	return imap_ok(s, NULL, "checked");
}

struct imap_result cmd_status(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	unsigned items = *(const unsigned *)s->parsed;
	struct db_mailbox_status st;
	enum db_mbox_result r;
	char err[256];

	r = db_mailbox_status(be->db, s->account_id, acl->owner_id, acl->store_name,
			      (items & IMAP_STATUS_DELETED_STORAGE) != 0, &st, err, sizeof(err));
	if (r != DB_MBOX_OK)
		return imap_mailbox_result(s, r, "reading the mailbox's status", err);
	/* The name as the client spelled it (already checked to be valid
	 * modified UTF-7, or UTF-8 for a client that enabled it and takes it
	 * quoted). */
	buf_append_str(&s->out, "* STATUS ");
	imap_write_mailbox_arg(s, &s->out, &cmd->args[0]);
	buf_append_str(&s->out, " (");
	imap_status_write_items(s, items, &st);
	buf_append_str(&s->out, ")\r\n");
	return imap_done(s);
}
