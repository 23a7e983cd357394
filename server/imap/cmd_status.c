/* STATUS (RFC 3501 §6.3.10; DELETED and SIZE from RFC 9051 §6.3.11 and
 * RFC 8438, HIGHESTMODSEQ from RFC 7162 §3.1.6, APPENDLIMIT from RFC 7889
 * §4). One query whatever the items; the SIZE sum is only computed when
 * asked for. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/rights.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/store_args.h"
#include "server/imap/writer.h"
#include "server/core/log.h"
#include "schema/db_mailbox.h"

#include <inttypes.h>

static void write_items(struct imap_session *s, unsigned items, const struct db_mailbox_status *st)
{
	struct buf *out = &s->out;
	const char *sep = "";

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
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %" PRIu64, st->highestmodseq);
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %lld", (long long)s->cfg->max_literal_size);
#undef ITEM
}

void cmd_status(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	const char *name, *raw, *problem;
	size_t len, raw_len;
	unsigned items;
	struct db_mailbox_status st;
	struct imap_mailbox_acl acl;
	char err[256];

	if (cmd->nargs != 2) {
		imap_reply(s, "BAD", NULL, "STATUS expects a mailbox name and a list of items");
		return;
	}
	if (imap_mailbox_arg(s, &cmd->args[0], &name, &len, &problem) < 0 ||
	    imap_status_parse(&cmd->args[1], &items, &problem) < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return;
	}
	if (!imap_db_ready(s, be) ||
	    !imap_mailbox_require(s, be, name, ACL_OP_STATUS, &acl))
		return;
	if (!acl.exists) {
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return;
	}
	switch (db_mailbox_status(be->db, s->account_id, acl.owner_id, acl.store_name,
				  (items & IMAP_STATUS_SIZE) != 0, &st, err, sizeof(err))) {
	case DB_MBOX_OK:
		break;
	case DB_MBOX_NONEXISTENT:
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return;
	case DB_MBOX_NOSELECT:
		/* A placeholder left by DELETE (§6.3.4) holds no messages
		 * to count: as for SELECT, there is no mailbox here. */
		imap_reply(s, "NO", "NONEXISTENT", "Mailbox is not selectable (\\Noselect)");
		return;
	default:
		log_warning("%s: STATUS failed: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return;
	}
	/* The name as the client spelled it (already checked to be valid
	 * modified UTF-7), so that a client matching responses to its
	 * requests by name finds it, whatever case it gave INBOX. */
	imap_arg_astring(&cmd->args[0], &raw, &raw_len);
	buf_append_str(&s->out, "* STATUS ");
	imap_write_astring(&s->out, raw, raw_len);
	buf_append_str(&s->out, " (");
	write_items(s, items, &st);
	buf_append_str(&s->out, ")\r\n");
	imap_reply(s, "OK", NULL, "STATUS completed");
}
