/* Logging: one line per event to stderr, and to syslog when configured.
 * Thread-safe: each call writes its line with a single stdio call under the
 * stream lock, so lines from workers and the event loop never interleave.
 *
 * Two formats (log_format, docs/config.md): text, "TIME PROGRAM LEVEL: MSG
 * key=value...", for people; json, one object per line with the stable keys
 * ts, level, program and msg, then the line's fields, for log collectors.
 * Syslog always gets the text form of the message and fields. */
#ifndef KAIRAN_CORE_LOG_H
#define KAIRAN_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* ident names the program ("kairand"); use_syslog also sends every line to
 * syslog(3) under the mail facility. Call once, before threads start. */
void log_init(const char *ident, bool use_syslog);
/* Lines above level are dropped (the default is info). Before threads
 * start, or from one thread while the others only log. */
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
/* The config's names: "error", "warn" (or "warning"), "info", "debug";
 * "text", "json". 0, or -1 for any other name. */
int log_level_parse(const char *name, enum log_level *level_r);
int log_format_parse(const char *name, enum log_format *format_r);
/* The two settings from their config names (log_level, log_format),
 * checked together so that a reload can refuse both before it applies
 * either: log_settings_parse is 0, or -1 with a one-line reason in err;
 * log_settings_apply puts them in force at once, for every thread. */
struct log_settings {
	enum log_level level;
	enum log_format format;
};
int log_settings_parse(const char *level, const char *format, struct log_settings *r,
		       char *err, size_t errlen);
void log_settings_apply(const struct log_settings *settings);
/* Whether a line of this level would be written: lets a caller skip the
 * work of preparing a debug line nobody reads. */
bool log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A named value of a structured line. key is a stable lower-case name
 * (never ts, level, program or msg); the value is text (str, len bytes,
 * which may be anything: they are escaped) or, with str NULL, a number. */
struct log_field {
	const char *key;
	const char *str;
	size_t len;
	long long num;
};

static inline struct log_field log_str(const char *key, const char *value)
{
	return (struct log_field){ .key = key, .str = value, .len = strlen(value) };
}

static inline struct log_field log_num(const char *key, long long value)
{
	return (struct log_field){ .key = key, .num = value };
}

/* One line: msg (a constant naming the event, such as "session end"),
 * then the fields. Text: "msg: key=value key="a value"", a value quoted
 * when it holds anything but printable ASCII without spaces, '"', '\' or
 * '=', and every byte outside printable ASCII written as \xHH. */
void log_fields(enum log_level level, const char *msg, const struct log_field *fields,
		size_t nfields);

/* Copies len bytes of untrusted data (a login name) into out for a log line,
 * with every byte outside printable ASCII written as \xHH and the result
 * truncated to fit. */
void log_escape(const char *data, size_t len, char *out, size_t outsize);

#endif
