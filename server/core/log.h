/* Logging: one line per event to stderr, and to syslog when configured.
 * Thread-safe: each call writes its line with a single stdio call under the
 * stream lock, so lines from workers and the event loop never interleave. */
#ifndef KAIRAN_CORE_LOG_H
#define KAIRAN_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* ident names the program ("kairand"); use_syslog also sends every line to
 * syslog(3) under the mail facility. Call once, before threads start. */
void log_init(const char *ident, bool use_syslog);
void log_set_level(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies len bytes of untrusted data (a login name) into out for a log line,
 * with every byte outside printable ASCII written as \xHH and the result
 * truncated to fit. */
void log_escape(const char *data, size_t len, char *out, size_t outsize);

#endif
