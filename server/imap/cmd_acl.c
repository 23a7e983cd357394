/* RFC 4314 §3: SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS, and
 * NAMESPACE (RFC 2342). The rights arithmetic is acl/'s. The command table
 * names the operation checked on the mailbox and dispatch checks it: §4
 * requires "a" for SETACL, DELETEACL, GETACL and LISTRIGHTS, and for
 * MYRIGHTS "any of the following rights": "l", "r", "i", "k", "x", "a"
 * (without them the mailbox is NONEXISTENT to the caller). The check
 * steps here parse the identifier and the rights before any SQL runs
 * (§3.1's "BAD - arguments invalid"), and the handlers write the
 * responses. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/rights.h"
#include "server/imap/writer.h"
#include "acl/identifier.h"
#include "acl/modify.h"
#include "directory/dir.h"
#include "schema/db_acl.h"
#include "schema/db_message.h"

#include <stdio.h>
#include <string.h>

/* What the check steps parse, in s->parsed. */
struct acl_args {
	struct acl_identifier id;     /* points into the command's argument */
	/* The identifier as stored: for a user, the directory's canonical
	 * login once acl_canonical_user ran; otherwise as the client sent it. */
	char ident[ACL_IDENTIFIER_MAX + 2];
	struct acl_change change;     /* SETACL's rights */
};

/* §3: "identifier" is an astring; its syntax is acl/'s (RFC 4314 §2). */
static bool acl_identifier_arg(struct imap_session *s, const struct imap_arg *arg,
			       struct acl_args *a, struct imap_result *res_r)
{
	const char *v;
	size_t len;
	enum acl_id_error e;

	if (!imap_arg_astring(arg, &v, &len)) {
		*res_r = imap_bad(s, NULL, "Invalid identifier");
		return false;
	}
	e = acl_identifier_parse(v, len, &a->id);
	if (e != ACL_ID_OK) {
		*res_r = imap_bad(s, NULL, "Invalid identifier: %s", acl_id_error_str(e));
		return false;
	}
	if (acl_identifier_format(&a->id, a->ident, sizeof(a->ident)) == 0) {
		*res_r = imap_bad(s, NULL, "Identifier too long");
		return false;
	}
	return true;
}

/* The check step of the commands that take a mailbox and an identifier
 * (and, for SETACL, rights): nargs arguments, the identifier second. */
static struct imap_result acl_check_args(struct imap_session *s, const struct imap_command *cmd,
					 size_t nargs, const char *usage)
{
	struct acl_args *a = arena_alloc(&s->arena, sizeof(*a));
	struct imap_result r;

	memset(a, 0, sizeof(*a));
	if (cmd->nargs != nargs)
		return imap_bad(s, NULL, "%s expects %s", cmd->name, usage);
	if (!acl_identifier_arg(s, &cmd->args[1], a, &r))
		return r;
	s->parsed = a;
	return imap_ok(s, NULL, "checked");
}

/* §3.1: SETACL mailbox identifier mod-rights. The rights are parsed
 * here, so that a BAD in them is answered before any SQL, even for a
 * mailbox that does not exist. */
struct imap_result imap_check_setacl(struct imap_session *s, const struct imap_command *cmd)
{
	struct acl_change change;
	struct imap_result r;
	const char *mod;
	size_t modlen;

	if (cmd->nargs != 3 || !imap_arg_astring(&cmd->args[2], &mod, &modlen))
		return imap_bad(s, NULL, "SETACL expects a mailbox, an identifier and rights");
	if (acl_change_parse(mod, modlen, &change) < 0)
		return imap_bad(s, NULL, "Invalid rights");
	r = acl_check_args(s, cmd, 3, "a mailbox, an identifier and rights");
	if (imap_result_ok(&r))
		((struct acl_args *)s->parsed)->change = change;
	return r;
}

/* §3.2: DELETEACL mailbox identifier. */
struct imap_result imap_check_deleteacl(struct imap_session *s, const struct imap_command *cmd)
{
	return acl_check_args(s, cmd, 2, "a mailbox and an identifier");
}

