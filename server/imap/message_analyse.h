/* The one MIME analysis of a message before it is stored (APPEND,
 * LMTP delivery). */
#ifndef KAIRAN_IMAP_MESSAGE_ANALYSE_H
#define KAIRAN_IMAP_MESSAGE_ANALYSE_H

#include "server/core/arena.h"
#include "schema/db_message.h"

/* Parses m->raw (m->raw_len bytes) once and fills m's precomputed fields
 * (envelope, body, bodystructure, parts, search fields and text, sent
 * date), all allocated in a; the parse's own memory is released before
 * returning. m->raw must outlive what the store does with m. */
void imap_message_analyse(struct arena *a, struct db_append_msg *m);

#endif
