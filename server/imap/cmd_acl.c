/* RFC 4314 §3: SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS, and
 * NAMESPACE (RFC 2342). The rights arithmetic is acl/'s; this file parses,
 * checks the caller's "a" right, and writes the responses. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/rights.h"
#include "server/imap/writer.h"
#include "server/core/log.h"
#include "acl/identifier.h"
#include "acl/modify.h"
#include "directory/dir.h"
#include "schema/db_acl.h"

#include <stdio.h>
#include <string.h>

/* The mailbox argument (in any namespace), its ACL, and the check of op.
 * false when answered. */
static bool acl_target(struct imap_session *s, struct imap_backend *be, const struct imap_arg *arg,
		       enum acl_operation op, const char **name_r, struct imap_mailbox_acl *acl)
{
	const char *problem;
	size_t len;

	if (imap_mailbox_arg(s, arg, name_r, &len, &problem) < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return false;
	}
	if (!imap_db_ready(s, be) ||
	    !imap_mailbox_require(s, be, *name_r, op, acl))
		return false;
	if (!acl->exists) {
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return false;
	}
	return true;
}

/* The identifier argument, parsed; a user identifier is canonicalised
 * through the directory, so that "ALICE" and "alice" are one entry. */
static bool acl_identifier_arg(struct imap_session *s, struct imap_backend *be,
			       const struct imap_arg *arg, struct acl_identifier *id,
			       char *text, size_t size)
{
	const char *v;
	size_t len;
	enum acl_id_error e;

	if (!imap_arg_astring(arg, &v, &len)) {
		imap_reply(s, "BAD", NULL, "Invalid identifier");
		return false;
	}
	e = acl_identifier_parse(v, len, id);
	if (e != ACL_ID_OK) {
		imap_reply(s, "BAD", NULL, "Invalid identifier: %s", acl_id_error_str(e));
		return false;
	}
	if (id->kind == ACL_ID_USER) {
		char dn[1024], login[DIR_LOGIN_MAX + 1], err[256];
		switch (dir_lookup_user(be->dir, id->name, id->name_len, dn, sizeof(dn), login,
					sizeof(login), err, sizeof(err))) {
		case DIR_OK:
			break;
		case DIR_FAIL:
			imap_reply(s, "NO", "NONEXISTENT", "No such user");
			return false;
		case DIR_UNAVAILABLE:
			imap_reply(s, "NO", "UNAVAILABLE", "Directory temporarily unavailable, try again later");
			return false;
		}
		snprintf(text, size, "%s%s", id->negative ? "-" : "", login);
		return true;
	}
	if (acl_identifier_format(id, text, size) == 0) {
		imap_reply(s, "BAD", NULL, "Identifier too long");
		return false;
	}
	return true;
}

/* Whether a (positive) identifier is the mailbox's owner, whose entry
 * replaces the implicit rights but cannot take "l" and "a" away. */
static bool names_owner(const struct imap_mailbox_acl *acl, const struct acl_identifier *id,
			const char *ident)
{
	return !id->negative && id->kind == ACL_ID_USER && acl->owner_login != NULL &&
	       strcmp(ident, acl->owner_login) == 0;
}

/* Someone besides the owner may read the mailbox now: its \Seen becomes
 * per-user (docs/acl.md), unless an admin fixed the mode. Done before the
 * grant, so the new reader never sees the owner's read marks as theirs. */
static bool share_seen(struct imap_session *s, struct imap_backend *be,
		       const struct imap_mailbox_acl *acl)
{
	char err[256];

	if (db_mailbox_share_seen(be->db, acl->mailbox_id, acl->owner_id, err, sizeof(err)) !=
	    DB_FAILED)
		return true;
	log_warning("%s: cannot switch a mailbox to per-user \\Seen: %s", s->peer, err);
	imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
	return false;
}

static bool acl_store(struct imap_session *s, struct imap_backend *be, int64_t mailbox_id,
		      const char *identifier, const char *rights)
{
	char err[256];

	if (db_acl_set(be->db, mailbox_id, identifier, rights, err, sizeof(err)) == DB_OK)
		return true;
	log_warning("%s: cannot change an ACL: %s", s->peer, err);
	imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
	return false;
}

/* §3.1 */
void cmd_setacl(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct imap_mailbox_acl acl;
	struct acl_identifier id;
	struct acl_change change;
	const struct db_acl_row *row;
	const char *name, *mod;
	char ident[ACL_IDENTIFIER_MAX + 2], letters[ACL_RIGHTS_TEXT_MAX];
	acl_rights stored, result;
	size_t modlen;

	if (cmd->nargs != 3 || !imap_arg_astring(&cmd->args[2], &mod, &modlen)) {
		imap_reply(s, "BAD", NULL, "SETACL expects a mailbox, an identifier and rights");
		return;
	}
	if (acl_change_parse(mod, modlen, &change) < 0) {
		imap_reply(s, "BAD", NULL, "Invalid rights");
		return;
	}
	if (!acl_target(s, be, &cmd->args[0], ACL_OP_SETACL, &name, &acl) ||
	    !acl_identifier_arg(s, be, &cmd->args[1], &id, ident, sizeof(ident)))
		return;
	row = db_acl_find(acl.rows, acl.nrows, ident);
	if (row != NULL && acl_rights_parse(row->rights, strlen(row->rights), &stored) < 0)
		stored = 0;
	result = acl_change_apply(&change, row != NULL ? &stored : NULL,
				  names_owner(&acl, &id, ident));
	acl_rights_format(result, letters);
	if ((result & ACL_READ) && !id.negative && !names_owner(&acl, &id, ident) &&
	    !share_seen(s, be, &acl))
		return;
	if (acl_store(s, be, acl.mailbox_id, ident, letters))
		imap_reply(s, "OK", NULL, "SETACL completed");
}