/* §3.4: LISTRIGHTS mailbox identifier. */
struct imap_result imap_check_listrights(struct imap_session *s, const struct imap_command *cmd)
{
	return acl_check_args(s, cmd, 2, "a mailbox and an identifier");
}

/* §3.3 GETACL, §3.5 MYRIGHTS: the mailbox alone (dispatch checks it). */
struct imap_result imap_check_acl_mailbox(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 1)
		return imap_bad(s, NULL, "%s expects a mailbox", cmd->name);
	return imap_ok(s, NULL, "checked");
}

/* A user identifier is canonicalised through the directory, so that
 * "ALICE" and "alice" are one entry. Needs LDAP, so it runs in the
 * handler, after dispatch resolved the mailbox and checked "a". */
static bool acl_canonical_user(struct imap_session *s, struct imap_backend *be,
			       struct acl_args *a, struct imap_result *res_r)
{
	char dn[1024], login[DIR_LOGIN_MAX + 1];
	bool found;

	if (a->id.kind != ACL_ID_USER)
		return true;
	if (!imap_user_lookup(s, be, a->id.name, a->id.name_len, dn, sizeof(dn), login,
			      sizeof(login), &found, res_r))
		return false;
	if (!found) {
		*res_r = imap_no(s, "NONEXISTENT", "No such user");
		return false;
	}
	snprintf(a->ident, sizeof(a->ident), "%s%s", a->id.negative ? "-" : "", login);
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
		       const struct imap_mailbox_acl *acl, struct imap_result *res_r)
{
	char err[256];

	if (db_mailbox_share_seen(be->db, acl->mailbox_id, acl->owner_id, err, sizeof(err)) !=
	    DB_FAILED)
		return true;
	*res_r = imap_store_failed(s, "switching a mailbox to per-user \\Seen", err);
	return false;
}

/* Stores an entry (rights NULL: removes it), and answers. */
static struct imap_result acl_store(struct imap_session *s, struct imap_backend *be,
				    int64_t mailbox_id, const char *identifier, const char *rights)
{
	char err[256];

	if (db_acl_set(be->db, mailbox_id, identifier, rights, err, sizeof(err)) != DB_OK)
		return imap_store_failed(s, "changing an ACL", err);
	return imap_done(s);
}

/* §3.1: "The SETACL command changes the access control list on the
 * specified mailbox so that the specified identifier is granted
 * permissions as specified in the third argument." Dispatch checked "a"
 * (§4); the check step parsed the identifier and the rights. */
struct imap_result cmd_setacl(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	struct acl_args *a = s->parsed;
	const struct db_acl_row *row;
	char letters[ACL_RIGHTS_TEXT_MAX];
	acl_rights stored, result;
	struct imap_result r;
	bool owner;

	(void)cmd;
	if (!acl_canonical_user(s, be, a, &r))
		return r;
	owner = names_owner(acl, &a->id, a->ident);
	row = db_acl_find(acl->rows, acl->nrows, a->ident);
	if (row != NULL && acl_rights_parse(row->rights, strlen(row->rights), &stored) < 0)
		stored = 0;
	result = acl_change_apply(&a->change, row != NULL ? &stored : NULL, owner);
	acl_rights_format(result, letters);
	if ((result & ACL_READ) && !a->id.negative && !owner && !share_seen(s, be, acl, &r))
		return r;
	return acl_store(s, be, acl->mailbox_id, a->ident, letters);
}

/* §3.2: "The DELETEACL command removes any <identifier,rights> pair for
 * the specified identifier from the access control list for the
 * specified mailbox." */
struct imap_result cmd_deleteacl(struct imap_session *s, const struct imap_command *cmd,
				 struct imap_backend *be)
{
	struct acl_args *a = s->parsed;
	struct imap_result r;

	(void)cmd;
	if (!acl_canonical_user(s, be, a, &r))
		return r;
	return acl_store(s, be, s->mailbox->mailbox_id, a->ident, NULL);
}

