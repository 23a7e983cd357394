/* The session's literal sink (parser.h, imap_literal_sink): which literals
 * are messages, and where their bytes go. A message literal (APPEND's,
 * CATENATE's later) of at least literal_spool_threshold bytes goes to a
 * spool file (server/core/spool.h) in literal_spool_dir; any other literal
 * is held in the command's arena and may not be bigger than that
 * threshold, so that no command holds more than about max_literals x
 * threshold bytes of memory. docs/architecture.md, "Big messages". */
#ifndef KAIRAN_IMAP_LITERAL_SINK_H
#define KAIRAN_IMAP_LITERAL_SINK_H

struct imap_session;

/* Gives the session's parser its sink; s->cfg must be set. */
void imap_literal_sink_init(struct imap_session *s);
/* Closes the spools of the command that has ended or was abandoned. */
void imap_literal_sink_release(struct imap_session *s);
/* At the session's end. */
void imap_literal_sink_deinit(struct imap_session *s);

#endif
