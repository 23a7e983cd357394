/* The protocol trace of one session, for an admin who needs to see what a
 * client asks and what it is told (Dovecot's rawlog), with the secrets
 * left out: LOGIN's password and every literal of LOGIN, AUTHENTICATE's
 * initial response (SASL-IR) and its response lines are never written.
 * Bounded: a literal over TRACE_LITERAL_SHOWN bytes (APPEND's message, a
 * FETCHed body) is written as "{N bytes}", and a line over TRACE_LINE_MAX
 * is cut, saying how much was left out.
 *
 * Who is traced (trace_users, trace_addresses, kairanctl trace) is
 * decided by the connection glue (server/client.c); a session that is
 * not traced has no trace and pays nothing.  All functions run in the
 * event loop's thread, which owns the session's input and output.
 *
 * Each line is "TIME C: ..." (the client) or "TIME S: ..." (the server),
 * or "TIME *: ..." for a note of the tracer's own; bytes outside printable
 * ASCII appear as \xHH; within a shown literal, CR and LF are \r and \n
 * and a backslash is doubled (elsewhere it is IMAP's own: \Seen). */
#ifndef KAIRAN_IMAP_TRACE_H
#define KAIRAN_IMAP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/imap/parser.h"

#define TRACE_LINE_MAX 4096
#define TRACE_LITERAL_SHOWN 256

struct imap_trace;

/* Starts a trace of the session with peer ("192.0.2.1:5555"), user NULL
 * before login. dir "": the lines go to the log (level info); otherwise
 * to a new file in dir, named after the user (or the address) and the
 * time, created 0600 and never over an existing file. NULL (with one
 * warning in the log) when that file cannot be created. */
struct imap_trace *imap_trace_open(const char *dir, const char *peer, const char *user);
void imap_trace_close(struct imap_trace **tp);

/* A note of the tracer's own ("*: ..."), such as why the trace started. */
void imap_trace_note(struct imap_trace *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The session logged in as user: noted once, and named in the log's
 * trace lines from now on. */
void imap_trace_login(struct imap_trace *t, const char *user);
/* A complete command as the parser read it, secrets redacted. */
void imap_trace_command(struct imap_trace *t, const struct imap_command *cmd);
/* A client line read raw: AUTHENTICATE's response (redacted but for a
 * cancelling "*") or what a client sent to end IDLE. */
void imap_trace_sasl_line(struct imap_trace *t, const uint8_t *line, size_t len);
void imap_trace_client_line(struct imap_trace *t, const uint8_t *line, size_t len);
/* A line that did not parse: only the reason is written, since the
 * parser could not tell whether it held a password. */
void imap_trace_bad_input(struct imap_trace *t, const char *why);
/* Bytes the server sends, in any split; lines are written as they end. */
void imap_trace_output(struct imap_trace *t, const uint8_t *data, size_t len);

/* Whether name is one of the comma- or space-separated entries of list
 * (trace_users, trace_addresses). Exact: logins are canonical by then,
 * addresses as inet_ntop writes them. */
bool imap_trace_listed(const char *list, const char *name);

#endif
