/* RFC 9208 quotas as kairand enforces them (docs/protocol.md, "QUOTA").
 *
 * A quota root is an owner account: all of a person's mailboxes, or the
 * whole "Shared/<name>" subtree of a shared account. Its usage is counted
 * by the store (migrations/0018); its limits are the account's own
 * (SETQUOTA, kairanctl quota set) or, for a person, kairan.conf's
 * defaults. Shared by IMAP (APPEND, COPY, MOVE) and LMTP delivery. */
#ifndef KAIRAN_IMAP_QUOTA_H
#define KAIRAN_IMAP_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "server/core/config.h"
#include "server/imap/result.h"
#include "schema/db_quota.h"

struct imap_session;
struct imap_backend;

/* The limit of resource r in force for the root: its own, else for a
 * person the default of cfg (0 there: none). -1: no limit. */
int64_t quota_limit(const struct db_quota *q, const struct config *cfg, enum db_quota_resource r);

/* The usage RFC 9208 reports for r: messages, or storage in units of 1024
 * octets, rounded up. */
uint64_t quota_usage(const struct db_quota *q, enum db_quota_resource r);

/* Whether adding messages of bytes octets in all would pass one of the
 * root's limits; *resource_r names the first such resource. */
bool quota_exceeded(const struct db_quota *q, const struct config *cfg, uint64_t bytes,
		    uint64_t messages, enum db_quota_resource *resource_r);

/* Reads owner_id's root and checks the addition: 1 it fits (or the
 * account is gone, which the store will answer), 0 it does not
 * (*resource_r), -1 the store failed (err). One round trip. */
int quota_fits(db *d, const struct config *cfg, int64_t owner_id, uint64_t bytes,
	       uint64_t messages, enum db_quota_resource *resource_r, char *err, size_t errlen);

/* The IMAP side of quota_fits: true when it fits; false with NO
 * [OVERQUOTA] (RFC 9208 §4.3) or NO [UNAVAILABLE] in *res_r. */
bool imap_quota_check(struct imap_session *s, struct imap_backend *be, int64_t owner_id,
		      uint64_t bytes, uint64_t messages, struct imap_result *res_r);

/* The value of ldap_quota_attribute: a number (the STORAGE limit in KiB)
 * or "storage=N" and "messages=N", separated by spaces. 0 with limits_r
 * (-1: not given), -1 when it is none of these. */
int quota_directory_parse(const char *text, int64_t limits_r[DB_QUOTA_NRESOURCES]);

/* At login, with ldap_quota_attribute set: reads it from the person's
 * entry (dn) and stores the limits (db_quota_set_directory). A failure is
 * logged, never refused: the limits stored at the last login stay. */
void imap_quota_from_directory(struct imap_session *s, struct imap_backend *be,
			       int64_t account_id, const char *dn);

/* NO [OVERQUOTA] naming the resource. */
struct imap_result imap_quota_refused(struct imap_session *s, enum db_quota_resource over);

#endif
