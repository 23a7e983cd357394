/* APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502), APPENDUID
 * (RFC 4315), CATENATE (RFC 4469, catenate.c) and the UTF8 data item
 * (RFC 9755 §4). Each message is parsed once here (server/mime) so that FETCH
 * never has to; all messages of one command commit together or not at all.
 * Everything the store takes is in the command arena: the messages are
 * counted first and their rows allocated once; a big message is in a
 * spool file instead (literal_sink.c), which the store streams. */
#include "server/imap/commands.h"
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/catenate.h"
#include "server/imap/datetime.h"
#include "server/imap/message_analyse.h"
#include "server/imap/quota.h"
#include "server/imap/rights.h"
#include "server/imap/store_args.h"
#include "server/imap/view.h"
#include "server/core/activity.h"
#include "schema/db_message.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* Bounds the work and memory of one MULTIAPPEND. */
#define APPEND_MAX_MESSAGES 1000

/* What the check step parsed: one row for the store per message. */
struct append_request {
	struct db_append_msg *msgs;
	struct imap_catenate *cat;   /* per message; nparts 0: a literal */
	size_t n;
};

/* "CATENATE" SP "(" ... ")" (RFC 4469 §3) where a literal would be. */
static bool is_catenate(const struct imap_arg *arg)
{
	return imap_arg_atom_is(arg, "CATENATE") && arg[1].type == IMAP_ARG_LIST;
}

/* RFC 9755 §4: append-data =/ "UTF8" SP "(" literal8 ")". */
static bool is_utf8_data(const struct imap_arg *arg)
{
	return imap_arg_atom_is(arg, "UTF8") && arg[1].type == IMAP_ARG_LIST;
}

/* The message of a UTF8 data item: the list must hold one literal8.
 * Only a client that enabled UTF8=ACCEPT may send it (RFC 9755 §4: "MUST
 * reject, with a BAD response"). Its message is stored as any other: a
 * plain literal may carry UTF-8 header fields too (RFC 9051 and RFC 9755
 * §4 do not make the UTF8 item a condition for them). */
static const struct imap_arg *utf8_data_message(const struct imap_arg *arg, bool enabled,
						const char **error_r)
{
	const struct imap_arg *list = &arg[1];

	if (!enabled) {
		*error_r = "APPEND UTF8 needs ENABLE UTF8=ACCEPT first (RFC 9755 4)";
		return NULL;
	}
	if (list->u.list.count != 1 || list->u.list.items[0].type != IMAP_ARG_LITERAL ||
	    !list->u.list.items[0].literal8) {
		*error_r = "APPEND UTF8 expects (~{n}) with one literal8 (RFC 9755 4)";
		return NULL;
	}
	return &list->u.list.items[0];
}

/* One "[flags] [date-time] append-data" group (RFC 3502 §6:
 * append-message, RFC 9755 §4); advances *args past it. */
static int parse_message(struct arena *a, bool utf8, const struct imap_arg **args,
			 struct db_append_msg *m, const char **error_r)
{
	const struct imap_arg *arg = *args, *msg;
	struct imap_flags flags = { 0 };
	int64_t date = (int64_t)time(NULL);
	int zone;

	if (arg->type == IMAP_ARG_LIST) {
		if (imap_flags_parse(a, arg, true, &flags, error_r) < 0)
			return -1;
		arg++;
	}
	if (arg->type == IMAP_ARG_QUOTED) {
		if (imap_datetime_parse(arg->u.str.data, arg->u.str.len, &date, &zone) < 0) {
			*error_r = "Invalid date-time";
			return -1;
		}
		arg++;
	}
	/* RFC 3516 §4.4: with BINARY a message may come as a literal8
	 * (~{n}), NULs and all; it is stored as received. A CATENATE list
	 * is parsed by the caller and leaves raw NULL. */
	if (is_utf8_data(arg)) {
		msg = utf8_data_message(arg, utf8, error_r);
		if (msg == NULL)
			return -1;
		*args = arg + 2;
	} else if (arg->type == IMAP_ARG_LITERAL) {
		msg = arg;
		*args = arg + 1;
	} else if (is_catenate(arg)) {
		msg = NULL;
		*args = arg + 2;
	} else {
		*error_r = "APPEND expects a message literal";
		return -1;
	}
	memset(m, 0, sizeof(*m));
	if (msg != NULL) {
		m->raw = msg->u.str.data;
		m->raw_len = msg->u.str.len;
		m->raw_spool = msg->spool;   /* a big message: literal_sink.c */
	}
	m->flags = flags.system;
	m->keywords_array = imap_keywords_array(a, &flags);
	m->internaldate = date;
	return 0;
}

