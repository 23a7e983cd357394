/* UNAUTHENTICATE (RFC 8437): the session goes back to the not-authenticated
 * state, so that the connection can log in again, as anyone. Everything
 * the login gave it goes (§3, §4.1): the user, its groups and admin flag,
 * its per-user connection slot (max_connections_per_user counts one less
 * at once), the selected mailbox (closed without expunging, with its
 * SEARCHRES result), and what ENABLE turned on (CONDSTORE, QRESYNC,
 * IMAP4rev2, UTF8=ACCEPT), and a protocol trace started for the user (client.c). What
 * belongs to the connection stays: TLS, the peer's authentication
 * failures and the count of bad commands. The parser limits and the idle
 * timeout become the pre-login ones again (imap_session_set_state).
 *
 * COMPRESS ends too (§4.1): the client compresses nothing after the CRLF
 * of its command, we nothing after the CRLF of our OK, which is followed
 * by the final block of our stream (server/client.c,
 * client_stop_compression). A client that ends its stream with a final
 * block may send plain bytes right after it (they wait, unread, until the
 * OK is out); one that just stops after a flush must wait for the OK, as
 * nothing else says where its compressed bytes end. It may then log in
 * and COMPRESS again. */
#include "server/imap/commands.h"
#include "server/imap/notify.h"
#include "server/imap/user_slots.h"
#include "server/core/log.h"
#include "directory/dir.h"

#include <stdlib.h>

bool imap_unauthenticate_offered(const struct imap_session *s)
{
	return s->cfg->allow_unauthenticate;
}

struct imap_result cmd_unauthenticate(struct imap_session *s, const struct imap_command *cmd,
				      struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	if (!s->cfg->allow_unauthenticate)
		return imap_bad(s, NULL, "UNAUTHENTICATE is disabled");
	if (s->compress_active) {
		s->after = IMAP_AFTER_UNCOMPRESS;
		s->compress_active = false;   /* before the limits are set again */
	}
	imap_session_unselect(s);
	imap_notify_free(&s->notify);
	if (s->holds_user_slot)
		imap_user_slot_release(s->user_slots, s->user);
	s->holds_user_slot = false;
	log_info("%s: user %s logged out of the session (UNAUTHENTICATE)", s->peer, s->user);
	free(s->user);
	free(s->user_dn);
	s->user = s->user_dn = NULL;
	dir_groups_free(&s->groups);
	s->ngroups = 0;
	s->groups_gen++;
	s->admin = false;
	s->account_id = 0;
	s->condstore = s->qresync = s->imap4rev2 = s->utf8_accept = false;
	imap_session_set_state(s, IMAP_STATE_NOT_AUTH);
	s->unauthenticated = true;
	/* The capabilities change back, as at login (RFC 3501 §7.1). */
	return imap_ok(s, imap_capability_code(s), "UNAUTHENTICATE completed");
}