/* §3.2 */
void cmd_deleteacl(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct imap_mailbox_acl acl;
	struct acl_identifier id;
	const char *name;
	char ident[ACL_IDENTIFIER_MAX + 2];

	if (cmd->nargs != 2) {
		imap_reply(s, "BAD", NULL, "DELETEACL expects a mailbox and an identifier");
		return;
	}
	if (!acl_target(s, be, &cmd->args[0], ACL_OP_DELETEACL, &name, &acl) ||
	    !acl_identifier_arg(s, be, &cmd->args[1], &id, ident, sizeof(ident)))
		return;
	if (acl_store(s, be, acl.mailbox_id, ident, NULL))
		imap_reply(s, "OK", NULL, "DELETEACL completed");
}

/* §3.3: every entry; an owner who is a person, and has all rights by
 * default, is listed with them when no entry names them (acl/evaluate.h). */
void cmd_getacl(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct imap_mailbox_acl acl;
	const char *name;
	bool owner_listed;

	if (cmd->nargs != 1) {
		imap_reply(s, "BAD", NULL, "GETACL expects a mailbox");
		return;
	}
	if (!acl_target(s, be, &cmd->args[0], ACL_OP_GETACL, &name, &acl))
		return;
	owner_listed = acl.owner_login == NULL ||
		       db_acl_find(acl.rows, acl.nrows, acl.owner_login) != NULL;
	buf_append_str(&s->out, "* ACL ");
	imap_write_mailbox(s, &s->out, name, strlen(name));
	if (!owner_listed) {
		buf_append(&s->out, " ", 1);
		imap_write_astring(&s->out, acl.owner_login, strlen(acl.owner_login));
		buf_append_str(&s->out, " lrswipkxtea");
	}
	for (size_t i = 0; i < acl.nrows; i++) {
		acl_rights r = 0;
		char letters[ACL_RIGHTS_TEXT_MAX];
		(void)acl_rights_parse(acl.rows[i].rights, strlen(acl.rows[i].rights), &r);
		acl_rights_format_response(r, letters);
		buf_append(&s->out, " ", 1);
		imap_write_astring(&s->out, acl.rows[i].identifier, strlen(acl.rows[i].identifier));
		buf_append(&s->out, " ", 1);
		imap_write_astring(&s->out, letters, strlen(letters));
	}
	buf_append(&s->out, "\r\n", 2);
	imap_reply(s, "OK", NULL, "GETACL completed");
}

/* §3.4 */
void cmd_listrights(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct imap_mailbox_acl acl;
	struct acl_identifier id;
	struct acl_listrights lr;
	const char *name;
	char ident[ACL_IDENTIFIER_MAX + 2], text[ACL_LISTRIGHTS_TEXT_MAX];

	if (cmd->nargs != 2) {
		imap_reply(s, "BAD", NULL, "LISTRIGHTS expects a mailbox and an identifier");
		return;
	}
	if (!acl_target(s, be, &cmd->args[0], ACL_OP_LISTRIGHTS, &name, &acl) ||
	    !acl_identifier_arg(s, be, &cmd->args[1], &id, ident, sizeof(ident)))
		return;
	acl_listrights(names_owner(&acl, &id, ident), &lr);
	acl_listrights_format(&lr, text, sizeof(text));
	buf_append_str(&s->out, "* LISTRIGHTS ");
	imap_write_mailbox(s, &s->out, name, strlen(name));
	buf_append(&s->out, " ", 1);
	imap_write_astring(&s->out, ident, strlen(ident));
	buf_appendf(&s->out, " %s\r\n", text);
	imap_reply(s, "OK", NULL, "LISTRIGHTS completed");
}

/* §3.5 */
void cmd_myrights(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct imap_mailbox_acl acl;
	const char *name;
	char letters[ACL_RIGHTS_TEXT_MAX];

	if (cmd->nargs != 1) {
		imap_reply(s, "BAD", NULL, "MYRIGHTS expects a mailbox");
		return;
	}
	if (!acl_target(s, be, &cmd->args[0], ACL_OP_MYRIGHTS, &name, &acl))
		return;
	acl_rights_format_response(acl.rights, letters);
	buf_append_str(&s->out, "* MYRIGHTS ");
	imap_write_mailbox(s, &s->out, name, strlen(name));
	buf_append(&s->out, " ", 1);
	imap_write_astring(&s->out, letters, strlen(letters));
	buf_append(&s->out, "\r\n", 2);
	imap_reply(s, "OK", NULL, "MYRIGHTS completed");
}

/* RFC 2342 §5: personal, other users' and shared, each with "/" (the
 * names are server/imap/namespace.h's). The prefixes end with the
 * delimiter, as the RFC recommends, so a client appends a login or team
 * name directly. They are always announced, also to someone nothing is
 * shared with yet: clients read NAMESPACE once, at login. */
void cmd_namespace(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	(void)be;
	if (cmd->nargs != 0) {
		imap_reply(s, "BAD", NULL, "NAMESPACE takes no arguments");
		return;
	}
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) ((\"" IMAP_NS_OTHER_USERS "/\" \"/\"))"
		      " ((\"" IMAP_NS_SHARED "/\" \"/\"))");
	imap_reply(s, "OK", NULL, "NAMESPACE completed");
}
