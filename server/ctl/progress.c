/* The progress bar and summary of kairanctl import and export
 * (server/ctl/progress.h). */
#include "server/ctl/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ctl_progress_start(struct ctl_progress *p, const char *verb, size_t total)
{
	*p = (struct ctl_progress){ 0 };
	p->tty = isatty(STDERR_FILENO) == 1;
	p->verb = verb;
	p->total = total;
	p->start = now_s();
}

static void draw(struct ctl_progress *p, double t)
{
	size_t seen = p->done + p->skipped + p->failed;
	size_t filled = p->total > 0 ? seen * BAR_WIDTH / p->total : BAR_WIDTH;
	double elapsed = t - p->start;
	char bar[BAR_WIDTH + 1];

	for (size_t i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu  %.1f MB  %.0f msg/s ", bar, seen, p->total,
		(double)p->bytes / 1e6, elapsed > 0 ? (double)p->done / elapsed : 0.0);
	fflush(stderr);
	p->last_draw = t;
}

void ctl_progress_add(struct ctl_progress *p, size_t n, uint64_t bytes)
{
	double t;

	p->done += n;
	p->bytes += bytes;
	if (!p->tty)
		return;
	t = now_s();
	if (t - p->last_draw >= 0.1)
		draw(p, t);
}

void ctl_progress_end(struct ctl_progress *p)
{
	double elapsed = now_s() - p->start;
	double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;
	double mbps = elapsed > 0 ? (double)p->bytes / 1e6 / elapsed : 0.0;

	if (p->tty) {
		draw(p, now_s());
		fputc('\n', stderr);
	}
	printf("%s %zu messages (%.1f MB) in %zu folders in %.1f s: %.0f msg/s, %.1f MB/s;"
	       " %zu already there, %zu failed\n", p->verb, p->done, (double)p->bytes / 1e6,
	       p->folders, elapsed, rate, mbps, p->skipped, p->failed);
}
