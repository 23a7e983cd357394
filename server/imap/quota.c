#include "server/imap/quota.h"
#include "server/imap/session.h"
#include "server/core/log.h"
#include "directory/dir.h"

#include <string.h>
#include <strings.h>

int64_t quota_limit(const struct db_quota *q, const struct config *cfg, enum db_quota_resource r)
{
	long def;

	if (q->limit[r] >= 0)
		return q->limit[r];
	if (q->limit[r] == DB_QUOTA_NONE || q->shared)
		return -1;
	def = r == DB_QUOTA_STORAGE ? cfg->quota_storage_default : cfg->quota_messages_default;
	return def > 0 ? def : -1;
}

uint64_t quota_usage(const struct db_quota *q, enum db_quota_resource r)
{
	if (r == DB_QUOTA_MESSAGE)
		return q->messages;
	return q->bytes / 1024 + (q->bytes % 1024 != 0);
}

bool quota_exceeded(const struct db_quota *q, const struct config *cfg, uint64_t bytes,
		    uint64_t messages, enum db_quota_resource *resource_r)
{
	int64_t storage = quota_limit(q, cfg, DB_QUOTA_STORAGE);
	int64_t count = quota_limit(q, cfg, DB_QUOTA_MESSAGE);

	/* The limit is in KiB; the usage is compared in octets, so that a
	 * root at 9.5 of 10 KiB still takes a 400-octet message. */
	if (storage >= 0 && q->bytes + bytes > (uint64_t)storage * 1024) {
		*resource_r = DB_QUOTA_STORAGE;
		return true;
	}
	if (count >= 0 && q->messages + messages > (uint64_t)count) {
		*resource_r = DB_QUOTA_MESSAGE;
		return true;
	}
	return false;
}

int quota_fits(db *d, const struct config *cfg, int64_t owner_id, uint64_t bytes,
	       uint64_t messages, enum db_quota_resource *resource_r, char *err, size_t errlen)
{
	struct db_quota q;

	switch (db_quota_get(d, owner_id, &q, err, errlen)) {
	case DB_OK:
		return quota_exceeded(&q, cfg, bytes, messages, resource_r) ? 0 : 1;
	case DB_NOT_FOUND:
		return 1;
	default:
		return -1;
	}
}

bool imap_quota_check(struct imap_session *s, struct imap_backend *be, int64_t owner_id,
		      uint64_t bytes, uint64_t messages, struct imap_result *res_r)
{
	enum db_quota_resource over;
	char err[256];

	switch (quota_fits(be->db, s->cfg, owner_id, bytes, messages, &over, err, sizeof(err))) {
	case 1:
		return true;
	case 0:
		*res_r = imap_quota_refused(s, over);
		return false;
	default:
		*res_r = imap_store_failed(s, "reading the quota", err);
		return false;
	}
}

struct imap_result imap_quota_refused(struct imap_session *s, enum db_quota_resource over)
{
	return imap_no(s, "OVERQUOTA", "Quota exceeded (%s)", db_quota_resource_name(over));
}

/* One "N" of up to 2^40: larger is a typo, not a quota. */
static bool parse_count(const char *s, size_t len, int64_t *v_r)
{
	int64_t v = 0;

	if (len == 0 || len > 13)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > (int64_t)1 << 40)
		return false;
	*v_r = v;
	return true;
}

int quota_directory_parse(const char *text, int64_t limits_r[DB_QUOTA_NRESOURCES])
{
	const char *p = text;

	for (int r = 0; r < DB_QUOTA_NRESOURCES; r++)
		limits_r[r] = -1;
	p += strspn(p, " ");
	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		const char *eq = memchr(p, '=', len);
		int r = DB_QUOTA_STORAGE;
		int64_t v;

		if (eq != NULL) {
			size_t nlen = (size_t)(eq - p);
			if (nlen == 7 && strncasecmp(p, "storage", 7) == 0)
				r = DB_QUOTA_STORAGE;
			else if (nlen == 8 && strncasecmp(p, "messages", 8) == 0)
				r = DB_QUOTA_MESSAGE;
			else
				return -1;
		}
		if (eq != NULL ? !parse_count(eq + 1, len - (size_t)(eq + 1 - p), &v) :
				 !parse_count(p, len, &v))
			return -1;
		limits_r[r] = v;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

void imap_quota_from_directory(struct imap_session *s, struct imap_backend *be,
			       int64_t account_id, const char *dn)
{
	int64_t limits[DB_QUOTA_NRESOURCES];
	char value[256], err[256];

	if (s->cfg->ldap_quota_attribute[0] == '\0')
		return;
	if (dir_user_attribute(be->dir, dn, s->cfg->ldap_quota_attribute, value, sizeof(value), err,
			       sizeof(err)) != DIR_OK) {
		log_warning("%s: reading %s of %s: %s", s->peer, s->cfg->ldap_quota_attribute, dn, err);
		return;
	}
	if (quota_directory_parse(value, limits) < 0) {
		log_warning("%s: %s of %s is not a quota (\"%s\"): ignored", s->peer,
			    s->cfg->ldap_quota_attribute, dn, value);
		for (int r = 0; r < DB_QUOTA_NRESOURCES; r++)
			limits[r] = -1;
	}
	if (db_quota_set_directory(be->db, account_id, limits, err, sizeof(err)) != DB_OK)
		log_warning("%s: storing the directory's quota of %s: %s", s->peer, dn, err);
}
