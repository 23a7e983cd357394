/* acl set, acl remove, acl show: RFC 4314 SETACL, DELETEACL and GETACL for
 * an admin, on any mailbox (server/ctl/ctl_mailbox.c says how one is
 * named). The rights arithmetic is acl/'s, exactly as in
 * server/imap/cmd_acl.c, so an entry written here reads the same over IMAP. */
#include "server/ctl/ctl.h"
#include "schema/db_admin.h"
#include "schema/db_message.h"

#include <stdio.h>
#include <string.h>

enum ctl_status ctl_rights_arg(const char *text, struct acl_change *change_r,
			       char *err, size_t errlen)
{
	if (acl_change_parse(text, strlen(text), change_r) < 0)
		return ctl_err(CTL_USAGE, err, errlen, "invalid rights '%s': expected [+|-] and "
			       "letters of lrswipkxtea (c and d as in SETACL)", text);
	return CTL_OK;
}

enum ctl_status ctl_acl_change(struct ctl *ctl, db *d, struct ctl_mailbox *mb, const char *ident,
			       const struct acl_change *change, acl_rights *result_r,
			       char *err, size_t errlen)
{
	bool owner = ctl_mailbox_names_owner(mb, ident);
	const struct db_acl_row *row;
	char letters[ACL_RIGHTS_TEXT_MAX];
	acl_rights stored = 0;
	enum db_result r;
	int64_t owner_id;
	int noselect;

	/* Read again under the row lock: "+w" must add to what is stored now. */
	r = db_admin_mailbox_lock(d, mb->mailbox_id, err, errlen);
	if (r == DB_OK)
		r = db_mailbox_acl_by_id(d, mb->mailbox_id, &ctl->arena, &owner_id, &noselect,
					 &mb->acl, &mb->nacl, err, errlen);
	if (r == DB_NOT_FOUND)
		return ctl_err(CTL_FAILED, err, errlen, "%s was deleted meanwhile", mb->arg);
	if (r != DB_OK)
		return CTL_FAILED;
	row = db_acl_find(mb->acl, mb->nacl, ident);
	/* A corrupt stored value counts as no rights, as in IMAP SETACL. */
	if (row != NULL && acl_rights_parse(row->rights, strlen(row->rights), &stored) < 0)
		stored = 0;
	*result_r = acl_change_apply(change, row != NULL ? &stored : NULL, owner);
	acl_rights_format(*result_r, letters);
	if (db_acl_set(d, mb->mailbox_id, ident, letters, err, errlen) != DB_OK)
		return CTL_FAILED;
	if (!owner && ident[0] != '-' && (*result_r & ACL_READ) != 0 &&
	    db_mailbox_share_seen(d, mb->mailbox_id, mb->owner_id, err, errlen) == DB_FAILED)
		return CTL_FAILED;
	return CTL_OK;
}

int ctl_cmd_acl_set(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX], ident[ACL_IDENTIFIER_MAX + 2];
	struct ctl_mailbox mb;
	struct acl_identifier id;
	struct acl_change change;
	acl_rights result = 0;
	enum ctl_status st;
	db *d = NULL;

	if (argc != 3)
		return ctl_usage("acl set", "acl set needs a mailbox, an identifier and rights");
	if ((st = ctl_rights_arg(argv[2], &change, err, sizeof(err))) == CTL_OK &&
	    (st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
	    (st = ctl_mailbox_resolve(ctl, d, argv[0], &mb, err, sizeof(err))) == CTL_OK &&
	    (st = ctl_identifier(ctl, argv[1], CTL_ID_GRANT, &id, ident, sizeof(ident), err,
				 sizeof(err))) == CTL_OK &&
	    (st = ctl_tx_begin(d, err, sizeof(err))) == CTL_OK) {
		st = ctl_acl_change(ctl, d, &mb, ident, &change, &result, err, sizeof(err));
		st = ctl_tx_end(d, st, err, sizeof(err));
	}
	if (st == CTL_OK)
		printf("%s\t%s\t%s\n", mb.arg, ident, ctl_rights_text(&ctl->arena, result));
	return ctl_report(st, err);
}

/* The stored entry an argument names: the text as given when such an entry
 * exists, which needs no directory (the person may have left it), else a
 * login as the directory spells it. NULL (CTL_OK) when there is none. */
static enum ctl_status stored_identifier(struct ctl *ctl, const struct ctl_mailbox *mb,
					 const char *text, char *ident, size_t size,
					 const char **found_r, char *err, size_t errlen)
{
	struct acl_identifier id;
	enum ctl_status st;

	*found_r = NULL;
	st = ctl_identifier(ctl, text, CTL_ID_ANY, &id, ident, size, err, errlen);
	if (st != CTL_OK)
		return st;
	if (db_acl_find(mb->acl, mb->nacl, ident) == NULL && id.kind == ACL_ID_USER) {
		st = ctl_identifier(ctl, text, CTL_ID_GRANT, &id, ident, size, err, errlen);
		if (st != CTL_OK)
			return st;
	}
	if (db_acl_find(mb->acl, mb->nacl, ident) != NULL)
		*found_r = ident;
	return CTL_OK;
}

int ctl_cmd_acl_remove(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX], ident[ACL_IDENTIFIER_MAX + 2];
	const char *found = NULL;
	struct ctl_mailbox mb;
	enum ctl_status st;
	db *d = NULL;

	if (argc != 2)
		return ctl_usage("acl remove", "acl remove needs a mailbox and an identifier");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
	    (st = ctl_mailbox_resolve(ctl, d, argv[0], &mb, err, sizeof(err))) == CTL_OK &&
	    (st = stored_identifier(ctl, &mb, argv[1], ident, sizeof(ident), &found, err,
				    sizeof(err))) == CTL_OK && found != NULL &&
	    db_acl_set(d, mb.mailbox_id, found, NULL, err, sizeof(err)) != DB_OK)
		st = CTL_FAILED;
	/* Like DELETEACL, removing what is not there is no error: a script
	 * that removes an entry twice has what it wants. */
	if (st == CTL_OK && found == NULL)
		printf("%s has no entry for %s: nothing removed\n", mb.arg, argv[1]);
	else if (st == CTL_OK)
		printf("%s\t%s\t-\n", mb.arg, found);
	return ctl_report(st, err);
}

int ctl_cmd_acl_show(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];
	struct ctl_mailbox mb;
	struct ctl_list lines = { 0 };
	enum ctl_status st;
	db *d = NULL;

	if (argc != 1)
		return ctl_usage("acl show", "acl show needs a mailbox");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) != CTL_OK ||
	    (st = ctl_mailbox_resolve(ctl, d, argv[0], &mb, err, sizeof(err))) != CTL_OK)
		return ctl_report(st, err);
	/* As GETACL: a person who owns the mailbox has every right until an
	 * entry names them (acl/evaluate.h). */
	if (!mb.owner_shared && db_acl_find(mb.acl, mb.nacl, mb.owner_login) == NULL)
		ctl_list_add(&ctl->arena, &lines,
			     ctl_strf(&ctl->arena, "%s\t%s\t(owner default)", mb.owner_login,
				      ctl_rights_text(&ctl->arena, ACL_ALL)));
	for (size_t i = 0; i < mb.nacl; i++)
		ctl_list_add(&ctl->arena, &lines, ctl_strf(&ctl->arena, "%s\t%s",
							   mb.acl[i].identifier, mb.acl[i].rights));
	ctl_list_print(&lines);
	return CTL_OK;
}
