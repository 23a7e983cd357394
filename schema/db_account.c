/* Accounts: the rows that own mailboxes (migrations/0001_initial.sql). */
#include <string.h>

#include "schema/db_private.h"

/* Provisioning runs on every login, so it must not write when nothing
 * changed: the INSERT is skipped when the login exists (so it does not
 * even draw an id from the sequence), and the UPDATE matches only when the
 * DN differs.  All CTEs share one snapshot: "old" is the row as it was
 * before this statement, and is empty exactly when "ins" created it.
 * Still one round trip, and one transaction.
 *
 * A new account gets its folders in the same statement (RFC 6154
 * special-use mailboxes, DESIGN.md), subscribed, since several clients
 * show only subscribed folders.  Every later login makes sure INBOX exists
 * (RFC 3501 §5.1: it always does), for accounts created before their
 * folders were, or by other means; the NOT EXISTS keeps that from
 * writing, or drawing a UIDVALIDITY, when it is there.
 *
 * The kind is returned so that a login colliding with a shared account is
 * refused rather than turned into that account; such rows are neither
 * updated nor given an INBOX.  So is whether an admin asked for the
 * user's sessions to be traced (migration 0014): read here, it costs no
 * round trip of its own. */
const struct db_stmt db_account_stmts[] = {
	{ "account_provision",
	  "WITH ins AS ("
	  " INSERT INTO accounts (login, ldap_dn, kind) SELECT $1, $2::text, 'user'"
	  "  WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE login = $1)"
	  " ON CONFLICT (login) DO NOTHING"
	  " RETURNING id, kind),"
	  " old AS (SELECT id, kind, ldap_dn FROM accounts WHERE login = $1),"
	  " upd AS (UPDATE accounts a SET ldap_dn = $2 FROM old"
	  "  WHERE a.id = old.id AND old.kind = 'user' AND old.ldap_dn IS DISTINCT FROM $2),"
	  " folders (name, special_use) AS (VALUES ('INBOX', ARRAY[]::text[]),"
	  "  ('Sent', ARRAY['\\Sent']), ('Drafts', ARRAY['\\Drafts']),"
	  "  ('Trash', ARRAY['\\Trash']), ('Junk', ARRAY['\\Junk']),"
	  "  ('Archive', ARRAY['\\Archive'])),"
	  " boxes AS (INSERT INTO mailboxes (owner_id, name, special_use)"
	  "  SELECT ins.id, f.name, f.special_use FROM ins, folders f"
	  "  UNION ALL"
	  "  SELECT old.id, 'INBOX', ARRAY[]::text[] FROM old WHERE old.kind = 'user'"
	  "   AND NOT EXISTS (SELECT 1 FROM mailboxes m WHERE m.owner_id = old.id AND m.name = 'INBOX')"
	  "  ON CONFLICT DO NOTHING),"  /* any unique index: see db_mailbox.c */
	  " subs AS (INSERT INTO subscriptions (account_id, name)"
	  "  SELECT ins.id, f.name FROM ins, folders f)"
	  " SELECT id, kind, EXISTS (SELECT 1 FROM protocol_trace WHERE login = $1)"
	  " FROM (SELECT id, kind FROM ins UNION ALL SELECT id, kind FROM old) r" },
	{ NULL, NULL },
};

int db_account_provision(db *d, const char *login, const char *ldap_dn,
                         int64_t *account_id_r, bool *trace_r, char *err, size_t errlen)
{
	const char *params[2] = { login, ldap_dn };

	if (login == NULL || login[0] == '\0') {
		db_errf(err, errlen, "provisioning account: empty login");
		return -1;
	}
	/* Two attempts: when two first logins of the same user race, the loser's
	 * INSERT waits for the winner's and then takes the conflict branch, but
	 * its fallback SELECT runs on a snapshot taken before the winner
	 * committed and finds no row.  A second statement gets a new snapshot
	 * and sees it. */
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res = PQexecPrepared(d->conn, "account_provision", 2, params,
		                               NULL, NULL, 0);
		int64_t id;
		int shared;

		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			db_err_result(err, errlen, "provisioning account", d->conn, res);
			PQclear(res);
			return -1;
		}
		if (PQntuples(res) == 0) {
			PQclear(res);
			continue;
		}
		if (db_get_int64(res, 0, 0, &id) < 0) {
			db_errf(err, errlen, "provisioning account: invalid account id");
			PQclear(res);
			return -1;
		}
		shared = strcmp(PQgetvalue(res, 0, 1), "user") != 0;
		if (trace_r != NULL)
			*trace_r = PQgetvalue(res, 0, 2)[0] == 't';
		PQclear(res);
		if (shared) {
			db_errf(err, errlen, "provisioning account: the login names a shared account");
			return -1;
		}
		*account_id_r = id;
		return 0;
	}
	db_errf(err, errlen, "provisioning account: the account row did not appear");
	return -1;
}
