#include "server/imap/literal_sink.h"
#include "server/imap/session.h"
#include "server/core/log.h"
#include "server/core/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3502 §6: append-message = append-opts SP append-data, after the
 * mailbox, at the top level; the flag list and the date-time are a list
 * and a quoted string, so a top-level literal after the first argument
 * is a message. */
static bool literal_is_message(const char *command, size_t depth, size_t arg_index)
{
	return strcmp(command, "APPEND") == 0 && depth == 0 && arg_index >= 1;
}

static enum imap_literal_place sink_place(void *ctx, const char *command, size_t depth,
					  size_t arg_index, uint64_t len, struct spool **spool_r)
{
	struct imap_session *s = ctx;
	struct imap_spool_list *l = &s->spools;
	uint64_t threshold = (uint64_t)s->cfg->literal_spool_threshold;
	struct spool *spool;

	/* A CATENATE TEXT part (RFC 4469, in APPEND's list): part of a
	 * message, held in memory as catenate.c builds the message there,
	 * within the command's cap (max_command_literal_bytes). */
	if (strcmp(command, "APPEND") == 0 && depth == 1)
		return IMAP_LITERAL_ARENA;
	if (!literal_is_message(command, depth, arg_index))
		return len <= threshold ? IMAP_LITERAL_ARENA : IMAP_LITERAL_REFUSE;
	if (len < threshold)
		return IMAP_LITERAL_ARENA;
	if ((spool = spool_new(s->cfg->literal_spool_dir)) == NULL) {
		log_error("%s: cannot make a spool file in %s: %s", s->peer,
			  s->cfg->literal_spool_dir, strerror(errno));
		return IMAP_LITERAL_UNAVAILABLE;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n++] = spool;
	*spool_r = spool;
	return IMAP_LITERAL_SPOOL;
}

static void sink_write(void *ctx, struct spool *spool, const void *data, size_t len)
{
	(void)ctx;
	spool_write(spool, data, len);
}

void imap_literal_sink_init(struct imap_session *s)
{
	const struct imap_literal_sink sink = { .ctx = s, .place = sink_place, .write = sink_write };

	imap_parser_set_sink(s->parser, &sink);
}

void imap_literal_sink_release(struct imap_session *s)
{
	for (size_t i = 0; i < s->spools.n; i++)
		spool_free(&s->spools.items[i]);
	s->spools.n = 0;
}

void imap_literal_sink_deinit(struct imap_session *s)
{
	imap_literal_sink_release(s);
	free(s->spools.items);
	s->spools.items = NULL;
	s->spools.cap = 0;
}
