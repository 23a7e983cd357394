/* For the argument-parser tests: runs one whole command line through the
 * real incremental parser and returns its arguments, allocated from arena.
 * A line the parser refuses aborts the test program (it is a test bug). */
#ifndef KAIRAN_TESTS_UNIT_PARSE_LINE_H
#define KAIRAN_TESTS_UNIT_PARSE_LINE_H

#include <stdio.h>
#include <stdlib.h>

#include "server/imap/parser.h"

static inline const struct imap_arg *unit_parse_line(const struct imap_parser_limits *limits,
						    struct arena *arena, const char *line, size_t len)
{
	struct imap_parser *p = imap_parser_new(limits);
	const struct imap_arg *args = NULL;
	size_t pos = 0;

	while (pos < len && args == NULL) {
		size_t used = 0;
		enum imap_parse_status st = imap_parser_run(p, arena, (const uint8_t *)line + pos,
							    len - pos, &used);
		pos += used;
		if (st == IMAP_PARSE_DONE)
			args = imap_parser_command(p)->args;
		else if (st == IMAP_PARSE_ERROR)
			break;
	}
	imap_parser_free(&p);
	if (args == NULL) {
		fprintf(stderr, "  the parser refused: %.*s\n", (int)(len > 200 ? 200 : len), line);
		abort();
	}
	return args;
}

#endif
