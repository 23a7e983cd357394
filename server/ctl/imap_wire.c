/* The client side of IMAP for kairanctl import (server/ctl/imap_wire.h). */
#include "server/ctl/imap_wire.h"
#include "server/ctl/import_source.h"
#include "server/core/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* More bytes from the server into w->in. */
static int fill(struct imap_wire *w, char *err, size_t errlen)
{
	ssize_t n;

	if (w->in_pos > 0 && w->in_pos == w->in.len) {
		w->in.len = 0;
		w->in_pos = 0;
	} else if (w->in_pos > 65536) {
		buf_consume(&w->in, w->in_pos);
		w->in_pos = 0;
	}
	buf_reserve(&w->in, 65536);
	n = net_client_read(w->c, w->in.data + w->in.len, 65536, err, errlen);
	if (n == 0)
		return imp_err(err, errlen, "%s closed the connection", w->peer);
	if (n < 0)
		return -1;
	w->in.len += (size_t)n;
	return 0;
}

/* Appends one line (without CRLF) to w->resp; *len_r its length. */
static int read_line(struct imap_wire *w, size_t *len_r, char *err, size_t errlen)
{
	for (;;) {
		const char *start = (const char *)w->in.data + w->in_pos;
		size_t avail = w->in.len - w->in_pos;
		const char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;

		if (nl != NULL && (size_t)(nl - start) <= IMAP_WIRE_LINE_MAX) {
			size_t len = (size_t)(nl - start);
			size_t take = len > 0 && start[len - 1] == '\r' ? len - 1 : len;
			buf_append(&w->resp, start, take);
			w->in_pos += len + 1;
			*len_r = take;
			return 0;
		}
		if (nl != NULL || avail > IMAP_WIRE_LINE_MAX)
			return imp_err(err, errlen, "%s sent a line longer than %d bytes", w->peer,
				       IMAP_WIRE_LINE_MAX);
		if (fill(w, err, errlen) < 0)
			return -1;
	}
}

/* The literal a line ends with ("{123}", "~{123}"), or -1 if none. */
static int64_t literal_size(const char *line, size_t len)
{
	size_t i;
	int64_t n = 0;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	for (i = len - 1; i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9'; i--)
		;
	if (i == 0 || i == len - 1 || line[i - 1] != '{' || len - 1 - i > 12)
		return -1;
	for (size_t k = i; k < len - 1; k++)
		n = n * 10 + (line[k] - '0');
	return n;
}

int imap_wire_response(struct imap_wire *w, char *err, size_t errlen)
{
	buf_clear(&w->resp);
	for (;;) {
		size_t before = w->resp.len, len = 0;
		int64_t lit;

		if (read_line(w, &len, err, errlen) < 0)
			return -1;
		lit = literal_size((const char *)w->resp.data + before, len);
		if (lit < 0) {
			/* NUL-terminated too, for the status lines read as text
			 * (a literal may hold NULs: those are read by length). */
			buf_append(&w->resp, "", 1);
			w->resp.len--;
			return 0;
		}
		if ((uint64_t)lit > w->literal_max || w->resp.len + (size_t)lit > 2 * w->literal_max)
			return imp_err(err, errlen, "%s announced a literal of %lld bytes, more than"
				       " max_literal_size", w->peer, (long long)lit);
		/* The literal follows, CRLF kept, so the tokenizer finds it
		 * where "{n}" says. */
		buf_append(&w->resp, "\r\n", 2);
		while (w->in.len - w->in_pos < (size_t)lit)
			if (fill(w, err, errlen) < 0)
				return -1;
		buf_append(&w->resp, w->in.data + w->in_pos, (size_t)lit);
		w->in_pos += (size_t)lit;
	}
}

static int finish(struct imap_wire *w, const char *tag, const char *what,
		  void (*untagged)(void *ctx, struct imap_wire *w), void *ctx,
		  char *err, size_t errlen)
{
	size_t taglen = strlen(tag);

	for (;;) {
		const char *r;

		if (imap_wire_response(w, err, errlen) < 0)
			return -1;
		r = buf_at(&w->resp, 0);
		if (w->resp.len > taglen && strncmp(r, tag, taglen) == 0 && r[taglen] == ' ') {
			if (w->resp.len >= taglen + 3 && strncasecmp(r + taglen + 1, "OK", 2) == 0)
				return 0;
			return imp_err(err, errlen, "%s answered %s: %.*s", w->peer, what,
				       (int)(w->resp.len - taglen - 1 > 300 ? 300
				       : w->resp.len - taglen - 1), r + taglen + 1);
		}
		if (r[0] == '*' && untagged != NULL)
			untagged(ctx, w);
		else if (r[0] == '+')
			return imp_err(err, errlen, "%s asked for more after %s", w->peer, what);
	}
}

int imap_wire_command(struct imap_wire *w, const char *text,
		      void (*untagged)(void *ctx, struct imap_wire *w), void *ctx,
		      char *err, size_t errlen)
{
	char tag[16];
	struct buf out;
	int r;

	snprintf(tag, sizeof(tag), "k%u", ++w->tag);
	buf_init(&out);
	buf_appendf(&out, "%s %s\r\n", tag, text);
	r = net_client_write(w->c, out.data, out.len, err, errlen);
	buf_free(&out);
	if (r < 0)
		return -1;
	{
		/* The command's name ("UID FETCH"), not its arguments. */
		size_t len = strcspn(text, " ");
		char what[32];

		if (strncasecmp(text, "UID ", 4) == 0)
			len = 4 + strcspn(text + 4, " ");
		snprintf(what, sizeof(what), "%.*s", (int)len, text);
		return finish(w, tag, what, untagged, ctx, err, errlen);
	}
}

int imap_wire_command_literal(struct imap_wire *w, const char *prefix, const char *value,
			      const char *suffix, char *err, size_t errlen)
{
	char tag[16];
	struct buf out;
	int r;

	snprintf(tag, sizeof(tag), "k%u", ++w->tag);
	buf_init(&out);
	buf_appendf(&out, "%s %s {%zu}\r\n", tag, prefix, strlen(value));
	r = net_client_write(w->c, out.data, out.len, err, errlen);
	buf_clear(&out);
	if (r == 0 && (r = imap_wire_response(w, err, errlen)) == 0 &&
	    (w->resp.len == 0 || w->resp.data[0] != '+'))
		r = imp_err(err, errlen, "%s refused %s: %.*s", w->peer, prefix,
			    (int)(w->resp.len > 300 ? 300 : w->resp.len), buf_at(&w->resp, 0));
	if (r == 0) {
		buf_appendf(&out, "%s%s\r\n", value, suffix);
		r = net_client_write(w->c, out.data, out.len, err, errlen);
	}
	buf_free(&out);
	return r < 0 ? -1 : finish(w, tag, "LOGIN", NULL, NULL, err, errlen);
}
