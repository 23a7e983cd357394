/* The change bus's SQL (schema/db_notify.h). */
#include <stdlib.h>
#include <string.h>

#include "schema/db_notify.h"
#include "schema/db_private.h"
#include "server/core/buf.h"

const struct db_stmt db_notify_stmts[] = {
	{ "bus_notify", "SELECT pg_notify('" DB_BUS_CHANNEL "', $1)" },
	/* The reconcile (docs/architecture.md, "Design decisions", 3): each
	 * watched mailbox's last shared change, and each watching reader's
	 * last private one (migrations/0011), account 0 for the former. */
	{ "bus_modseqs",
	  "SELECT id, 0::bigint, shared_modseq FROM mailboxes WHERE id = ANY ($1::bigint[])"
	  " UNION ALL SELECT s.mailbox_id, s.account_id, s.modseq FROM seen s"
	  "   JOIN unnest($2::bigint[], $3::bigint[]) w(m, a) ON s.mailbox_id = w.m AND s.account_id = w.a" },
	{ NULL, NULL },
};

int db_notify(db *d, const char *payload, char *err, size_t errlen)
{
	const char *params[1] = { payload };
	PGresult *res = PQexecPrepared(d->conn, "bus_notify", 1, params, NULL, NULL, 0);
	int r = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;

	if (r < 0)
		db_err_result(err, errlen, "notifying", d->conn, res);
	PQclear(res);
	return r;
}

static int notify_word(db *d, char kind, int64_t mailbox_id, char *err, size_t errlen)
{
	char payload[32];

	snprintf(payload, sizeof(payload), "%c%lld", kind, (long long)mailbox_id);
	return db_notify(d, payload, err, errlen);
}

int db_notify_changed(db *d, int64_t mailbox_id, char *err, size_t errlen)
{
	return notify_word(d, 'c', mailbox_id, err, errlen);
}

int db_notify_acl(db *d, int64_t mailbox_id, char *err, size_t errlen)
{
	return notify_word(d, 'a', mailbox_id, err, errlen);
}

int db_listen(db *d, char *err, size_t errlen)
{
	/* Named, so that pg_stat_activity tells an admin which connection
	 * is the bus's. */
	PGresult *res = PQexec(d->conn, "SET application_name = '" DB_BUS_LISTENER "';"
			       " LISTEN " DB_BUS_CHANNEL);
	int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;

	if (r < 0)
		db_err_result(err, errlen, "LISTEN", d->conn, res);
	PQclear(res);
	return r;
}

int db_socket(db *d)
{
	return PQsocket(d->conn);
}

int db_backend_pid(db *d)
{
	return PQbackendPID(d->conn);
}

int db_notifications(db *d, void (*fn)(void *ctx, int sender_pid, const char *payload),
		     void *ctx)
{
	PGnotify *n;

	if (PQconsumeInput(d->conn) == 0 || PQstatus(d->conn) != CONNECTION_OK)
		return -1;
	while ((n = PQnotifies(d->conn)) != NULL) {
		if (strcmp(n->relname, DB_BUS_CHANNEL) == 0)
			fn(ctx, n->be_pid, n->extra);
		PQfreemem(n);
	}
	return 0;
}

int db_mailbox_modseqs(db *d, const int64_t *ids, size_t n, const struct db_bus_reader *readers,
		       size_t nreaders,
		       void (*fn)(void *ctx, int64_t id, int64_t account, uint64_t modseq), void *ctx,
		       char *err, size_t errlen)
{
	int64_t *m = xmalloc((nreaders + 1) * sizeof(*m)), *a = xmalloc((nreaders + 1) * sizeof(*a));
	struct buf arrays[3];
	const char *params[3];
	PGresult *res;
	int r = 0;

	for (size_t i = 0; i < nreaders; i++) {
		m[i] = readers[i].mailbox_id;
		a[i] = readers[i].account_id;
	}
	for (size_t i = 0; i < 3; i++)
		buf_init(&arrays[i]);
	db_id_array(&arrays[0], ids, n);
	db_id_array(&arrays[1], m, nreaders);
	db_id_array(&arrays[2], a, nreaders);
	for (size_t i = 0; i < 3; i++)
		params[i] = (const char *)arrays[i].data;
	res = PQexecPrepared(d->conn, "bus_modseqs", 3, params, NULL, NULL, 0);
	for (size_t i = 0; i < 3; i++)
		buf_free(&arrays[i]);
	free(m);
	free(a);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading mailbox modseqs", d->conn, res);
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t id, account, modseq;
		if (db_get_int64(res, i, 0, &id) < 0 || db_get_int64(res, i, 1, &account) < 0 ||
		    db_get_int64(res, i, 2, &modseq) < 0) {
			db_errf(err, errlen, "reading mailbox modseqs: unexpected result");
			r = -1;
			break;
		}
		fn(ctx, id, account, (uint64_t)modseq);
	}
	PQclear(res);
	return r;
}
