/* The incremental IMAP command parser (RFC 3501 §9, RFC 9051 §9).
 *
 * It is fed whatever bytes have arrived, in any split, and returns "need more
 * input" until a whole command (tag, name, arguments, literals included) has
 * been read. It knows nothing of sockets or of what commands mean: it turns
 * bytes into a tree of typed arguments, enforces every size limit before it
 * allocates, and reports errors as an enum that the session turns into one
 * BAD, NO or BYE. Anchor: Dovecot's lib-imap parser.
 *
 * Arguments are tokenised generously (an atom may hold '*', '%', '\' and a
 * "[...]" section with spaces, so FETCH's BODY[HEADER.FIELDS (A B)]<0.10> is
 * one token); each command then validates its arguments strictly with the
 * imap_arg_* accessors in args.h. */
#ifndef KAIRAN_IMAP_PARSER_H
#define KAIRAN_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/arena.h"
#include "server/core/buf.h"

enum imap_arg_type {
	IMAP_ARG_EOL = 0,     /* terminates every argument array */
	IMAP_ARG_ATOM,
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
};

struct spool;

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;          /* a "~{n}" literal (RFC 3516 BINARY) */
	/* LITERAL only: its bytes went to this spool (server/core/spool.h)
	 * instead of the arena, as the sink decided (imap_literal_sink):
	 * u.str.data is NULL and u.str.len their number. The sink owns it. */
	struct spool *spool;
	union {
		/* ATOM, QUOTED, LITERAL: len bytes, followed by a NUL that is not
		 * part of the value (literals may contain NUL themselves). */
		struct { const char *data; size_t len; } str;
		/* LIST: count items, then an IMAP_ARG_EOL entry. */
		struct { struct imap_arg *items; size_t count; } list;
	} u;
};

struct imap_command {
	const char *tag;        /* NUL-terminated, validated tag characters */
	char name[32];          /* upper-cased command name */
	struct imap_arg *args;  /* terminated by IMAP_ARG_EOL */
	size_t nargs;
};

/* The largest non-synchronising literal a LITERAL- server takes (RFC
 * 7888 §4). */
#define IMAP_LITERAL_MINUS_MAX 4096

struct imap_parser_limits {
	size_t max_line;        /* bytes of the line(s), literals excluded */
	uint64_t max_literal;   /* bytes of one literal */
	/* bytes of one non-synchronising literal (LITERAL-, RFC 7888 §4);
	 * 0: max_literal (LITERAL+) */
	uint64_t max_nonsync_literal;
	size_t max_literals;    /* literals in one command */
	size_t max_depth;       /* parenthesis nesting */
	size_t max_args;        /* arguments at all levels */
	/* A line over max_line ends the session (FATAL_LINE_TOO_LONG) instead
	 * of being skipped, and so does a line skipped after an error once
	 * its skipped part passes max_line: for input whose every byte costs
	 * more than it looks (a COMPRESS=DEFLATE session inflates up to about
	 * 1000 bytes from each one received), skipping is not bounded work. */
	bool long_line_fatal;
	/* The literals of one command together, and of the parser's whole
	 * life (the session), at most; 0: no limit. A refused non-synchronising
	 * literal is read and discarded if the bytes a refused command makes
	 * the parser discard stay within max_command_literal_bytes (else
	 * max_literal); past that the session ends. */
	uint64_t max_command_literal_bytes;
	uint64_t max_session_literal_bytes;
};

/* Where a literal's bytes go, decided once its "{n}" has passed the
 * limits, before the "+" continuation of a synchronising one. */
enum imap_literal_place {
	IMAP_LITERAL_ARENA,        /* the command's arena, as a string */
	IMAP_LITERAL_SPOOL,        /* the spool the sink returned */
	IMAP_LITERAL_REFUSE,       /* too big for where it is: LITERAL_TOO_BIG */
	IMAP_LITERAL_UNAVAILABLE,  /* no spool could be made: SPOOL_UNAVAILABLE */
};

/* The session's say over literals (session.c and literal_sink.c): the
 * parser itself does no I/O. */
struct imap_literal_sink {
	void *ctx;
	/* A literal of len bytes, the argument number arg_index (from 0) at
	 * nesting depth (0: top level) of command (upper-cased). */
	enum imap_literal_place (*place)(void *ctx, const char *command, size_t depth,
					 size_t arg_index, uint64_t len, struct spool **spool_r);
	/* Bytes of a spooled literal, as they arrive. */
	void (*write)(void *ctx, struct spool *spool, const void *data, size_t len);
};

