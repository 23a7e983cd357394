/* The resources kairanctl's commands share (server/ctl/ctl.h). */
#include "server/ctl/ctl.h"
#include "schema/db_admin.h"
#include "server/core/buf.h"
#include "server/dir_settings.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

enum ctl_status ctl_db(struct ctl *ctl, db **db_r, char *err, size_t errlen)
{
	char reason[CTL_ERR_MAX];

	if (ctl->db == NULL && db_open(ctl->dsn, &ctl->db, reason, sizeof(reason)) < 0)
		return ctl_err(CTL_FAILED, err, errlen, "cannot use the database: %s", reason);
	*db_r = ctl->db;
	return CTL_OK;
}

enum ctl_status ctl_dir(struct ctl *ctl, dir **dir_r, char *err, size_t errlen)
{
	struct dir_config dc;
	char reason[CTL_ERR_MAX];

	if (ctl->dir == NULL) {
		/* The same check kairand makes at start-up: a config without
		 * usable ldap_* keys is refused here, once, not at the first
		 * look-up with a less helpful message. */
		server_dir_config(ctl->cfg, &dc);
		if (dir_check_config(&dc, reason, sizeof(reason)) < 0)
			return ctl_err(CTL_FAILED, err, errlen,
				       "this command needs the directory: LDAP configuration: %s",
				       reason);
		/* libldap writes with write(2): a directory that closes the
		 * connection must not kill us with SIGPIPE. */
		signal(SIGPIPE, SIG_IGN);
		if (dir_open(&dc, &ctl->dir) < 0)
			return ctl_err(CTL_FAILED, err, errlen, "out of memory");
	}
	*dir_r = ctl->dir;
	return CTL_OK;
}

void ctl_close(struct ctl *ctl)
{
	db_close(&ctl->db);
	dir_close(&ctl->dir);
	arena_free(&ctl->arena);
}

enum ctl_status ctl_tx_begin(db *d, char *err, size_t errlen)
{
	return db_admin_tx(d, DB_TX_BEGIN, err, errlen) == DB_OK ? CTL_OK : CTL_FAILED;
}

enum ctl_status ctl_tx_end(db *d, enum ctl_status status, char *err, size_t errlen)
{
	if (status != CTL_OK) {
		/* The reason is the failure's; a failing ROLLBACK (connection
		 * gone) rolls back anyway. */
		(void)db_admin_tx(d, DB_TX_ROLLBACK, NULL, 0);
		return status;
	}
	return db_admin_tx(d, DB_TX_COMMIT, err, errlen) == DB_OK ? CTL_OK : CTL_FAILED;
}

int ctl_report(enum ctl_status status, const char *err)
{
	if (status != CTL_OK)
		fprintf(stderr, "kairanctl: %s\n", err);
	return (int)status;
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("kairanctl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

char *ctl_strf(struct arena *a, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *s;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vappendf(&b, fmt, ap);
	va_end(ap);
	s = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return s;
}

enum ctl_status ctl_err(enum ctl_status status, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}
