/* Delivery without the protocol: who an address is, and storing a message
 * for its recipients. LMTP's jobs (deliver.c) and `kairanctl deliver`
 * (server/ctl/ctl_deliver.c) both call these, so a message piped in by an
 * MTA is delivered exactly as one sent over LMTP. They run where the
 * database and the directory may be waited for: on a worker, or in
 * kairanctl. */
#ifndef KAIRAN_LMTP_DELIVERY_H
#define KAIRAN_LMTP_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/config.h"
#include "server/imap/session.h"
#include "schema/db_message.h"

/* A text line of the message (LMTP's DATA, kairanctl deliver's input).
 * RFC 5321 asks for 1000 octets; real mail (HTML on one line) exceeds
 * that, so be generous, but bounded. */
#define LMTP_TEXT_LINE_MAX (1024 * 1024)

struct lmtp_rcpt {
	char *address;          /* the forward-path, without <> */
	char *folder;           /* the +detail, NULL: INBOX */
	char *team;             /* a team address: the shared account's login; NULL: a person */
	int64_t account_id;
	int64_t mailbox_id;     /* after delivery: where it went (0: nowhere) */
};

/* Frees r's strings and zeroes it. */
void lmtp_rcpt_clear(struct lmtp_rcpt *r);

enum lmtp_found {
	LMTP_FOUND,
	LMTP_NOT_FOUND,          /* 550 5.1.1, EX_NOUSER */
	LMTP_DIRECTORY_DOWN,     /* 451 4.4.3, EX_TEMPFAIL */
	LMTP_DATABASE_DOWN,      /* 451 4.3.0, EX_TEMPFAIL */
};

/* recipient.c: which account receives mail for r->address (malloc'ed, set
 * by the caller): sets account_id, folder and team when LMTP_FOUND; leaves
 * them 0/NULL otherwise. Logs what it cannot do. */
enum lmtp_found lmtp_recipient_find(const struct config *cfg, struct imap_backend *be,
				    struct lmtp_rcpt *r);

/* What became of one recipient of a delivery. */
enum lmtp_outcome {
	LMTP_DELIVERED,          /* stored, or stored before (a duplicate): 250 */
	LMTP_TEMPFAIL,           /* logged: 451 4.3.0, EX_TEMPFAIL */
	/* its quota root does not take the message (RFC 9208): 552 5.2.2,
	 * or 452 4.2.2 with lmtp_quota_defer; EX_CANTCREAT or EX_TEMPFAIL */
	LMTP_OVER_QUOTA,
};

/* delivery.c: one MIME parse of m (raw and raw_len, or raw_spool, set by
 * the caller; internaldate is set here); each recipient's quota root
 * checked (server/imap/quota.h); then one transaction for the n
 * recipients that fit (schema/db_deliver.h: one stored copy, mailboxes
 * locked in a fixed order, duplicates within lmtp_duplicate_window
 * acknowledged and not stored). outcome_r[i] says what became of recipient
 * i; rcpts[i].mailbox_id is set for the stored ones. */
void lmtp_deliver_message(const struct config *cfg, struct imap_backend *be,
			  struct db_append_msg *m, struct lmtp_rcpt *rcpts, size_t n,
			  enum lmtp_outcome *outcome_r);

#endif
