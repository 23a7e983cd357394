/* Session housekeeping: ID (RFC 2971) and ENABLE (RFC 5161). */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/view.h"
#include "server/imap/writer.h"
#include "server/core/log.h"

#include <stdio.h>
#include <string.h>

/* RFC 2971 §3.3 limits on what a client may send. */
#define ID_MAX_PAIRS 30
#define ID_MAX_FIELD 30
#define ID_MAX_VALUE 1024

/* Checks the client's list and renders it for the log. */
static const char *id_check(const struct imap_arg *list, char *summary, size_t size)
{
	size_t n = list->u.list.count, used = 0;

	summary[0] = '\0';
	if (n % 2 != 0)
		return "ID list must hold field-value pairs";
	if (n / 2 > ID_MAX_PAIRS)
		return "Too many ID fields";
	for (size_t i = 0; i < n; i += 2) {
		const struct imap_arg *f = &list->u.list.items[i], *v = &list->u.list.items[i + 1];
		const char *fs, *vs = NULL;
		size_t flen, vlen = 0;
		char fesc[64], vesc[128];

		if (!imap_arg_string(f, &fs, &flen))
			return "ID field names must be strings";
		if (flen > ID_MAX_FIELD)
			return "ID field name too long";
		if (!imap_arg_atom_is(v, "NIL") && !imap_arg_string(v, &vs, &vlen))
			return "ID values must be strings or NIL";
		if (vlen > ID_MAX_VALUE)
			return "ID value too long";
		log_escape(fs, flen, fesc, sizeof(fesc));
		log_escape(vs != NULL ? vs : "NIL", vs != NULL ? vlen : 3, vesc, sizeof(vesc));
		if (used < size)
			used += (size_t)snprintf(summary + used, size - used, "%s%s=%s",
						 i > 0 ? " " : "", fesc, vesc);
	}
	return NULL;
}

/* RFC 2971 §3.1: "ID ( field value ... )" or "ID NIL". The list, rendered
 * for the log, goes to s->parsed (NULL for NIL). */
struct imap_result imap_check_id(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_arg *arg = &cmd->args[0];
	const char *problem;
	char summary[512];

	if (cmd->nargs != 1 || (!imap_arg_atom_is(arg, "NIL") && arg->type != IMAP_ARG_LIST))
		return imap_bad(s, NULL, "ID expects NIL or a parenthesised list");
	if (arg->type == IMAP_ARG_LIST) {
		problem = id_check(arg, summary, sizeof(summary));
		if (problem != NULL)
			return imap_bad(s, NULL, "%s", problem);
		s->parsed = arena_strndup(&s->arena, summary, strlen(summary));
	}
	return imap_ok(s, NULL, "checked");
}

/* RFC 2971 §3.1: allowed in any state. */
struct imap_result cmd_id(struct imap_session *s, const struct imap_command *cmd,
			  struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	if (s->parsed != NULL)
		log_info("%s: client ID %s", s->peer, (const char *)s->parsed);
	imap_untagged(s, "ID (\"name\" \"Kairan\" \"vendor\" \"Kairan\" \"version\" \"%s\")",
		      KAIRAN_VERSION);
	return imap_done(s);
}

/* RFC 5161 §3.1: "ENABLE" 1*(SP capability), each an atom. */
struct imap_result imap_check_enable(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs == 0)
		return imap_bad(s, NULL, "ENABLE expects at least one capability");
	for (size_t i = 0; i < cmd->nargs; i++)
		if (cmd->args[i].type != IMAP_ARG_ATOM)
			return imap_bad(s, NULL, "ENABLE expects capability names");
	return imap_ok(s, NULL, "checked");
}

/* RFC 5161 §3.1: capabilities this server can enable: CONDSTORE and
 * QRESYNC (RFC 7162 §3.1, §3.2.3; QRESYNC implies CONDSTORE), and
 * IMAP4rev2 (RFC 9051 §6.3.1), which from then on drops \Recent, among
 * other things, also from a mailbox already selected (view.h), and
 * UTF8=ACCEPT (RFC 9755 §3: imap_session_utf8). Unknown
 * names are ignored; ENABLED lists only what this command newly enabled
 * (RFC 5161 §3.2: "capabilities that were not already enabled"). Enabling
 * CONDSTORE while a per-user mailbox is selected makes the next change
 * read load the reader's private modseqs (view.h). */
struct imap_result cmd_enable(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	bool condstore = false, qresync = false, rev2 = false, utf8 = false;

	(void)be;
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (imap_arg_atom_is(&cmd->args[i], "CONDSTORE"))
			condstore = true;
		else if (imap_arg_atom_is(&cmd->args[i], "QRESYNC"))
			qresync = true;
		else if (imap_arg_atom_is(&cmd->args[i], "IMAP4rev2"))
			rev2 = true;
		else if (imap_arg_atom_is(&cmd->args[i], "UTF8=ACCEPT"))
			utf8 = true; /* RFC 9755 §3 */
	}
	/* Named as asked: "ENABLE QRESYNC" answers "ENABLED QRESYNC" (RFC
	 * 7162 §3.2.3's example) though it enables CONDSTORE too. */
	buf_append_str(&s->out, "* ENABLED");
	if (condstore && !s->condstore)
		buf_append_str(&s->out, " CONDSTORE");
	if (qresync && !s->qresync)
		buf_append_str(&s->out, " QRESYNC");
	if (rev2 && !s->imap4rev2)
		buf_append_str(&s->out, " IMAP4rev2");
	if (utf8 && !s->utf8_accept)
		buf_append_str(&s->out, " UTF8=ACCEPT");
	buf_append(&s->out, "\r\n", 2);
	s->utf8_accept |= utf8;
	s->condstore |= condstore || qresync;
	s->qresync |= qresync;
	if (rev2 && !s->imap4rev2) {
		s->imap4rev2 = true;
		if (s->view != NULL)
			imap_view_forget_recent(s->view);
	}
	return imap_done(s);
}
