/* RFC 8474 object identifiers: how Kairan names mailboxes and message
 * contents to clients (docs/protocol.md, "OBJECTID"). Pure: no I/O.
 *
 *   MAILBOXID  "M" <mailboxes.id> "V" <UIDVALIDITY>, e.g. M42V1765104000.
 *              The row survives RENAME and keeps its UIDVALIDITY, so the
 *              id does too (§4); a mailbox DELETEd and CREATEd again, even
 *              a \Noselect placeholder revived in place (same row), gets a
 *              new UIDVALIDITY from the global sequence, so its id is new
 *              and none is ever reused. RENAME INBOX moves the messages to
 *              a new row: the new mailbox has a new id, INBOX keeps its.
 *   EMAILID    "E" <messages.id>, e.g. E1027. The content is stored once
 *              (keyed by its SHA-256) however many mailboxes hold it, so
 *              COPY, MOVE and RENAME keep it, and two APPENDs of identical
 *              bytes get the same id, which §5.1 allows.
 *   THREADID   NIL: Kairan does not thread (§5.2), and SEARCH THREADID
 *              matches nothing.
 *
 * A leading letter keeps every id from looking like a number or NIL
 * (§8.1), and the two spaces can never meet. */
#ifndef KAIRAN_IMAP_OBJECTID_H
#define KAIRAN_IMAP_OBJECTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* objectid = 1*255(ALPHA / DIGIT / "_" / "-") (§7) */
#define IMAP_OBJECTID_MAX 255
/* Room for any id Kairan makes, with its NUL. */
#define IMAP_OBJECTID_BUF 48

bool imap_objectid_valid(const char *s, size_t len);
/* Formats into buf (IMAP_OBJECTID_BUF bytes) and returns it. */
const char *imap_mailboxid(char *buf, int64_t mailbox_id, uint32_t uidvalidity);
const char *imap_emailid(char *buf, int64_t message_id);
/* The messages.id an EMAILID names; false when s is no id Kairan made
 * (then no message has it). */
bool imap_emailid_parse(const char *s, size_t len, int64_t *message_id_r);

#endif
