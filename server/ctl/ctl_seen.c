/* mailbox seen: the per-mailbox switch between per-user and common \Seen
 * (docs/acl.md "Per-user \Seen"). The conversion is schema/'s
 * db_mailbox_set_seen_mode; the choice is stored as fixed, so that later
 * grants of "r" leave it alone. */
#include "server/ctl/ctl.h"
#include "schema/db_message.h"

#include <stdio.h>
#include <string.h>

int ctl_cmd_mailbox_seen(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX] = "";
	struct ctl_mailbox mb;
	enum ctl_status st;
	enum db_result r;
	bool per_user;
	db *d = NULL;

	if (argc != 2 || (strcmp(argv[1], "per-user") != 0 && strcmp(argv[1], "shared") != 0))
		return ctl_usage("mailbox seen", "mailbox seen needs a mailbox and per-user or shared");
	per_user = strcmp(argv[1], "per-user") == 0;
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
	    (st = ctl_mailbox_resolve(ctl, d, argv[0], &mb, err, sizeof(err))) == CTL_OK) {
		/* Switching to per-user hands the common state to the owner;
		 * a shared account reads nothing, so there is no one to keep
		 * it for. */
		r = db_mailbox_set_seen_mode(d, mb.mailbox_id, per_user, true,
					     mb.owner_shared ? 0 : mb.owner_id, err, sizeof(err));
		if (r == DB_NOT_FOUND)
			st = ctl_err(CTL_FAILED, err, sizeof(err), "%s was deleted meanwhile", mb.arg);
		else if (r != DB_OK)
			st = CTL_FAILED;
	}
	if (st == CTL_OK)
		printf("%s\tseen=%s,fixed\n", mb.arg, per_user ? "per-user" : "shared");
	return ctl_report(st, err);
}
