/* The JSON log format (server/core/json.c, log.c): every string, whatever
 * its bytes, becomes one valid JSON string on one line (RFC 8259 §7), and a
 * line of the log is one object with the stable keys first. */
#include "tests/unit/unit.h"
#include "server/core/json.h"
#include "server/core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void check_json(const char *in, size_t len, const char *want)
{
	struct buf b;

	buf_init(&b);
	json_append_string(&b, in, len);
	CHECK_MEM(b.data, b.len, want, strlen(want));
	buf_free(&b);
}

static void test_rfc8259_7_escapes(void)
{
	check_json("", 0, "\"\"");
	check_json("plain text", 10, "\"plain text\"");
	check_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	/* Every control character, NUL and DEL as \u00XX: no raw newline can
	 * end a log line early. */
	check_json("\n\r\t\0\x1f\x7f", 6, "\"\\u000a\\u000d\\u0009\\u0000\\u001f\\u007f\"");
}

static void test_utf8_kept_invalid_replaced(void)
{
	/* Valid UTF-8 (2, 3 and 4 bytes) is copied as it is. */
	check_json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xa8", 9, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xa8\"");
	/* A lone continuation byte, 0xff, an overlong '/', a surrogate, a
	 * sequence cut short: each bad byte becomes U+FFFD. */
	check_json("a\x80z", 3, "\"a\\ufffdz\"");
	check_json("\xff", 1, "\"\\ufffd\"");
	check_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
	check_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	check_json("ok\xe2\x82", 4, "\"ok\\ufffd\\ufffd\"");
}

static void test_level_and_format_names(void)
{
	enum log_level l;
	enum log_format f;
	struct log_settings set;
	char err[128];

	CHECK(log_level_parse("warn", &l) == 0 && l == LOG_LEVEL_WARNING);
	CHECK(log_level_parse("warning", &l) == 0 && l == LOG_LEVEL_WARNING);
	CHECK(log_level_parse("DEBUG", &l) == 0 && l == LOG_LEVEL_DEBUG);
	CHECK(log_level_parse("loud", &l) < 0);
	CHECK(log_format_parse("json", &f) == 0 && f == LOG_FORMAT_JSON);
	CHECK(log_format_parse("xml", &f) < 0);
	CHECK(log_settings_parse("info", "xml", &set, err, sizeof(err)) < 0);
	CHECK(strstr(err, "log_format") != NULL);
}

/* Runs fn with stderr sent to a file; returns what it wrote (static). */
static const char *captured(void (*fn)(void))
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void log_an_event(void)
{
	struct log_field f[] = {
		log_str("user", "al\"ice"),
		log_num("commands", 3),
		{ .key = "raw", .str = "a\nb\xff", .len = 4 },
		log_str("empty", ""),
	};

	log_fields(LOG_LEVEL_INFO, "session end", f, 4);
	log_debug("not written at level info");
}

/* What kairand does at start and at each reload. */
static void configure(const char *level, const char *format)
{
	struct log_settings set;
	char err[128];

	CHECK(log_settings_parse(level, format, &set, err, sizeof(err)) == 0);
	log_settings_apply(&set);
}

static void test_log_fields_text_and_json(void)
{
	const char *out;

	configure("info", "text");
	out = captured(log_an_event);
	CHECK(strstr(out, " test info: session end: user=\"al\\\"ice\" commands=3 "
		      "raw=\"a\\x0ab\\xff\" empty=\"\"\n") != NULL);
	CHECK(strchr(out, '\n') == out + strlen(out) - 1);
	configure("info", "json");
	out = captured(log_an_event);
	CHECK(strncmp(out, "{\"ts\":\"", 7) == 0);
	CHECK(strstr(out, "\",\"level\":\"info\",\"program\":\"test\",\"msg\":\"session end\","
		      "\"user\":\"al\\\"ice\",\"commands\":3,\"raw\":\"a\\u000ab\\ufffd\","
		      "\"empty\":\"\"}\n") != NULL);
	CHECK(strchr(out, '\n') == out + strlen(out) - 1);
	configure("info", "text");
}

int main(void)
{
	log_init("test", false);
	UNIT_RUN(test_rfc8259_7_escapes);
	UNIT_RUN(test_utf8_kept_invalid_replaced);
	UNIT_RUN(test_level_and_format_names);
	UNIT_RUN(test_log_fields_text_and_json);
	return unit_report("test_log_json");
}
