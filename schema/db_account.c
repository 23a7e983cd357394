/* Accounts: the rows that own mailboxes (migrations/0001_initial.sql). */
#include <string.h>

#include "schema/db_private.h"

/* Provisioning runs on every login, so it must not write when nothing
 * changed: a plain ON CONFLICT DO UPDATE would create a new row version
 * (and WAL) per login.  With the WHERE clause an unchanged row is left
 * alone, but then RETURNING yields nothing, so the second branch reads the
 * existing row instead.  Still one round trip.
 *
 * The kind is returned so that a login colliding with a shared account is
 * refused rather than turned into that account; such rows are not updated
 * either (the WHERE excludes them). */
const struct db_stmt db_account_stmts[] = {
	{ "account_provision",
	  "WITH ins AS ("
	  " INSERT INTO accounts AS a (login, ldap_dn, kind) VALUES ($1, $2, 'user')"
	  " ON CONFLICT (login) DO UPDATE SET ldap_dn = EXCLUDED.ldap_dn"
	  "  WHERE a.kind = 'user' AND a.ldap_dn IS DISTINCT FROM EXCLUDED.ldap_dn"
	  " RETURNING a.id, a.kind)"
	  " SELECT id, kind FROM ins"
	  " UNION ALL"
	  " SELECT id, kind FROM accounts WHERE login = $1 AND NOT EXISTS (SELECT 1 FROM ins)" },
	{ NULL, NULL },
};

int db_account_provision(db *d, const char *login, const char *ldap_dn,
                         int64_t *account_id_r, char *err, size_t errlen)
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
