#include "server/imap/parser.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum parser_state {
	P_TAG,
	P_NAME,
	P_BETWEEN,        /* after a separator or '(': an argument may start */
	P_AFTER_ARG,      /* after an argument: SP, ')' or end of line */
	P_ATOM,
	P_ATOM_BRACKET,   /* inside the [...] of BODY[...] / BINARY[...] */
	P_QUOTED,
	P_QUOTED_ESCAPE,
	P_LIT_TILDE,      /* read '~', '{' must follow */
	P_LIT_LEN,
	P_LIT_CLOSE,      /* read '+', '}' must follow */
	P_LIT_CR,         /* read '}', CRLF must follow */
	P_LIT_LF,
	P_LIT_DATA,
	P_CR,             /* read CR at the end of the line, LF must follow */
	P_SKIP,           /* after an error: discard to the end of the line */
	P_SKIP_LITERAL,   /* discard the data of a literal announced by a skipped line */
};

/* One nesting level's arguments, grown while the level is open and copied
 * into the arena when it closes. */
struct arg_vec {
	struct imap_arg *items;
	size_t count, cap;
};

struct imap_parser {
	struct imap_parser_limits limits;
	enum parser_state state;
	enum imap_parse_error error;

	struct buf token;          /* the atom or quoted string being read */
	struct arg_vec *levels;    /* levels[0] is the command's argument list */
	size_t depth;              /* open parentheses */
	size_t line_bytes;         /* non-literal bytes of this command */
	size_t nargs, nliterals;

	uint64_t lit_len;          /* literal being announced or read */
	bool lit_sync, lit_overflow, lit8;
	size_t lit_digits;
	char *lit_data;            /* arena memory the literal is read into */
	struct spool *lit_spool;   /* ... or the sink's spool */
	uint64_t lit_got;
	uint64_t command_lit_bytes;  /* literals admitted in this command */
	uint64_t session_lit_bytes;  /* ... and in the parser's life */
	uint64_t skipped_lit_bytes;  /* literal data discarded since the last error */
	struct imap_literal_sink sink;

	bool tag_valid;
	const char *tag;           /* arena copy once the tag is complete */
	struct buf error_tag;      /* the parser's own copy, for error reports:
				      the arena may be reset before they are read */
	struct imap_command cmd;

	/* A skipped line is watched for a "{n+}" at its end, whose data must
	 * be skipped too: where in such a header the line currently is. */
	enum { SK_NONE, SK_DIGITS, SK_PLUS, SK_CLOSE, SK_CR } sk_state;
	uint64_t sk_value;          /* saturating: only "too big" matters then */
	size_t sk_digits;
};

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	buf_init(&p->token);
	imap_parser_set_limits(p, limits);
	imap_parser_reset(p);
	return p;
}

void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits)
{
	size_t i;

	for (i = 0; p->levels != NULL && i <= p->limits.max_depth; i++)
		free(p->levels[i].items);
	free(p->levels);
	p->limits = *limits;
	p->levels = xcalloc(limits->max_depth + 1, sizeof(*p->levels));
	p->depth = 0;
}

void imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink)
{
	p->sink = *sink;
}

void imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;

	if (p == NULL)
		return;
	for (size_t i = 0; i <= p->limits.max_depth; i++)
		free(p->levels[i].items);
	free(p->levels);
	buf_free(&p->token);
	buf_free(&p->error_tag);
	free(p);
	*pp = NULL;
}

/* Forgets the command being read; used at every command boundary. */
static void parser_new_command(struct imap_parser *p)
{
	for (size_t i = 0; i <= p->depth; i++)
		p->levels[i].count = 0;
	p->depth = 0;
	p->line_bytes = p->nargs = p->nliterals = 0;
	p->command_lit_bytes = 0;
	p->tag_valid = false;
	p->tag = NULL;
	p->lit_data = NULL;
	p->lit_spool = NULL;
	buf_clear(&p->token);
	p->state = P_TAG;
}

void imap_parser_reset(struct imap_parser *p)
{
	parser_new_command(p);
	p->levels[0].count = 0;
	p->error = IMAP_PERR_NONE;
	p->sk_state = SK_NONE;
}

