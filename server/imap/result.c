#include "server/imap/result.h"
#include "server/imap/session.h"

#include <stdarg.h>

struct imap_result imap_result_make(struct imap_session *s, enum imap_status status,
				    const char *code, const char *fmt, ...)
{
	struct imap_result r = { .status = status, .code = code };
	va_list ap;

	va_start(ap, fmt);
	r.text = arena_vprintf(&s->arena, fmt, ap);
	va_end(ap);
	return r;
}

struct imap_result imap_done(struct imap_session *s)
{
	return imap_ok(s, NULL, "%s completed", s->cmd->name);
}

struct imap_result imap_continues(void)
{
	return (struct imap_result){ .status = IMAP_RESULT_CONTINUE, .text = "" };
}

struct imap_result imap_store_failed(struct imap_session *s, const char *what, const char *err)
{
	return (struct imap_result){
		.status = IMAP_RESULT_NO,
		.code = "UNAVAILABLE",
		.text = "Mail store temporarily unavailable, try again later",
		.detail = arena_printf(&s->arena, "%s: %s", what, err),
	};
}

struct imap_result imap_directory_failed(struct imap_session *s, const char *what, const char *err)
{
	return (struct imap_result){
		.status = IMAP_RESULT_NO,
		.code = "UNAVAILABLE",
		.text = "Directory temporarily unavailable, try again later",
		.detail = arena_printf(&s->arena, "%s: %s", what, err),
	};
}
