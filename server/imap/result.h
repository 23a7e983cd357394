/* A command's outcome. Handlers build it with the constructors below and
 * return it; the one boundary (dispatch.c, imap_session_execute) writes it
 * as the tagged response and logs it. No handler writes a tagged response.
 *
 * The strings are static or in the command arena: a result lives until
 * the command's memory is released (imap_session_command_done). */
#ifndef KAIRAN_IMAP_RESULT_H
#define KAIRAN_IMAP_RESULT_H

#include <stdbool.h>

struct imap_session;

enum imap_status {
	IMAP_RESULT_OK,
	IMAP_RESULT_NO,
	IMAP_RESULT_BAD,
	/* The command goes on after its handler (IDLE): no tagged response
	 * yet; it is written when the command ends (cmd_idle.c). */
	IMAP_RESULT_CONTINUE,
};

struct imap_result {
	enum imap_status status;
	const char *code;    /* RFC 5530 code and its arguments, no brackets; NULL: none */
	const char *text;    /* human-readable; never contains CR or LF */
	const char *detail;  /* for the log only (a store error); never sent; may be NULL */
};

/* A result with its text formatted into the command arena. */
struct imap_result imap_result_make(struct imap_session *s, enum imap_status status,
				    const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define imap_ok(s, code, ...)  imap_result_make((s), IMAP_RESULT_OK, (code), __VA_ARGS__)
#define imap_no(s, code, ...)  imap_result_make((s), IMAP_RESULT_NO, (code), __VA_ARGS__)
#define imap_bad(s, code, ...) imap_result_make((s), IMAP_RESULT_BAD, (code), __VA_ARGS__)
/* OK "<COMMAND> completed", the usual success. */
struct imap_result imap_done(struct imap_session *s);
/* The command continues: IMAP_RESULT_CONTINUE. */
struct imap_result imap_continues(void);
/* NO [UNAVAILABLE]: PostgreSQL failed doing `what`; err says why, in the log. */
struct imap_result imap_store_failed(struct imap_session *s, const char *what, const char *err);
/* NO [UNAVAILABLE]: the directory failed doing `what`. */
struct imap_result imap_directory_failed(struct imap_session *s, const char *what, const char *err);

static inline bool imap_result_ok(const struct imap_result *r)
{
	return r->status == IMAP_RESULT_OK;
}

#endif