bool imap_parser_in_command(const struct imap_parser *p)
{
	return p->state != P_TAG || p->token.len > 0;
}

void imap_parser_release_memory(struct imap_parser *p)
{
	if (imap_parser_in_command(p))
		return;
	for (size_t i = 0; i <= p->limits.max_depth; i++) {
		free(p->levels[i].items);
		p->levels[i].items = NULL;
		p->levels[i].count = p->levels[i].cap = 0;
	}
	buf_free(&p->token);
}

uint64_t imap_parser_literal_left(const struct imap_parser *p)
{
	if (p->state != P_LIT_DATA && p->state != P_SKIP_LITERAL)
		return 0;
	return p->lit_len - p->lit_got;
}

const struct imap_command *imap_parser_command(const struct imap_parser *p)
{
	return &p->cmd;
}

enum imap_parse_error imap_parser_error(const struct imap_parser *p)
{
	return p->error;
}

const char *imap_parser_error_tag(const struct imap_parser *p)
{
	return p->tag_valid ? (const char *)p->error_tag.data : NULL;
}

bool imap_parser_error_is_fatal(enum imap_parse_error e)
{
	return e == IMAP_PERR_FATAL_LITERAL_TOO_BIG || e == IMAP_PERR_FATAL_LINE_TOO_LONG;
}

const char *imap_parser_error_text(enum imap_parse_error e)
{
	switch (e) {
	case IMAP_PERR_NONE: return "No error";
	case IMAP_PERR_BAD_TAG: return "Invalid tag";
	case IMAP_PERR_NO_COMMAND: return "Missing command";
	case IMAP_PERR_BAD_COMMAND_NAME: return "Invalid command name";
	case IMAP_PERR_SYNTAX: return "Syntax error in arguments";
	case IMAP_PERR_BAD_QUOTED: return "Invalid quoted string";
	case IMAP_PERR_BAD_LITERAL: return "Invalid literal";
	case IMAP_PERR_UNBALANCED: return "Unbalanced parentheses";
	case IMAP_PERR_LINE_TOO_LONG:
	case IMAP_PERR_FATAL_LINE_TOO_LONG: return "Command line too long";
	case IMAP_PERR_TOO_DEEP: return "Too deeply nested";
	case IMAP_PERR_TOO_MANY_ARGS: return "Too many arguments";
	case IMAP_PERR_TOO_MANY_LITERALS: return "Too many literals";
	case IMAP_PERR_LITERAL_TOO_BIG:
	case IMAP_PERR_FATAL_LITERAL_TOO_BIG: return "Literal too big";
	case IMAP_PERR_NONSYNC_TOO_BIG:
		return "Non-synchronizing literal too big (LITERAL-, RFC 7888)";
	case IMAP_PERR_COMMAND_LITERALS_TOO_BIG: return "Too many literal bytes in one command";
	case IMAP_PERR_SESSION_LITERALS_TOO_BIG: return "Too many literal bytes in this session";
	case IMAP_PERR_SPOOL_UNAVAILABLE: return "Cannot take the literal now";
	}
	return "Parse error";
}

static bool is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 3501 tag: 1*<any ASTRING-CHAR except "+">. */
static bool is_tag_char(uint8_t c)
{
	return c < 0x80 && !is_ctl(c) && strchr("(){ %*\"\\+", c) == NULL;
}

/* Generous atom characters (see parser.h): validated again by each command. */
static bool is_atom_char(uint8_t c)
{
	return c < 0x80 && !is_ctl(c) && strchr("(){ \"", c) == NULL;
}