/* The mailbox (argument 1) is dispatch's. Every top-level literal,
 * CATENATE or UTF8 data item is a message (a flag list is a list and a
 * date-time a quoted string; CATENATE's and UTF8's literals are inside
 * their lists), so counting them counts the messages. */
struct imap_result imap_check_append(struct imap_session *s, const struct imap_command *cmd)
{
	struct append_request *req = arena_alloc(&s->arena, sizeof(*req));
	const struct imap_arg *arg;
	const char *problem;
	size_t n = 0;

	if (cmd->nargs < 2)
		return imap_bad(s, NULL, "APPEND expects a mailbox and a message");
	for (arg = &cmd->args[1]; arg->type != IMAP_ARG_EOL; arg++)
		n += arg->type == IMAP_ARG_LITERAL || is_catenate(arg) || is_utf8_data(arg);
	if (n > APPEND_MAX_MESSAGES)
		return imap_bad(s, NULL, "Too many messages in one APPEND");
	if (n == 0)
		return imap_bad(s, NULL, "APPEND expects a message literal");
	req->msgs = arena_alloc(&s->arena, n * sizeof(*req->msgs));
	req->cat = arena_alloc(&s->arena, n * sizeof(*req->cat));
	memset(req->cat, 0, n * sizeof(*req->cat));
	req->n = n;
	arg = &cmd->args[1];
	for (size_t i = 0; i < n; i++) {
		struct imap_result res;
		if (parse_message(&s->arena, imap_session_utf8(s), &arg, &req->msgs[i], &problem) < 0)
			return imap_bad(s, NULL, "%s", problem);
		/* No bytes and no spool: a CATENATE list (parse_message). */
		if (req->msgs[i].raw == NULL && req->msgs[i].raw_spool == NULL &&
		    !imap_catenate_parse(s, arg - 1, &req->cat[i], &res))
			return res;
	}
	if (arg->type != IMAP_ARG_EOL)
		return imap_bad(s, NULL, "APPEND expects a message literal");
	/* Not a syntax error, but known before any SQL (and answered NO as
	 * it always was). */
	for (size_t i = 0; i < n; i++)
		if (req->msgs[i].raw_len == 0 && req->cat[i].nparts == 0)
			return imap_no(s, NULL, "Cannot append an empty message");
	s->parsed = req;
	return imap_ok(s, NULL, "checked");
}

/* RFC 4314 §4: "Only when the user has a particular right are the
 * corresponding flags stored for the newly created message. The server
 * MUST NOT fail a COPY/APPEND if the user has no rights to set a
 * particular flag." */
static void drop_flags(const struct imap_mailbox_acl *target, struct append_request *req)
{
	for (size_t i = 0; i < req->n; i++) {
		unsigned flags;
		bool keywords;
		(void)acl_store_permitted(target->rights, req->msgs[i].flags, true, &flags,
					  &keywords);
		req->msgs[i].flags &= flags;
		if (!keywords)
			req->msgs[i].keywords_array = "{}";
	}
}

/* RFC 4469: the CATENATE messages' bytes, from their text and URLs. */
static bool build_catenated(struct imap_session *s, struct imap_backend *be,
			    struct append_request *req, struct imap_result *res_r)
{
	uint64_t url_budget = (uint64_t)s->cfg->max_literal_size;

