#include "server/imap/trace.h"
#include "server/core/buf.h"
#include "server/core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Enough raw bytes of an output line's end to find a literal's "{N}". */
#define TAIL_MAX 24

struct imap_trace {
	FILE *f;                    /* NULL: the lines go to the log */
	char peer[80];
	char *user;                 /* NULL before login */
	struct buf line;            /* the line being written, already escaped */
	size_t dropped;             /* raw bytes of it past TRACE_LINE_MAX */

	/* The server's output, which arrives in any split. */
	uint8_t tail[TAIL_MAX];     /* the last raw bytes of the current line */
	size_t tail_len;
	uint64_t literal_left;      /* bytes of a literal still to come */
	bool literal_shown;         /* ... written (small), or summarised */
};

/* How bytes are escaped: in a line, in a quoted string (RFC 3501's own
 * escapes), in a literal (whose CR LF are data). */
enum trace_mode { TRACE_LINE, TRACE_QUOTED, TRACE_LITERAL };

static void put_text(struct imap_trace *t, const char *s, size_t len)
{
	if (t->dropped > 0 || t->line.len + len > TRACE_LINE_MAX) {
		t->dropped += len;
		return;
	}
	buf_append(&t->line, s, len);
}

static void put_str(struct imap_trace *t, const char *s)
{
	put_text(t, s, strlen(s));
}

static void put_bytes(struct imap_trace *t, const uint8_t *data, size_t len, enum trace_mode mode)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];
		char esc[8];

		if (mode == TRACE_QUOTED && (c == '"' || c == '\\'))
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (mode == TRACE_LITERAL && c == '\\')
			snprintf(esc, sizeof(esc), "\\\\");
		else if (mode == TRACE_LITERAL && c == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (mode == TRACE_LITERAL && c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c >= 0x20 && c < 0x7f) {
			put_text(t, (const char *)&c, 1);
			continue;
		} else
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		put_text(t, esc, strlen(esc));
	}
}

/* Writes the line as said by who ("C", "S" or "*") and starts a new one. */
static void line_end(struct imap_trace *t, const char *who)
{
	if (t->dropped > 0)
		buf_appendf(&t->line, " ... (%zu more bytes)", t->dropped);
	if (t->f != NULL) {
		char stamp[40];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(t->f, "%s.%03ldZ %s: %.*s\n", stamp, now.tv_nsec / 1000000, who,
			(int)t->line.len, (const char *)t->line.data);
	} else {
		struct log_field f[4] = {
			log_str("peer", t->peer),
			log_str("user", t->user != NULL ? t->user : ""),
			log_str("from", who),
			{ .key = "line", .str = (const char *)t->line.data, .len = t->line.len },
		};
		if (f[3].str == NULL)
			f[3].str = "";
		log_fields(LOG_LEVEL_INFO, "trace", f, 4);
	}
	buf_clear(&t->line);
	t->dropped = 0;
}

static void trace_flush(struct imap_trace *t)
{
	if (t->f != NULL)
		fflush(t->f);
}

/* A file name part from untrusted text: letters, digits and ".-_@+:"
 * kept, anything else (a '/' above all) made '_'. */
static void safe_name(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < size; s++) {
		char c = *s;
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    strchr(".-_@+:", c) != NULL;
		out[o++] = keep ? c : '_';
	}
	out[o] = '\0';
	if (o == 0 || out[0] == '.') { /* never "", ".", ".." or a hidden file */
		if (o + 2 > size)
			o = size - 2;
		memmove(out + 1, out, o);
		out[0] = '_';
		out[o + 1] = '\0';
	}
}