/* §3.3: every entry; an owner who is a person, and has all rights by
 * default, is listed with them when no entry names them (acl/evaluate.h). */
struct imap_result cmd_getacl(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	bool owner_listed;

	(void)cmd;
	(void)be;
	owner_listed = acl->owner_login == NULL ||
		       db_acl_find(acl->rows, acl->nrows, acl->owner_login) != NULL;
	buf_append_str(&s->out, "* ACL ");
	imap_write_mailbox(s, &s->out, acl->name, strlen(acl->name));
	if (!owner_listed) {
		buf_append(&s->out, " ", 1);
		imap_write_astring(&s->out, acl->owner_login, strlen(acl->owner_login));
		buf_append_str(&s->out, " lrswipkxtea");
	}
	for (size_t i = 0; i < acl->nrows; i++) {
		acl_rights rights = 0;
		char letters[ACL_RIGHTS_TEXT_MAX];
		(void)acl_rights_parse(acl->rows[i].rights, strlen(acl->rows[i].rights), &rights);
		acl_rights_format_response(rights, letters);
		buf_append(&s->out, " ", 1);
		imap_write_astring(&s->out, acl->rows[i].identifier,
				   strlen(acl->rows[i].identifier));
		buf_append(&s->out, " ", 1);
		imap_write_astring(&s->out, letters, strlen(letters));
	}
	buf_append(&s->out, "\r\n", 2);
	return imap_done(s);
}

/* §3.4 */
struct imap_result cmd_listrights(struct imap_session *s, const struct imap_command *cmd,
				  struct imap_backend *be)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	struct acl_args *a = s->parsed;
	struct acl_listrights lr;
	char text[ACL_LISTRIGHTS_TEXT_MAX];
	struct imap_result r;

	(void)cmd;
	if (!acl_canonical_user(s, be, a, &r))
		return r;
	acl_listrights(names_owner(acl, &a->id, a->ident), &lr);
	acl_listrights_format(&lr, text, sizeof(text));
	buf_append_str(&s->out, "* LISTRIGHTS ");
	imap_write_mailbox(s, &s->out, acl->name, strlen(acl->name));
	buf_append(&s->out, " ", 1);
	imap_write_astring(&s->out, a->ident, strlen(a->ident));
	buf_appendf(&s->out, " %s\r\n", text);
	return imap_done(s);
}

/* §3.5; dispatch checked that the caller has any of "lrikxa" (§4), else
 * the mailbox is NONEXISTENT to them. */
struct imap_result cmd_myrights(struct imap_session *s, const struct imap_command *cmd,
				struct imap_backend *be)
{
	const struct imap_mailbox_acl *acl = s->mailbox;

	(void)cmd;
	(void)be;
	imap_myrights_write(s, acl->name, strlen(acl->name), acl->rights);
	return imap_done(s);
}

void imap_myrights_write(struct imap_session *s, const char *name, size_t len, acl_rights rights)
{
	char letters[ACL_RIGHTS_TEXT_MAX];

	acl_rights_format_response(rights, letters);
	buf_append_str(&s->out, "* MYRIGHTS ");
	imap_write_mailbox(s, &s->out, name, len);
	buf_append(&s->out, " ", 1);
	imap_write_astring(&s->out, letters, strlen(letters));
	buf_append(&s->out, "\r\n", 2);
}

/* RFC 2342 §5: personal, other users' and shared, each with "/" (the
 * names are server/imap/namespace.h's). The prefixes end with the
 * delimiter, as the RFC recommends, so a client appends a login or team
 * name directly. They are always announced, also to someone nothing is
 * shared with yet: clients read NAMESPACE once, at login. */
struct imap_result cmd_namespace(struct imap_session *s, const struct imap_command *cmd,
				 struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) ((\"" IMAP_NS_OTHER_USERS "/\" \"/\"))"
		      " ((\"" IMAP_NS_SHARED "/\" \"/\"))");
	return imap_done(s);
}
