/* The progress of kairanctl import and export: a bar on a terminal
 * (stderr is a tty), redrawn at most ten times a second, and one summary
 * line at the end on stdout whatever stderr is. */
#ifndef KAIRAN_CTL_PROGRESS_H
#define KAIRAN_CTL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_progress {
	bool tty;
	const char *verb;         /* "imported", "exported" */
	size_t total, done;       /* messages */
	size_t skipped;           /* known already (a second run) */
	size_t failed;            /* could not be read or stored */
	size_t folders;
	uint64_t bytes;
	double start, last_draw;  /* CLOCK_MONOTONIC seconds */
};

void ctl_progress_start(struct ctl_progress *p, const char *verb, size_t total);
/* Counts n messages of bytes more, and redraws the bar when it is time. */
void ctl_progress_add(struct ctl_progress *p, size_t n, uint64_t bytes);
/* Clears the bar and prints the summary: "imported 10000 messages
 * (123.4 MB) in 5 folders in 12.3 s: 813 msg/s, 10.0 MB/s; 0 already
 * there, 0 failed". */
void ctl_progress_end(struct ctl_progress *p);

#endif