/* Only fetch attributes carry a bracketed section with spaces inside. */
static bool atom_opens_section(const struct buf *t)
{
	static const char *const names[] = { "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK",
					     "BINARY.SIZE" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (t->len == strlen(names[i]) && strncasecmp((const char *)t->data, names[i], t->len) == 0)
			return true;
	return false;
}

/* Follows one byte of a skipped line through the "{digits+}" grammar. */
static void skip_track(struct imap_parser *p, uint8_t c)
{
	if (c == '{') {
		p->sk_state = SK_DIGITS;
		p->sk_value = 0;
		p->sk_digits = 0;
	} else if (isdigit(c) && p->sk_state == SK_DIGITS) {
		uint64_t d = (uint64_t)(c - '0');
		p->sk_value = p->sk_value > (UINT64_MAX - d) / 10 ? UINT64_MAX : p->sk_value * 10 + d;
		p->sk_digits++;
	} else if (c == '+' && p->sk_state == SK_DIGITS && p->sk_digits > 0) {
		p->sk_state = SK_PLUS;
	} else if (c == '}' && p->sk_state == SK_PLUS) {
		p->sk_state = SK_CLOSE;
	} else if (c == '\r' && p->sk_state == SK_CLOSE) {
		p->sk_state = SK_CR;
	} else
		p->sk_state = SK_NONE;
}

/* At the LF of a skipped line: did it end with a non-synchronising literal? */
static bool skip_ends_in_literal(const struct imap_parser *p, uint64_t *len_r)
{
	if (p->sk_state != SK_CLOSE && p->sk_state != SK_CR)
		return false;
	*len_r = p->sk_value;
	return true;
}

/* A failing byte may sit inside the "{n+}" that ends a line: the watch over
 * the skipped line starts from what was already read of that header, or
 * the literal's data would be taken for commands. */
static void parser_seed_tail(struct imap_parser *p, enum parser_state st, uint8_t c)
{
	p->sk_state = SK_NONE;
	switch (st) {
	case P_LIT_LEN:
	case P_LIT_CLOSE:
	case P_LIT_CR:
	case P_LIT_LF:
		p->sk_state = SK_DIGITS;
		p->sk_value = p->lit_overflow ? UINT64_MAX : p->lit_len;
		p->sk_digits = p->lit_digits;
		if (st == P_LIT_LEN)
			break;
		if (p->lit_sync) {
			p->sk_state = SK_NONE; /* no data follows a synchronising literal */
			break;
		}
		p->sk_state = st == P_LIT_CLOSE ? SK_PLUS : st == P_LIT_CR ? SK_CLOSE : SK_CR;
		break;
	default:
		break;
	}
	if (c != '\n')
		skip_track(p, c);
}

/* The error for a line crossing max_line. */
static enum imap_parse_error parser_too_long(const struct imap_parser *p)
{
	return p->limits.long_line_fatal ? IMAP_PERR_FATAL_LINE_TOO_LONG : IMAP_PERR_LINE_TOO_LONG;
}

/* Records an error. The failed command's tag stays readable until the next
 * call; at a line end the next command starts at once (unless the line
 * ended with a non-synchronising literal, whose data is skipped first),
 * otherwise the rest of the line is skipped first. */
static void parser_set_tag(struct imap_parser *p, struct arena *arena)
{
	p->tag = arena_strndup(arena, p->token.data, p->token.len);
	buf_clear(&p->error_tag);
	buf_append(&p->error_tag, p->token.data, p->token.len);
	buf_append(&p->error_tag, "", 1);
	p->tag_valid = true;
}

/* Literal data a refused line may make the parser read and discard: what
 * an accepted command could have made it read (parser.h). */
static uint64_t parser_skip_budget(const struct imap_parser *p)
{
	return p->limits.max_command_literal_bytes > 0 ? p->limits.max_command_literal_bytes :
	       p->limits.max_literal;
}

/* At the LF of a skipped line that announced a non-synchronising literal
 * of len bytes: skip its data, or end the session past the budget. */
static bool parser_skip_literal(struct imap_parser *p, uint64_t len)
{
	uint64_t budget = parser_skip_budget(p);

	if (len > budget || p->skipped_lit_bytes > budget - len) {
		p->error = IMAP_PERR_FATAL_LITERAL_TOO_BIG;
		return false;
	}
	p->skipped_lit_bytes += len;
	p->lit_len = len;
	p->lit_got = 0;
	p->state = P_SKIP_LITERAL;
	return true;
}

static enum imap_parse_status parser_fail(struct imap_parser *p, enum imap_parse_error e, uint8_t c)
{
	enum parser_state st = p->state;
	const char *tag = p->tag;
	bool tag_valid = p->tag_valid;

	parser_seed_tail(p, st, c);
	parser_new_command(p);
	p->tag = tag;
	p->tag_valid = tag_valid;
	p->error = e;
	p->state = P_SKIP;
	p->skipped_lit_bytes = 0;
	if (c == '\n') {
		uint64_t len;
		if (skip_ends_in_literal(p, &len))
			(void)parser_skip_literal(p, len);
		else
			p->state = P_TAG;
	}
	return IMAP_PARSE_ERROR;
}

static struct imap_arg *parser_push_arg(struct imap_parser *p)
{
	struct arg_vec *v = &p->levels[p->depth];

	if (v->count == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
	}
	memset(&v->items[v->count], 0, sizeof(v->items[0]));
	return &v->items[v->count++];
}

/* Copies a finished level into the arena, terminated by an EOL entry. */
static struct imap_arg *parser_freeze(struct arena *arena, const struct arg_vec *v)
{
	struct imap_arg *items = arena_alloc(arena, (v->count + 1) * sizeof(*items));

	if (v->count > 0)
		memcpy(items, v->items, v->count * sizeof(*items));
	memset(&items[v->count], 0, sizeof(*items));
	return items;
}

const struct imap_command *imap_parser_pending(const struct imap_parser *p, struct arena *arena)
{
	struct imap_command *cmd;

	if (p->depth != 0 || p->tag == NULL)
		return NULL;
	cmd = arena_alloc(arena, sizeof(*cmd));
	memset(cmd, 0, sizeof(*cmd));
	cmd->tag = p->tag;
	memcpy(cmd->name, p->cmd.name, sizeof(cmd->name));
	cmd->args = parser_freeze(arena, &p->levels[0]);
	cmd->nargs = p->levels[0].count;
	return cmd;
}

uint64_t imap_parser_pending_literal(const struct imap_parser *p)
{
	return p->lit_len;
}

void imap_parser_abandon(struct imap_parser *p)
{
	parser_new_command(p);
	p->error = IMAP_PERR_NONE;
}

static void parser_finish_string(struct imap_parser *p, struct arena *arena,
				 enum imap_arg_type type)
{
	struct imap_arg *a = parser_push_arg(p);

	a->type = type;
	a->u.str.data = arena_strndup(arena, p->token.data, p->token.len);
	a->u.str.len = p->token.len;
	buf_clear(&p->token);
}

/* The literal's bytes are all in: it becomes an argument. */
static void parser_finish_literal(struct imap_parser *p)
{
	struct imap_arg *a = parser_push_arg(p);

	a->type = IMAP_ARG_LITERAL;
	a->literal8 = p->lit8;
	a->spool = p->lit_spool;
	a->u.str.data = p->lit_spool != NULL ? NULL : p->lit_data;
	a->u.str.len = (size_t)p->lit_len;
	if (p->lit_spool == NULL)
		p->lit_data[p->lit_len] = '\0';
	p->lit_data = NULL;
	p->lit_spool = NULL;
	p->state = P_AFTER_ARG;
}

/* At a literal's "}": the limits its size must pass, and where its bytes
 * will go (the sink's choice), both before any "+" continuation. */
static enum imap_parse_error parser_admit_literal(struct imap_parser *p)
{
	const struct imap_parser_limits *l = &p->limits;
	uint64_t len = p->lit_len;

	if (p->lit_overflow || len > l->max_literal)
		return IMAP_PERR_LITERAL_TOO_BIG;
	if (l->max_command_literal_bytes > 0 &&
	    len > l->max_command_literal_bytes - p->command_lit_bytes)
		return IMAP_PERR_COMMAND_LITERALS_TOO_BIG;
	if (l->max_session_literal_bytes > 0 &&
	    (p->session_lit_bytes > l->max_session_literal_bytes ||
	     len > l->max_session_literal_bytes - p->session_lit_bytes))
		return IMAP_PERR_SESSION_LITERALS_TOO_BIG;
	p->lit_spool = NULL;
	if (p->sink.place != NULL) {
		switch (p->sink.place(p->sink.ctx, p->cmd.name, p->depth, p->levels[p->depth].count,
				      len, &p->lit_spool)) {
		case IMAP_LITERAL_REFUSE:
			return IMAP_PERR_LITERAL_TOO_BIG;
		case IMAP_LITERAL_UNAVAILABLE:
			return IMAP_PERR_SPOOL_UNAVAILABLE;
		case IMAP_LITERAL_ARENA:
			p->lit_spool = NULL;
			break;
		case IMAP_LITERAL_SPOOL:
			break;
		}
	}
	p->command_lit_bytes += len;
	p->session_lit_bytes += len;
	return IMAP_PERR_NONE;
}

enum imap_parse_status imap_parser_run(struct imap_parser *p, struct arena *arena,
		const uint8_t *data, size_t len, size_t *consumed_r)
{
	size_t i = 0;

	/* The tag of the last failed command was for that error report only
	 * (and points into an arena that has been reset since). */
	if (p->state == P_TAG && p->token.len == 0) {
		p->tag = NULL;
		p->tag_valid = false;
	}

	/* An error at a LF ends the line there; any other byte starts skipping. */
#define FAIL(e) do { *consumed_r = i + 1; return parser_fail(p, (e), data[i]); } while (0)
	/* Hands the current byte to another state without counting it twice. */
#define REDISPATCH() { p->line_bytes--; continue; }

	while (i < len) {
		uint8_t c = data[i];
		uint64_t skip_len;
		enum imap_parse_error refused;

		if (p->state == P_LIT_DATA) {
			uint64_t want = p->lit_len - p->lit_got;
			size_t n = (uint64_t)(len - i) < want ? len - i : (size_t)want;
			if (p->lit_spool != NULL)
				p->sink.write(p->sink.ctx, p->lit_spool, data + i, n);
			else
				memcpy(p->lit_data + p->lit_got, data + i, n);
			p->lit_got += n;
			i += n;
			if (p->lit_got == p->lit_len)
				parser_finish_literal(p);
			continue;
		}
		if (p->state == P_SKIP_LITERAL) {
			uint64_t want = p->lit_len - p->lit_got;
			size_t n = (uint64_t)(len - i) < want ? len - i : (size_t)want;
			p->lit_got += n;
			i += n;
			if (p->lit_got == p->lit_len) {
				p->sk_state = SK_NONE;
				p->state = P_SKIP;
			}
			continue;
		}
		if (p->state == P_SKIP) {
			if (c != '\n') {
				if (p->limits.long_line_fatal && ++p->line_bytes > p->limits.max_line) {
					*consumed_r = i;
					p->error = IMAP_PERR_FATAL_LINE_TOO_LONG;
					return IMAP_PARSE_ERROR;
				}
				skip_track(p, c);
				i++;
				continue;
			}
			i++;
			if (skip_ends_in_literal(p, &skip_len)) {
				if (!parser_skip_literal(p, skip_len)) {
					*consumed_r = i;
					return IMAP_PARSE_ERROR;
				}
				continue;
			}
			parser_new_command(p);
			continue;
		}

		/* Everything below is line data, which counts against the limit. */
		if (++p->line_bytes > p->limits.max_line)
			FAIL(parser_too_long(p));

		switch (p->state) {
		case P_TAG:
			if (is_tag_char(c)) {
				buf_append(&p->token, &c, 1);
				break;
			}
			if (c == ' ' && p->token.len > 0) {
				parser_set_tag(p, arena);
				buf_clear(&p->token);
				p->state = P_NAME;
				break;
			}
			if ((c == '\r' || c == '\n') && p->token.len == 0) {
				/* Empty lines are ignored, as most servers do. */
				if (c == '\n')
					p->line_bytes = 0;
				break;
			}
			if (c == '\n' || c == '\r') {
				parser_set_tag(p, arena);
				buf_clear(&p->token);
				FAIL(IMAP_PERR_NO_COMMAND);
			}
			FAIL(IMAP_PERR_BAD_TAG);
		case P_NAME:
			if (isalnum(c)) {
				if (p->token.len >= sizeof(p->cmd.name) - 1)
					FAIL(IMAP_PERR_BAD_COMMAND_NAME);
				buf_append(&p->token, &c, 1);
				break;
			}
			if (p->token.len == 0)
				FAIL(c == '\r' || c == '\n' ? IMAP_PERR_NO_COMMAND : IMAP_PERR_BAD_COMMAND_NAME);
			if (c == ' ' || c == '\r' || c == '\n') {
				for (size_t k = 0; k < p->token.len; k++)
					p->cmd.name[k] = (char)toupper(p->token.data[k]);
				p->cmd.name[p->token.len] = '\0';
				buf_clear(&p->token);
				p->state = c == ' ' ? P_BETWEEN : P_AFTER_ARG;
				if (c == ' ')
					break;
				REDISPATCH(); /* CR/LF are handled by P_AFTER_ARG */
			}
			FAIL(IMAP_PERR_BAD_COMMAND_NAME);
		case P_BETWEEN:
		case P_AFTER_ARG:
			if (c == ' ') {
				p->state = P_BETWEEN;
				break;
			}
			if (c == ')') {
				struct imap_arg *list;
				struct arg_vec *v;
				if (p->depth == 0)
					FAIL(IMAP_PERR_UNBALANCED);
				v = &p->levels[p->depth];
				p->depth--;
				list = parser_push_arg(p);
				list->type = IMAP_ARG_LIST;
				list->u.list.items = parser_freeze(arena, v);
				list->u.list.count = v->count;
				v->count = 0;
				p->state = P_AFTER_ARG;
				break;
			}
			if (c == '\r') {
				p->state = P_CR;
				break;
			}
			if (c == '\n')
				goto end_of_line;
			if (p->state == P_AFTER_ARG)
				FAIL(IMAP_PERR_SYNTAX);
			if (++p->nargs > p->limits.max_args)
				FAIL(IMAP_PERR_TOO_MANY_ARGS);
			if (c == '(') {
				if (p->depth + 1 > p->limits.max_depth)
					FAIL(IMAP_PERR_TOO_DEEP);
				p->depth++;
				p->levels[p->depth].count = 0;
				break;
			}
			if (c == '"') {
				p->state = P_QUOTED;
				break;
			}
			if (c == '{' || c == '~') {
				if (++p->nliterals > p->limits.max_literals)
					FAIL(IMAP_PERR_TOO_MANY_LITERALS);
				p->lit8 = c == '~';
				p->lit_len = 0;
				p->lit_overflow = false;
				p->lit_sync = true;
				p->state = c == '~' ? P_LIT_TILDE : P_LIT_LEN;
				p->lit_digits = 0;
				break;
			}
			if (!is_atom_char(c))
				FAIL(IMAP_PERR_SYNTAX);
			p->state = P_ATOM;
			REDISPATCH(); /* the atom state takes this byte */
		case P_ATOM: {
			/* Fast path: take every plain atom byte available. */
			size_t start = i;
			while (i < len && is_atom_char(data[i]) && data[i] != '[' && data[i] != ')')
				i++;
			if (i > start) {
				p->line_bytes += i - start - 1;
				if (p->line_bytes > p->limits.max_line) {
					i--;
					FAIL(parser_too_long(p));
				}
				buf_append(&p->token, data + start, i - start);
				continue;
			}
			if (c == '[') {
				if (atom_opens_section(&p->token))
					p->state = P_ATOM_BRACKET;
				buf_append(&p->token, &c, 1);
				break;
			}
			if (c == ' ' || c == ')' || c == '\r' || c == '\n') {
				parser_finish_string(p, arena, IMAP_ARG_ATOM);
				p->state = P_AFTER_ARG;
				REDISPATCH(); /* the separator is handled there */
			}
			FAIL(IMAP_PERR_SYNTAX);
		}
		case P_ATOM_BRACKET:
			if (c == '\r' || c == '\n' || c == '\0' || c == '[')
				FAIL(IMAP_PERR_SYNTAX);
			buf_append(&p->token, &c, 1);
			if (c == ']')
				p->state = P_ATOM;
			break;
		case P_QUOTED: {
			size_t start = i;
			while (i < len && data[i] != '"' && data[i] != '\\' && data[i] != '\r' &&
			       data[i] != '\n' && data[i] != '\0')
				i++;
			if (i > start) {
				p->line_bytes += i - start - 1;
				if (p->line_bytes > p->limits.max_line) {
					i--;
					FAIL(parser_too_long(p));
				}
				buf_append(&p->token, data + start, i - start);
				continue;
			}
			if (c == '"') {
				parser_finish_string(p, arena, IMAP_ARG_QUOTED);
				p->state = P_AFTER_ARG;
				break;
			}
			if (c == '\\') {
				p->state = P_QUOTED_ESCAPE;
				break;
			}
			FAIL(IMAP_PERR_BAD_QUOTED);
		}
		case P_QUOTED_ESCAPE:
			/* RFC 3501 §9: only '"' and '\' may be escaped. */
			if (c != '"' && c != '\\')
				FAIL(IMAP_PERR_BAD_QUOTED);
			buf_append(&p->token, &c, 1);
			p->state = P_QUOTED;
			break;
		case P_LIT_TILDE:
			if (c != '{') {
				/* Not a literal8: '~' is an ordinary ATOM-CHAR
				 * ("LOGIN ~alice ..."), so this is an atom. */
				p->nliterals--;
				buf_append(&p->token, "~", 1);
				p->state = P_ATOM;
				REDISPATCH();
			}
			p->state = P_LIT_LEN;
			break;
		case P_LIT_LEN:
			if (isdigit(c)) {
				uint64_t d = (uint64_t)(c - '0');
				if (p->lit_len > (UINT64_MAX - d) / 10)
					p->lit_overflow = true;
				else
					p->lit_len = p->lit_len * 10 + d;
				p->lit_digits++;
				break;
			}
			if (p->lit_digits == 0 || (c != '}' && c != '+'))
				FAIL(IMAP_PERR_BAD_LITERAL);
			if (c == '+') {
				p->lit_sync = false;
				p->state = P_LIT_CLOSE;
				break;
			}
			__attribute__((fallthrough)); /* c == '}' */
		case P_LIT_CLOSE:
			if (c != '}')
				FAIL(IMAP_PERR_BAD_LITERAL);
			if ((refused = parser_admit_literal(p)) != IMAP_PERR_NONE) {
				/* A synchronising literal's data never comes: the line
				 * ends here. A non-synchronising one's data is on its
				 * way: it is read and discarded with the rest of the
				 * line, unless it is more than the parser may skip,
				 * then the session ends at once. */
				if (!p->lit_sync &&
				    (p->lit_overflow || p->lit_len > parser_skip_budget(p))) {
					*consumed_r = i + 1;
					p->error = IMAP_PERR_FATAL_LITERAL_TOO_BIG;
					return IMAP_PARSE_ERROR;
				}
				FAIL(refused);
			}
			/* LITERAL- (RFC 7888 §4): a non-synchronising literal over
			 * its limit is BAD, and its data, already on its way and
			 * within max_literal, is skipped (parser_seed_tail). */
			if (!p->lit_sync && p->limits.max_nonsync_literal > 0 &&
			    p->lit_len > p->limits.max_nonsync_literal)
				FAIL(IMAP_PERR_NONSYNC_TOO_BIG);
			p->state = P_LIT_CR;
			break;
		case P_LIT_CR:
			if (c == '\r') {
				p->state = P_LIT_LF;
				break;
			}
			__attribute__((fallthrough)); /* a bare LF ends the line too */
		case P_LIT_LF:
			if (c != '\n')
				FAIL(IMAP_PERR_BAD_LITERAL);
			if (p->lit_spool == NULL)
				p->lit_data = arena_alloc(arena, (size_t)p->lit_len + 1);
			p->lit_got = 0;
			p->state = P_LIT_DATA;
			if (p->lit_len == 0)
				parser_finish_literal(p);
			if (p->lit_sync) {
				*consumed_r = i + 1;
				return IMAP_PARSE_LITERAL_CONTINUE;
			}
			break;
		case P_CR:
			if (c != '\n')
				FAIL(IMAP_PERR_SYNTAX);
			goto end_of_line;
		default:
			abort();
		}
		i++;
		continue;

end_of_line:
		i++;
		if (p->depth > 0) {
			*consumed_r = i;
			return parser_fail(p, IMAP_PERR_UNBALANCED, '\n');
		}
		p->cmd.tag = p->tag;
		p->cmd.args = parser_freeze(arena, &p->levels[0]);
		p->cmd.nargs = p->levels[0].count;
		parser_new_command(p);
		p->error = IMAP_PERR_NONE;
		*consumed_r = i;
		return IMAP_PARSE_DONE;
	}
	*consumed_r = i;
	return IMAP_PARSE_NEED_MORE;
#undef FAIL
#undef REDISPATCH
}