static FILE *trace_file(const char *dir, const char *who)
{
	static unsigned long seq;
	char name[128], stamp[32], path[4096];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int fd;

	safe_name(who, name, sizeof(name));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(path, sizeof(path), "%s/%s.%s.%ld.%lu.trace", dir, name, stamp, (long)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warning("trace: cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		log_warning("trace: %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

struct imap_trace *imap_trace_open(const char *dir, const char *peer, const char *user)
{
	struct imap_trace *t;
	FILE *f = NULL;

	if (dir[0] != '\0') {
		const char *colon = strrchr(peer, ':');
		char addr[80];

		/* A file per session, named after whom it traces. */
		snprintf(addr, sizeof(addr), "%.*s", colon != NULL ? (int)(colon - peer) : 79, peer);
		f = trace_file(dir, user != NULL ? user : addr);
		if (f == NULL)
			return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->f = f;
	snprintf(t->peer, sizeof(t->peer), "%s", peer);
	t->user = user != NULL ? xstrdup(user) : NULL;
	buf_init(&t->line);
	return t;
}

void imap_trace_close(struct imap_trace **tp)
{
	struct imap_trace *t = *tp;

	if (t == NULL)
		return;
	if (t->line.len > 0 || t->dropped > 0)
		line_end(t, "S");   /* an output line the connection cut */
	if (t->f != NULL)
		fclose(t->f);
	buf_free(&t->line);
	free(t->user);
	free(t);
	*tp = NULL;
}

void imap_trace_note(struct imap_trace *t, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put_str(t, text);
	line_end(t, "*");
	trace_flush(t);
}

void imap_trace_login(struct imap_trace *t, const char *user)
{
	if (t->user != NULL)
		return;
	t->user = xstrdup(user);
	imap_trace_note(t, "logged in as %s", user);
}

/* One argument; secret: its value is never written, whatever its form;
 * hide_literals: neither is any literal's (LOGIN's user name may be one). */
static void render_arg(struct imap_trace *t, const struct imap_arg *a, bool secret,
		       bool hide_literals)
{
	char head[48];

	switch (a->type) {
	case IMAP_ARG_EOL:
		return;
	case IMAP_ARG_ATOM:
		if (secret)
			put_str(t, "<redacted>");
		else
			put_bytes(t, (const uint8_t *)a->u.str.data, a->u.str.len, TRACE_LINE);
		return;
	case IMAP_ARG_QUOTED:
		if (secret) {
			put_str(t, "\"<redacted>\"");
			return;
		}
		put_str(t, "\"");
		put_bytes(t, (const uint8_t *)a->u.str.data, a->u.str.len, TRACE_QUOTED);
		put_str(t, "\"");
		return;
	case IMAP_ARG_LITERAL:
		if (secret || hide_literals) {
			snprintf(head, sizeof(head), "%s{%zu}<redacted>", a->literal8 ? "~" : "",
				 a->u.str.len);
			put_str(t, head);
		} else if (a->u.str.len > TRACE_LITERAL_SHOWN) {
			snprintf(head, sizeof(head), "%s{%zu bytes}", a->literal8 ? "~" : "",
				 a->u.str.len);
			put_str(t, head);
		} else {
			snprintf(head, sizeof(head), "%s{%zu}", a->literal8 ? "~" : "", a->u.str.len);
			put_str(t, head);
			put_bytes(t, (const uint8_t *)a->u.str.data, a->u.str.len, TRACE_LITERAL);
		}
		return;
	case IMAP_ARG_LIST:
		put_str(t, "(");
		for (size_t i = 0; i < a->u.list.count; i++) {
			if (i > 0)
				put_str(t, " ");
			render_arg(t, &a->u.list.items[i], secret, hide_literals);
		}
		put_str(t, ")");
		return;
	}
}

void imap_trace_command(struct imap_trace *t, const struct imap_command *cmd)
{
	/* RFC 3501 §6.2.3 LOGIN userid password; §6.2.2 and RFC 4959
	 * AUTHENTICATE mechanism [initial-response]. */
	bool login = strcmp(cmd->name, "LOGIN") == 0;
	bool sasl = strcmp(cmd->name, "AUTHENTICATE") == 0;

	put_bytes(t, (const uint8_t *)cmd->tag, strlen(cmd->tag), TRACE_LINE);
	put_str(t, " ");
	put_str(t, cmd->name);
	for (size_t i = 0; i < cmd->nargs; i++) {
		put_str(t, " ");
		render_arg(t, &cmd->args[i], (login && i == 1) || (sasl && i >= 1), login);
	}
	line_end(t, "C");
	trace_flush(t);
}

void imap_trace_sasl_line(struct imap_trace *t, const uint8_t *line, size_t len)
{
	char text[64];

	if (len == 1 && line[0] == '*')
		put_str(t, "*");
	else {
		snprintf(text, sizeof(text), "<SASL response redacted, %zu bytes>", len);
		put_str(t, text);
	}
	line_end(t, "C");
	trace_flush(t);
}

void imap_trace_client_line(struct imap_trace *t, const uint8_t *line, size_t len)
{
	put_bytes(t, line, len, TRACE_LINE);
	line_end(t, "C");
	trace_flush(t);
}

void imap_trace_bad_input(struct imap_trace *t, const char *why)
{
	put_str(t, "<a line that did not parse, not shown: ");
	put_str(t, why);
	put_str(t, ">");
	line_end(t, "C");
	trace_flush(t);
}

/* The size of the literal announced at the end of the current output
 * line ("... {123}"), or -1 when it announces none. */
static int64_t announced_literal(const struct imap_trace *t)
{
	size_t end = t->tail_len, start;
	int64_t n = 0;

	if (end < 3 || t->tail[end - 1] != '}')
		return -1;
	start = end - 1;
	while (start > 0 && t->tail[start - 1] >= '0' && t->tail[start - 1] <= '9')
		start--;
	/* At most 18 digits: no overflow, and far above any literal. */
	if (start == 0 || t->tail[start - 1] != '{' || start == end - 1 || end - 1 - start > 18)
		return -1;
	for (size_t i = start; i < end - 1; i++)
		n = n * 10 + (t->tail[i] - '0');
	return n;
}

static void tail_push(struct imap_trace *t, uint8_t c)
{
	if (t->tail_len == TAIL_MAX) {
		memmove(t->tail, t->tail + 1, TAIL_MAX - 1);
		t->tail_len--;
	}
	t->tail[t->tail_len++] = c;
}

/* The end of an output line: either it announces a literal, whose bytes
 * come next and belong to the same response, or the response is whole. */
static void output_line_end(struct imap_trace *t)
{
	int64_t n = announced_literal(t);

	t->tail_len = 0;
	if (n < 0) {
		line_end(t, "S");
		return;
	}
	t->literal_left = (uint64_t)n;
	t->literal_shown = n <= TRACE_LITERAL_SHOWN;
	if (!t->literal_shown && t->dropped == 0 && t->line.len > 0) {
		t->line.len--;          /* "{123}" becomes "{123 bytes}" */
		put_str(t, " bytes}");
	}
}

void imap_trace_output(struct imap_trace *t, const uint8_t *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (t->literal_left > 0) {
			size_t take = len - i < t->literal_left ? len - i : (size_t)t->literal_left;
			if (t->literal_shown)
				put_bytes(t, data + i, take, TRACE_LITERAL);
			t->literal_left -= take;
			i += take;
			continue;
		}
		uint8_t c = data[i++];
		if (c == '\n')
			output_line_end(t);
		else if (c != '\r') {
			tail_push(t, c);
			put_bytes(t, &c, 1, TRACE_LINE);
		}
	}
	trace_flush(t);
}

bool imap_trace_listed(const char *list, const char *name)
{
	size_t nlen = strlen(name);

	while (*list != '\0') {
		size_t n;

		list += strspn(list, ", \t");
		n = strcspn(list, ", \t");
		if (n > 0 && n == nlen && memcmp(list, name, n) == 0)
			return true;
		list += n;
	}
	return false;
}
