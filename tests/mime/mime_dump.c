/* mime_dump: runs mime_parse over message files and prints what it made,
 * for tests/mime/test_mime_vs_python.py and for looking at a message by
 * hand. Output per file, each item length-prefixed so that CRLF, NUL and
 * 8-bit bytes in literals survive:
 *
 *   FILE <name>\n
 *   <ITEM> <byte count>\n<bytes>\n      for ENVELOPE, BODY, BODYSTRUCTURE,
 *                                       PARTS, TEXT, DEGRADED, SENTDATE
 *   FIELD <byte count>\n<name>: <value>\n  per decoded header field
 *
 *   mime_dump FILE...           dump each file
 *   mime_dump --bench N FILE... parse every file N times, print MB/s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/mime/mime.h"

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char tmp[65536];
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	buf_init(&b);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	*len_r = b.len;
	buf_append(&b, "", 1);
	return (char *)b.data;
}

static void item(const char *name, const void *data, size_t len)
{
	printf("%s %zu\n", name, len);
	if (len > 0)
		fwrite(data, 1, len, stdout);
	putchar('\n');
}

static void dump(const char *path)
{
	size_t len;
	char *raw = slurp(path, &len);
	struct mime_message m;
	char num[64];

	mime_message_init(&m);
	mime_parse(raw, len, NULL, &m);
	printf("FILE %s\n", path);
	item("ENVELOPE", m.envelope.data, m.envelope.len);
	item("BODY", m.body.data, m.body.len);
	item("BODYSTRUCTURE", m.bodystructure.data, m.bodystructure.len);
	item("PARTS", m.parts.data, m.parts.len);
	item("TEXT", m.text.data, m.text.len);
	snprintf(num, sizeof(num), "%u", m.degraded);
	item("DEGRADED", num, strlen(num));
	if (m.sent_date == INT64_MIN)
		snprintf(num, sizeof(num), "NIL");
	else
		snprintf(num, sizeof(num), "%lld %d", (long long)m.sent_date, m.sent_zone);
	item("SENTDATE", num, strlen(num));
	for (size_t i = 0; i < m.nfields; i++) {
		printf("FIELD %zu\n", m.fields[i].name_len + 2 + m.fields[i].value_len);
		fwrite(m.fields[i].name, 1, m.fields[i].name_len, stdout);
		fputs(": ", stdout);
		fwrite(m.fields[i].value, 1, m.fields[i].value_len, stdout);
		putchar('\n');
	}
	mime_message_free(&m);
	free(raw);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(int rounds, int nfiles, char **files)
{
	char **raw = calloc((size_t)nfiles, sizeof(*raw));
	size_t *len = calloc((size_t)nfiles, sizeof(*len)), total = 0;

	for (int i = 0; i < nfiles; i++) {
		raw[i] = slurp(files[i], &len[i]);
		total += len[i];
	}
	double t0 = now();
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < nfiles; i++) {
			struct mime_message m;
			mime_message_init(&m);
			mime_parse(raw[i], len[i], NULL, &m);
			mime_message_free(&m);
		}
	}
	double secs = now() - t0;
	printf("%d files, %zu bytes, %d rounds: %.3f s, %.1f MB/s, %.1f us/message\n", nfiles, total,
			rounds, secs, (double)total * rounds / secs / 1e6, secs * 1e6 / rounds / nfiles);
	for (int i = 0; i < nfiles; i++)
		free(raw[i]);
	free(raw);
	free(len);
}

int main(int argc, char **argv)
{
	if (argc > 3 && strcmp(argv[1], "--bench") == 0) {
		bench(atoi(argv[2]), argc - 3, argv + 3);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: mime_dump FILE... | mime_dump --bench N FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		dump(argv[i]);
	return 0;
}
