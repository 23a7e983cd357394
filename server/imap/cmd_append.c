/* APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502) and APPENDUID
 * (RFC 4315). Each message is parsed once here (server/mime) so that FETCH
 * never has to; all messages of one command commit together or not at all. */
#include "server/imap/commands.h"
#include "server/imap/datetime.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/mutf7.h"
#include "server/imap/rights.h"
#include "server/imap/store_args.h"
#include "server/imap/view.h"
#include "server/core/activity.h"
#include "server/core/log.h"
#include "server/mime/mime.h"
#include "schema/db_message.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bounds the work and memory of one MULTIAPPEND. */
#define APPEND_MAX_MESSAGES 1000

struct append_item {
	struct db_append_msg msg;
	struct mime_message mime;
	struct buf text;            /* msg.body_text, valid UTF-8 */
	struct buf fields;          /* storage of msg.header_fields */
	struct buf header_text;     /* msg.header_text */
};

/* PostgreSQL text must be valid UTF-8 without NUL: any other byte becomes
 * '?'. The MIME layer already converts, so this only catches its misses
 * (8-bit bytes in field names, undeclared charsets). */
static void utf8_clean(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c != 0 && i + n <= len && imap_utf8_valid(s + i, n)) {
			buf_append(out, s + i, n);
			i += n;
		} else {
			buf_append(out, "?", 1);
			i++;
		}
	}
}

/* "name:value" per top-level field, name in lower case, for SEARCH. */
static void search_fields(struct append_item *it)
{
	const struct mime_message *mm = &it->mime;
	size_t *offsets = xcalloc(mm->nfields + 1, sizeof(*offsets));

	buf_init(&it->fields);
	buf_init(&it->header_text);
	for (size_t i = 0; i < mm->nfields; i++) {
		const struct mime_field *f = &mm->fields[i];
		utf8_clean(f->name, f->name_len, &it->header_text);
		buf_append(&it->header_text, ": ", 2);
		utf8_clean(f->value, f->value_len, &it->header_text);
		buf_append(&it->header_text, "\n", 1);
		offsets[i] = it->fields.len;
		for (size_t k = 0; k < f->name_len; k++) {
			char c = f->name[k];
			c = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			utf8_clean(&c, 1, &it->fields);
		}
		buf_append(&it->fields, ":", 1);
		utf8_clean(f->value, f->value_len, &it->fields);
		buf_append(&it->fields, "", 1);
	}
	it->msg.header_fields = xcalloc(mm->nfields + 1, sizeof(char *));
	for (size_t i = 0; i < mm->nfields; i++)
		it->msg.header_fields[i] = (char *)it->fields.data + offsets[i];
	it->msg.nheader_fields = mm->nfields;
	buf_append(&it->header_text, "", 1);
	it->msg.header_text = (const char *)it->header_text.data;
	free(offsets);
}

/* Parses "[flags] [date-time] literal" groups from args. */
static int parse_messages(struct imap_session *s, const struct imap_arg *args,
			  struct append_item **items_r, size_t *n_r, const char **error_r)
{
	struct append_item *items = NULL;
	size_t n = 0;

	while (args->type != IMAP_ARG_EOL) {
		struct imap_flags flags = { 0 };
		struct db_append_msg *m;
		int64_t date = (int64_t)time(NULL);
		int zone;

		if (n == APPEND_MAX_MESSAGES) {
			*error_r = "Too many messages in one APPEND";
			goto fail;
		}
		if (args->type == IMAP_ARG_LIST) {
			if (imap_flags_parse(&s->arena, args, true, &flags, error_r) < 0)
				goto fail;
			args++;
		}
		if (args->type == IMAP_ARG_QUOTED) {
			if (imap_datetime_parse(args->u.str.data, args->u.str.len, &date, &zone) < 0) {
				*error_r = "Invalid date-time";
				goto fail;
			}
			args++;
		}
		/* RFC 3516 §4.4: with BINARY a message may come as a literal8
		 * (~{n}), NULs and all; it is stored as received. */
		if (args->type != IMAP_ARG_LITERAL) {
			*error_r = "APPEND expects a message literal";
			goto fail;
		}
		items = xrealloc(items, (n + 1) * sizeof(*items));
		memset(&items[n], 0, sizeof(items[n]));
		m = &items[n].msg;
		m->raw = args->u.str.data;
		m->raw_len = args->u.str.len;
		m->flags = flags.system;
		m->keywords_array = imap_keywords_array(&s->arena, &flags);
		m->internaldate = date;
		n++;
		args++;
	}
	if (n == 0) {
		*error_r = "APPEND expects a message literal";
		goto fail;
	}
	*items_r = items;
	*n_r = n;
	return 0;
fail:
	free(items);
	return -1;
}

