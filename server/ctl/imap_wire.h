/* The client side of IMAP for kairanctl import: commands out, responses
 * in, with the server's literals read into the response, and a tokenizer
 * over a response. Blocking (server/net/client.h), bounded: a line longer
 * than IMAP_WIRE_LINE_MAX, a literal larger than the caller's limit, or a
 * response larger than twice it is an error that ends the import, never
 * an allocation the server chose. */
#ifndef KAIRAN_CTL_IMAP_WIRE_H
#define KAIRAN_CTL_IMAP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/buf.h"
#include "server/ctl/imap_tokens.h"
#include "server/net/client.h"

#define IMAP_WIRE_LINE_MAX 65536

struct imap_wire {
	struct net_client *c;
	struct buf in;            /* read, not yet consumed (from in_pos) */
	size_t in_pos;
	struct buf resp;          /* the last response, literals inline */
	size_t literal_max;
	unsigned tag;
	const char *peer;         /* for messages: "HOST" */
};

/* Reads one response into w->resp (without its final CRLF, followed by a
 * NUL that resp.len does not count). 0, or -1 with err. */
int imap_wire_response(struct imap_wire *w, char *err, size_t errlen);

/* Sends "TAG text\r\n" (text must not hold CR or LF) and reads responses
 * until the tagged one, calling untagged for each other (may be NULL).
 * 0 when the server answered OK; -1 with err otherwise ("HOST: TEXT
 * answered NO [...]"). */
int imap_wire_command(struct imap_wire *w, const char *text,
		      void (*untagged)(void *ctx, struct imap_wire *w), void *ctx,
		      char *err, size_t errlen);

/* A command with one string argument sent as a synchronising literal
 * after prefix (LOGIN's password): "TAG prefix {n}" + ... */
int imap_wire_command_literal(struct imap_wire *w, const char *prefix, const char *value,
			      const char *suffix, char *err, size_t errlen);

#endif
