#include "server/core/log.h"
#include "server/core/buf.h"
#include "server/core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static const char *log_ident = "kairan";
static bool log_to_syslog;
static enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int level_priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void log_init(const char *ident, bool use_syslog)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* Relaxed atomics: a reload may change them while other threads log. */
void log_set_level(enum log_level level)
{
	__atomic_store_n(&log_threshold, level, __ATOMIC_RELAXED);
}

void log_set_format(enum log_format format)
{
	__atomic_store_n(&log_format, format, __ATOMIC_RELAXED);
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	if (strcasecmp(name, "warn") == 0) {
		*level_r = LOG_LEVEL_WARNING;
		return 0;
	}
	return -1;
}

int log_format_parse(const char *name, enum log_format *format_r)
{
	if (strcasecmp(name, "text") == 0)
		*format_r = LOG_FORMAT_TEXT;
	else if (strcasecmp(name, "json") == 0)
		*format_r = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

int log_settings_parse(const char *level, const char *format, struct log_settings *r,
		       char *err, size_t errlen)
{
	if (log_level_parse(level, &r->level) < 0) {
		snprintf(err, errlen, "log_level must be error, warn, info or debug, not '%s'", level);
		return -1;
	}
	if (log_format_parse(format, &r->format) < 0) {
		snprintf(err, errlen, "log_format must be text or json, not '%s'", format);
		return -1;
	}
	return 0;
}

void log_settings_apply(const struct log_settings *settings)
{
	log_set_level(settings->level);
	log_set_format(settings->format);
}

bool log_enabled(enum log_level level)
{
	return level <= __atomic_load_n(&log_threshold, __ATOMIC_RELAXED);
}

/* A value in the text format: bare when it cannot be misread, else quoted
 * with '"' and '\' escaped; bytes outside printable ASCII as \xHH. */
static void text_value(struct buf *out, const char *s, size_t len)
{
	bool bare = len > 0;

	for (size_t i = 0; i < len && bare; i++) {
		unsigned char c = (unsigned char)s[i];
		bare = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
	}
	if (bare) {
		buf_append(out, s, len);
		return;
	}
	buf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_appendf(out, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			buf_append(out, &c, 1);
		else
			buf_appendf(out, "\\x%02x", c);
	}
	buf_append(out, "\"", 1);
}

/* The fields after the message: " key=value" (text) or ",\"key\":value"
 * (json). */
static void put_fields(struct buf *out, const struct log_field *f, size_t n,
		       enum log_format format)
{
	for (size_t i = 0; i < n; i++) {
		buf_appendf(out, format == LOG_FORMAT_JSON ? ",\"%s\":" : " %s=", f[i].key);
		if (f[i].str == NULL)
			buf_appendf(out, "%lld", f[i].num);
		else if (format == LOG_FORMAT_JSON)
			json_append_string(out, f[i].str, f[i].len);
		else
			text_value(out, f[i].str, f[i].len);
	}
}

/* Writes one line: msg (already formatted), then the fields. */
static void log_emit(enum log_level level, const char *msg, const struct log_field *f, size_t n)
{
	struct buf line;
	char stamp[48];
	struct timespec now;
	struct tm tm;
	size_t msg_end;
	enum log_format format = __atomic_load_n(&log_format, __ATOMIC_RELAXED);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03ldZ",
		 now.tv_nsec / 1000000);
	buf_init(&line);
	if (format == LOG_FORMAT_JSON) {
		buf_appendf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"program\":", stamp,
			    level_names[level]);
		json_append_string(&line, log_ident, strlen(log_ident));
		buf_append_str(&line, ",\"msg\":");
		json_append_string(&line, msg, strlen(msg));
		put_fields(&line, f, n, LOG_FORMAT_JSON);
		buf_append_str(&line, "}\n");
		msg_end = 0;
	} else {
		buf_appendf(&line, "%s %s %s: %s", stamp, log_ident, level_names[level], msg);
		if (n > 0)
			buf_append(&line, ":", 1);
		put_fields(&line, f, n, LOG_FORMAT_TEXT);
		msg_end = line.len;
		buf_append(&line, "\n", 1);
	}
	fwrite(line.data, 1, line.len, stderr);
	if (log_to_syslog) {
		if (format == LOG_FORMAT_JSON) {
			/* Syslog adds its own time and level: the text form. */
			buf_clear(&line);
			buf_append_str(&line, msg);
			if (n > 0)
				buf_append(&line, ":", 1);
			put_fields(&line, f, n, LOG_FORMAT_TEXT);
			msg_end = line.len;
		} else {
			size_t head = strlen(stamp) + strlen(log_ident) + strlen(level_names[level]) + 4;
			buf_consume(&line, head);
			msg_end -= head;
		}
		syslog(level_priorities[level], "%.*s", (int)msg_end, (const char *)line.data);
	}
	buf_free(&line);
}

static void log_line(enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(level, msg, NULL, 0);
}

void log_fields(enum log_level level, const char *msg, const struct log_field *fields,
		size_t nfields)
{
	if (!log_enabled(level))
		return;
	log_emit(level, msg, fields, nfields);
}

#define LOG_FUNCTION(name, level) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		log_line(level, fmt, ap); \
		va_end(ap); \
	}

LOG_FUNCTION(log_error, LOG_LEVEL_ERROR)
LOG_FUNCTION(log_warning, LOG_LEVEL_WARNING)
LOG_FUNCTION(log_info, LOG_LEVEL_INFO)
LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG)

void log_escape(const char *data, size_t len, char *out, size_t outsize)
{
	size_t o = 0;

	if (outsize == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= outsize)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outsize)
				break;
			snprintf(out + o, outsize - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
}
