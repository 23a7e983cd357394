/* seen_mode: calls the \Seen mode conversions of schema/db_seen.c against a
 * database, for tests/protocol/test_seen_per_user.py. Nothing in kairand or
 * kairanctl calls them yet (SETACL and "kairanctl mailbox seen" will), so
 * this is how their SQL is exercised end to end meanwhile.
 *
 *   seen_mode DSN set MAILBOX_ID per-user|shared fixed|unfixed SEED_ACCOUNT_ID
 *   seen_mode DSN share MAILBOX_ID OWNER_ID
 *
 * Exit status: 0 done, 2 no such mailbox, 1 failure (reason on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_message.h"

static int usage(void)
{
	fprintf(stderr, "usage: seen_mode DSN set MAILBOX_ID per-user|shared fixed|unfixed SEED\n"
			"       seen_mode DSN share MAILBOX_ID OWNER_ID\n");
	return 1;
}

int main(int argc, char **argv)
{
	char err[256] = "";
	enum db_result r;
	db *d;

	if (argc < 5)
		return usage();
	if (db_open(argv[1], &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "seen_mode: %s\n", err);
		return 1;
	}
	if (strcmp(argv[2], "set") == 0 && argc == 7)
		r = db_mailbox_set_seen_mode(d, atoll(argv[3]), strcmp(argv[4], "per-user") == 0,
					     strcmp(argv[5], "fixed") == 0, atoll(argv[6]),
					     err, sizeof(err));
	else if (strcmp(argv[2], "share") == 0 && argc == 5)
		r = db_mailbox_share_seen(d, atoll(argv[3]), atoll(argv[4]), err, sizeof(err));
	else {
		db_close(&d);
		return usage();
	}
	db_close(&d);
	if (r == DB_FAILED)
		fprintf(stderr, "seen_mode: %s\n", err);
	return r == DB_OK ? 0 : r == DB_NOT_FOUND ? 2 : 1;
}
