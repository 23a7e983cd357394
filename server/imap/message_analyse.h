/* The one MIME analysis of a message before it is stored (APPEND,
 * LMTP delivery). */
#ifndef KAIRAN_IMAP_MESSAGE_ANALYSE_H
#define KAIRAN_IMAP_MESSAGE_ANALYSE_H

#include "server/core/arena.h"
#include "schema/db_message.h"

/* Parses m->raw (m->raw_len bytes) once and fills m's precomputed fields
 * (envelope, body, bodystructure, parts, search fields and text, sent
 * date), all allocated in a; the parse's own memory is released before
 * returning. m->raw must outlive what the store does with m.
 *
 * A message in a spool (m->raw_spool) is mapped for the parse only, so
 * its pages leave the process's memory as soon as it is done, and m->raw
 * is NULL again after it. 0, or -1 (errno set) when the spool cannot be
 * read (a write to it failed, or it cannot be mapped); then nothing is
 * filled. */
int imap_message_analyse(struct arena *a, struct db_append_msg *m);

#endif