static void analyse(struct append_item *it)
{
	struct mime_limits limits;
	struct db_append_msg *m = &it->msg;

	mime_limits_default(&limits);
	mime_message_init(&it->mime);
	mime_parse(m->raw, m->raw_len, &limits, &it->mime);
	m->envelope = (const char *)it->mime.envelope.data;
	m->envelope_len = it->mime.envelope.len;
	m->body = (const char *)it->mime.body.data;
	m->body_len = it->mime.body.len;
	m->bodystructure = (const char *)it->mime.bodystructure.data;
	m->bodystructure_len = it->mime.bodystructure.len;
	m->parts = (const char *)it->mime.parts.data;
	m->parts_len = it->mime.parts.len;
	m->mime_version = MIME_VERSION;
	search_fields(it);
	buf_init(&it->text);
	utf8_clean((const char *)it->mime.text.data, it->mime.text.len, &it->text);
	m->body_text = (const char *)it->text.data;
	m->body_text_len = it->text.len;
	m->sent_days = it->mime.sent_date == INT64_MIN ? INT64_MIN :
		       imap_utc_days(it->mime.sent_date, it->mime.sent_zone);
}

static void append_item_free(struct append_item *it)
{
	mime_message_free(&it->mime);
	buf_free(&it->text);
	buf_free(&it->fields);
	buf_free(&it->header_text);
	free(it->msg.header_fields);
}

void cmd_append(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct append_item *items = NULL;
	struct db_append_result *res;
	struct imap_mailbox_acl acl;
	const char *name, *problem, *target;
	size_t len, n = 0;
	enum db_result r;
	char err[256];
	struct buf uids;

	if (cmd->nargs < 2) {
		imap_reply(s, "BAD", NULL, "APPEND expects a mailbox and a message");
		return;
	}
	if (imap_mailbox_arg(s, &cmd->args[0], &name, &len, &problem) < 0 ||
	    parse_messages(s, &cmd->args[1], &items, &n, &problem) < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].msg.raw_len == 0) {
			free(items);
			imap_reply(s, "NO", NULL, "Cannot append an empty message");
			return;
		}
	if (!imap_db_ready(s, be) ||
	    !imap_mailbox_require(s, be, name, ACL_OP_APPEND, &acl) ||
	    (target = imap_target_name(s, &acl)) == NULL) {
		free(items);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		/* RFC 4314 §4: flags the caller may not set are dropped. */
		unsigned flags;
		bool keywords;
		if (!acl.exists)
			break;
		(void)acl_store_permitted(acl.rights, items[i].msg.flags, true, &flags, &keywords);
		items[i].msg.flags &= flags;
		if (!keywords)
			items[i].msg.keywords_array = "{}";
	}
	/* From here to the commit the command is "storing" for the search
	 * indexer, which keeps its batches out of the way (server/indexer.c). */
	activity_begin(be->writes);
	for (size_t i = 0; i < n; i++)
		analyse(&items[i]);
	res = xcalloc(n, sizeof(*res));
	{
		struct db_append_msg *msgs = xcalloc(n, sizeof(*msgs));
		for (size_t i = 0; i < n; i++)
			msgs[i] = items[i].msg;
		r = db_append(be->db, s->account_id, acl.owner_id, target, msgs, n, res, err,
			      sizeof(err));
		activity_end(be->writes);
		free(msgs);
	}
	for (size_t i = 0; i < n; i++)
		append_item_free(&items[i]);
	free(items);
	if (r == DB_FAILED) {
		free(res);
		log_warning("%s: APPEND failed: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return;
	}
	if (r == DB_NOT_FOUND) {
		free(res);
		/* RFC 3501 §6.3.11: the client may CREATE and try again. */
		imap_reply(s, "NO", "TRYCREATE", "No such mailbox");
		return;
	}
	/* RFC 4315 §3: APPENDUID with the UIDs as a set; one transaction
	 * allocates them consecutively. */
	buf_init(&uids);
	buf_appendf(&uids, "APPENDUID %u %u", res[0].uidvalidity, res[0].uid);
	if (n > 1)
		buf_appendf(&uids, ":%u", res[n - 1].uid);
	buf_append(&uids, "", 1);
	if (s->view != NULL)
		imap_view_sync(s, be, true);
	imap_reply(s, "OK", (const char *)uids.data, "APPEND completed");
	buf_free(&uids);
	free(res);
}