	for (size_t i = 0; i < req->n; i++) {
		if (req->cat[i].nparts == 0)
			continue;
		if (!imap_catenate_build(s, be, &req->cat[i], &url_budget, &req->msgs[i].raw,
					 &req->msgs[i].raw_len, res_r))
			return false;
		if (req->msgs[i].raw_len == 0) {
			*res_r = imap_no(s, NULL, "Cannot append an empty message");
			return false;
		}
	}
	return true;
}

/* RFC 9208 §4.3: NO [OVERQUOTA] when the messages together would pass
 * the target root's limits (MULTIAPPEND: all or none). A lone message
 * whose size the check before its "+" already passed is not read again. */
static bool quota_fits_all(struct imap_session *s, struct imap_backend *be, int64_t owner_id,
			   const struct append_request *req, struct imap_result *res_r)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < req->n; i++)
		bytes += req->msgs[i].raw_len;
	if (req->n == 1 && s->literal_quota_checked != 0 && s->literal_quota_checked == bytes)
		return true;
	return imap_quota_check(s, be, owner_id, bytes, req->n, res_r);
}

/* Dispatch has parsed the messages, resolved the target and checked "i"
 * on it when it exists. */
struct imap_result cmd_append(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	struct append_request *req = s->parsed;
	const struct imap_mailbox_acl *target = s->mailbox;
	struct db_append_result *res;
	struct imap_result refused;
	const char *name;
	enum db_result r;
	char err[256];

	(void)cmd;
	/* RFC 3501 §6.3.11: "If the destination mailbox does not exist, a
	 * server MUST return an error, and MUST NOT automatically create the
	 * mailbox. Unless it is certain that the destination mailbox can not
	 * be created, the server MUST send the response code "[TRYCREATE]"
	 * as the prefix of the text of the tagged NO response." A personal
	 * name can be created; elsewhere the answer is NONEXISTENT, as for a
	 * mailbox the caller may not see. */
	if ((name = imap_target_store_name(s, target, &refused)) == NULL)
		return refused;
	if (target->exists)
		drop_flags(target, req);
	if (!build_catenated(s, be, req, &refused))
		return refused;
	if (target->exists && !quota_fits_all(s, be, target->owner_id, req, &refused))
		return refused;
	/* From here to the commit the command is "storing" for the search
	 * indexer, which keeps its batches out of the way (server/indexer.c). */
	activity_begin(be->writes);
	for (size_t i = 0; i < req->n; i++)
		if (imap_message_analyse(&s->arena, &req->msgs[i]) < 0) {
			activity_end(be->writes);
			return imap_store_failed(s, "reading a spooled message", strerror(errno));
		}
	res = arena_alloc(&s->arena, req->n * sizeof(*res));
	r = db_append(be->db, s->account_id, target->owner_id, name, req->msgs, req->n,
		      s->cfg->max_keywords_per_mailbox, res, err, sizeof(err));
	activity_end(be->writes);
	if (r == DB_FAILED)
		return imap_store_failed(s, "appending", err);
	if (r == DB_NOT_FOUND)
		/* RFC 3501 §6.3.11: the client may CREATE and try again. */
		return imap_no(s, "TRYCREATE", "No such mailbox");
	if (target->exists)
		imap_session_changed(s, target->mailbox_id);
	for (size_t i = 0; i < req->n; i++)
		if (res[i].keywords_dropped) {
			imap_keywords_dropped(s);
			break;
		}
	if (s->view != NULL) {
		struct imap_result ignored;
		/* RFC 3501 §6.3.11: an APPEND to the selected mailbox is seen
		 * at once; a failure to read it only delays that. */
		(void)imap_view_sync(s, be, true, NULL, &ignored);
	}
	/* RFC 4315 §3: APPENDUID with the UIDs as a set; one transaction
	 * allocates them consecutively. */
	if (req->n == 1)
		return imap_ok(s, arena_printf(&s->arena, "APPENDUID %u %u", res[0].uidvalidity,
					       res[0].uid), "APPEND completed");
	return imap_ok(s, arena_printf(&s->arena, "APPENDUID %u %u:%u", res[0].uidvalidity,
				       res[0].uid, res[req->n - 1].uid), "APPEND completed");
}
