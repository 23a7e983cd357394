/* Parser micro-benchmark: typical command lines parsed in a tight loop on one
 * core, the arena reset after each command as the session does, for a fixed
 * time. Prints lines/s and MB/s for the mix and for each line on its own.
 *
 *   bench_parser [seconds]      (default 5; the per-line figures take 1/10 each)
 *
 * APPEND's header line ends in a non-synchronising literal whose data is not
 * part of the benchmark: the parser is reset after the line instead. */
#include "server/core/arena.h"
#include "server/imap/parser.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Roughly what the session uses after login (config.md defaults). */
static const struct imap_parser_limits bench_limits = {
	.max_line = 65536,
	.max_literal = 52428800,
	.max_literals = 1000,
	.max_depth = 32,
	.max_args = 100000,
};

struct bench_line {
	const char *text;
	size_t nargs;          /* top-level arguments, checked once before timing */
	bool literal_pending;  /* ends in "{n+}": the parser waits for the data */
};

static const struct bench_line lines[] = {
	{ "a1 UID FETCH 1:* (UID FLAGS)\r\n", 3, false },
	{ "a2 UID STORE 4711 +FLAGS.SILENT (\\Seen)\r\n", 4, false },
	{ "a3 UID SEARCH SINCE 1-Jan-2026 FROM \"alice\" NOT DELETED\r\n", 7, false },
	{ "a4 FETCH 1:100 (BODY.PEEK[HEADER.FIELDS (From To Subject Date)] UID)\r\n", 2, false },
	{ "a5 APPEND INBOX (\\Seen) \"26-Nov-2026 10:00:00 +0000\" {1234+}\r\n", 0, true },
	{ "a6 NOOP\r\n", 0, false },
	{ "a7 SELECT INBOX\r\n", 1, false },
	{ "a8 UID FETCH 1:4711 (UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS "
	  "(DATE FROM TO CC SUBJECT MESSAGE-ID REFERENCES IN-REPLY-TO CONTENT-TYPE)])\r\n", 3, false },
	{ "a9 LIST \"\" \"*\"\r\n", 2, false },
	{ "a10 STATUS \"Other Users/bob/Archive\" (MESSAGES UIDNEXT UNSEEN)\r\n", 2, false },
	{ "a11 UID STORE 1:4711 -FLAGS (\\Seen \\Flagged $Forwarded)\r\n", 4, false },
	{ "a12 LOGIN alice \"secret\"\r\n", 2, false },
};
#define NLINES (sizeof(lines) / sizeof(lines[0]))

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses one line; returns the top-level argument count (or -1 on a result
 * other than the expected one). */
static long parse_line(struct imap_parser *p, struct arena *arena, const struct bench_line *l,
		       size_t len)
{
	size_t used = 0;
	enum imap_parse_status st = imap_parser_run(p, arena, (const uint8_t *)l->text, len, &used);
	long n = -1;

	if (used != len)
		return -1;
	if (l->literal_pending) {
		if (st == IMAP_PARSE_NEED_MORE)
			n = 0;
		imap_parser_reset(p);
	} else if (st == IMAP_PARSE_DONE) {
		n = (long)imap_parser_command(p)->nargs;
	}
	arena_reset(arena);
	return n;
}

struct result {
	unsigned long long lines, bytes, failed;
	double seconds;
};

/* Parses the lines [first, first + count) round-robin for about `seconds`. */
static struct result run(struct imap_parser *p, struct arena *arena, const size_t *lens,
			 size_t first, size_t count, double seconds)
{
	struct result r = { 0, 0, 0, 0 };
	double start = now_s(), t = start;
	size_t k = 0;

	while (t - start < seconds) {
		/* Check the clock every 4096 lines only. */
		for (int i = 0; i < 4096; i++) {
			const struct bench_line *l = &lines[first + k];
			if (parse_line(p, arena, l, lens[first + k]) != (long)l->nargs)
				r.failed++;
			r.bytes += lens[first + k];
			if (++k == count)
				k = 0;
		}
		r.lines += 4096;
		t = now_s();
	}
	r.seconds = t - start;
	return r;
}

static void print_result(const char *what, const struct result *r)
{
	printf("%-12s %12.0f lines/s %9.1f MB/s  (%llu lines in %.2f s)\n", what,
	       (double)r->lines / r->seconds, (double)r->bytes / r->seconds / 1e6, r->lines,
	       r->seconds);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5.0;
	struct imap_parser *p = imap_parser_new(&bench_limits);
	struct arena arena;
	size_t lens[NLINES];
	struct result mix;
	unsigned long long failed;
	cpu_set_t cpus;
	int cpu = sched_getcpu();

	if (seconds <= 0)
		seconds = 5.0;
	/* One core: stay where we started, so the figures do not include
	 * migrations between cores. */
	if (cpu >= 0) {
		CPU_ZERO(&cpus);
		CPU_SET(cpu, &cpus);
		(void)sched_setaffinity(0, sizeof(cpus), &cpus);
	}
	arena_init(&arena);
	for (size_t i = 0; i < NLINES; i++) {
		long n;

		lens[i] = strlen(lines[i].text);
		n = parse_line(p, &arena, &lines[i], lens[i]);
		if (n != (long)lines[i].nargs) {
			fprintf(stderr, "bench_parser: line %zu parsed to %ld arguments, want %zu\n",
				i + 1, n, lines[i].nargs);
			return 1;
		}
	}

	printf("bench_parser: %zu command lines, %.1f s on one core\n", NLINES, seconds);
	mix = run(p, &arena, lens, 0, NLINES, seconds);
	print_result("mix", &mix);
	failed = mix.failed;
	for (size_t i = 0; i < NLINES; i++) {
		struct result r = run(p, &arena, lens, i, 1, seconds / 10);
		char name[16];
		snprintf(name, sizeof(name), "line a%zu", i + 1);
		print_result(name, &r);
		failed += r.failed;
	}
	imap_parser_free(&p);
	arena_free(&arena);
	if (failed > 0) {
		fprintf(stderr, "bench_parser: %llu lines parsed wrongly\n", failed);
		return 1;
	}
	return 0;
}