enum imap_parse_status {
	IMAP_PARSE_NEED_MORE,          /* all input consumed; feed more */
	IMAP_PARSE_LITERAL_CONTINUE,   /* send "+ ..." for a synchronising literal, then feed more */
	IMAP_PARSE_DONE,               /* a whole command: imap_parser_command() */
	IMAP_PARSE_ERROR,              /* imap_parser_error(); the rest of the line is skipped */
};

enum imap_parse_error {
	IMAP_PERR_NONE,
	IMAP_PERR_BAD_TAG,             /* empty or invalid tag: answered with "* BAD" */
	IMAP_PERR_NO_COMMAND,          /* a tag and nothing else */
	IMAP_PERR_BAD_COMMAND_NAME,
	IMAP_PERR_SYNTAX,              /* a character that cannot start or continue an argument */
	IMAP_PERR_BAD_QUOTED,          /* CR, LF or NUL inside a quoted string, or a bad escape */
	IMAP_PERR_BAD_LITERAL,         /* a malformed {n} */
	IMAP_PERR_UNBALANCED,          /* ')' without '(' or a line ending inside a list */
	IMAP_PERR_LINE_TOO_LONG,
	IMAP_PERR_TOO_DEEP,
	IMAP_PERR_TOO_MANY_ARGS,
	IMAP_PERR_TOO_MANY_LITERALS,
	IMAP_PERR_LITERAL_TOO_BIG,     /* synchronising: the client never sends the data */
	IMAP_PERR_FATAL_LITERAL_TOO_BIG, /* non-synchronising: the stream cannot be resynchronised */
	IMAP_PERR_FATAL_LINE_TOO_LONG, /* over max_line with long_line_fatal */
	IMAP_PERR_NONSYNC_TOO_BIG,     /* non-synchronising over max_nonsync_literal: BAD, data skipped */
	IMAP_PERR_COMMAND_LITERALS_TOO_BIG, /* over max_command_literal_bytes */
	IMAP_PERR_SESSION_LITERALS_TOO_BIG, /* over max_session_literal_bytes */
	IMAP_PERR_SPOOL_UNAVAILABLE,   /* the sink could not make a spool */
};

struct imap_parser;

/* The parser allocates the command's strings and arrays from arena, which the
 * caller resets after the command has been answered (and not before
 * imap_parser_command's result is no longer used). */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser **pp);
void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits);
/* Without a sink (the default) every literal goes to the arena. */
void imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink);

/* Consumes up to len bytes; *consumed_r says how many. After DONE or ERROR,
 * call again with the rest of the input: after an ERROR the parser first
 * skips what is left of the bad line (including the data of a
 * non-synchronising literal announced at its end). */
enum imap_parse_status imap_parser_run(struct imap_parser *p, struct arena *arena,
		const uint8_t *data, size_t len, size_t *consumed_r);

const struct imap_command *imap_parser_command(const struct imap_parser *p);
enum imap_parse_error imap_parser_error(const struct imap_parser *p);
/* The tag of the command the error belongs to, or NULL if no valid tag was read. */
const char *imap_parser_error_tag(const struct imap_parser *p);
bool imap_parser_error_is_fatal(enum imap_parse_error e);
/* A short human-readable text for the error, for the BAD/NO/BYE line. */
const char *imap_parser_error_text(enum imap_parse_error e);
/* After IMAP_PARSE_LITERAL_CONTINUE, while the literal waits for its "+":
 * the command so far (its tag, name and the top-level arguments before
 * the literal), as a command in arena; NULL when the literal is not at the
 * top level. */
const struct imap_command *imap_parser_pending(const struct imap_parser *p, struct arena *arena);
/* The same moment: the length the waiting literal announced. */
uint64_t imap_parser_pending_literal(const struct imap_parser *p);
/* Forgets the command being read: the "+" it waits for was refused with a
 * tagged response, so the client will not send the literal's data and its
 * next bytes start a new command (RFC 3501 §7.5). */
void imap_parser_abandon(struct imap_parser *p);
/* Discards all state, as if no byte had been read (after STARTTLS). */
void imap_parser_reset(struct imap_parser *p);
/* True while a command is partly read (for idle timeouts and shutdown). */
bool imap_parser_in_command(const struct imap_parser *p);
/* Between commands: frees the argument arrays and token buffer the last
 * commands grew (they grow again when needed), so that a quiet session
 * holds none of them. Does nothing while a command is partly read. */
void imap_parser_release_memory(struct imap_parser *p);
/* Bytes of a literal's data still to come while the parser reads (or
 * skips) them; 0 otherwise (the slow-client timeouts, server/client_slow.c). */
uint64_t imap_parser_literal_left(const struct imap_parser *p);

#endif
