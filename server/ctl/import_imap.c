/* Another IMAP server as kairanctl import reads it (docs/migration.md,
 * "From another IMAP server"):
 *
 * - LOGIN (after STARTTLS when the server offers it, for imap://), LIST
 *   and LSUB "" "*": the folders (not \Noselect ones) and subscriptions,
 *   names decoded from modified UTF-7 and their levels joined with "/"
 *   whatever the server's delimiter;
 * - per folder, EXAMINE (UIDVALIDITY, UIDNEXT) and UID FETCH 1:* (UID
 *   FLAGS INTERNALDATE RFC822.SIZE); a message is known by
 *   "imap:UIDVALIDITY:UID", so a folder without UIDVALIDITY is skipped;
 * - the bytes, when the importer asks for a message: UID FETCH of it and
 *   of the next ones not imported yet (up to 50 messages or 16 MB), with
 *   BODY.PEEK[] so that nothing becomes \Seen on the source.
 *
 * A server that lies is an error, never a crash: a FETCH without UID or
 * with a UID not asked for is ignored; a literal beyond max_literal_size
 * or a line beyond IMAP_WIRE_LINE_MAX ends the import with the reason; a
 * message the server does not send is skipped with a warning. */
#include "server/ctl/import_source.h"
#include "server/ctl/imap_wire.h"
#include "server/ctl/ctl.h"
#include "server/imap/datetime.h"
#include "server/imap/mutf7.h"
#include "server/imap/store_args.h"
#include "schema/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#define IMAP_DEFAULT_PORT "143"
#define IMAPS_DEFAULT_PORT "993"
#define IMAP_TIMEOUT_S 120
#define PREFETCH_MESSAGES 50
#define PREFETCH_BYTES (16u << 20)

struct fetched {
	uint32_t uid;
	struct buf raw;
	bool used;
};

struct imp_imap {
	struct imap_wire w;
	struct imp_source *src;
	struct arena *arena;
	size_t selected;                  /* folder index + 1; 0: none */
	struct fetched cache[PREFETCH_MESSAGES];
	size_t ncache;
	size_t cached;                    /* bytes in cache, bounded whatever the server sends */
	char delim;                       /* 0: a flat server */
};

/* --- the URL and the password ------------------------------------------- */

struct imap_url {
	bool tls;
	const char *user, *host, *port;
};

static int parse_url(struct arena *a, const char *url, struct imap_url *u, char *err,
		     size_t errlen)
{
	const char *rest, *at, *colon;
	char *host;
	size_t len;

	u->tls = strncmp(url, "imaps://", 8) == 0;
	rest = url + (u->tls ? 8 : 7);
	at = strrchr(rest, '@');
	if (at == NULL || at == rest)
		return imp_err(err, errlen, "%s: the URL names no user (imap://USER@HOST[:PORT])",
			       url);
	u->user = arena_strndup(a, rest, (size_t)(at - rest));
	if (strpbrk(u->user, "\r\n\"\\") != NULL)
		return imp_err(err, errlen, "%s: a user name with CR, LF, \" or \\", url);
	len = strcspn(at + 1, "/");
	host = arena_strndup(a, at + 1, len);
	if (host[0] == '[') {   /* [IPv6]:port */
		char *close = strchr(host, ']');
		if (close == NULL)
			return imp_err(err, errlen, "%s: unclosed [ in the host", url);
		*close = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
		host++;
	} else {
		colon = strrchr(host, ':');
		if (colon != NULL)
			*(char *)colon = '\0';
	}
	u->host = host;
	u->port = colon != NULL && colon[1] != '\0' ? colon + 1
		  : u->tls ? IMAPS_DEFAULT_PORT : IMAP_DEFAULT_PORT;
	if (u->host[0] == '\0')
		return imp_err(err, errlen, "%s: the URL names no host", url);
	/* "%40" in a user name: user@example.org as a login. */
	for (char *p = (char *)u->user; (p = strstr(p, "%40")) != NULL;) {
		*p = '@';
		memmove(p + 1, p + 3, strlen(p + 3) + 1);
	}
	return 0;
}

static int read_password(struct arena *a, const char *file, const char **pw_r, char *err,
			 size_t errlen)
{
	char line[1024];
	struct termios old, quiet;
	FILE *fp;
	int fd;

	if (file != NULL) {
		fp = fopen(file, "re");
		if (fp == NULL)
			return imp_err(err, errlen, "%s: %s", file, strerror(errno));
		if (fgets(line, sizeof(line), fp) == NULL)
			line[0] = '\0';
		fclose(fp);
	} else {
		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
			return imp_err(err, errlen, "no terminal to ask for the password on:"
				       " give --password-file");
		(void)!write(fd, "Password: ", 10);
		tcgetattr(fd, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
		fp = fdopen(fd, "r");
		if (fp == NULL || fgets(line, sizeof(line), fp) == NULL)
			line[0] = '\0';
		tcsetattr(fd, TCSAFLUSH, &old);
		(void)!write(fd, "\n", 1);
		if (fp != NULL)
			fclose(fp);
		else
			close(fd);
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0')
		return imp_err(err, errlen, "an empty password");
	*pw_r = arena_strndup(a, line, strlen(line));
	explicit_bzero(line, sizeof(line));
	return 0;
}

/* --- folders -------------------------------------------------------------- */

/* A quoted string for a command; NULL when name cannot be one. */
static const char *quote(struct arena *a, const char *name)
{
	struct buf b;
	const char *q;

	if (strpbrk(name, "\r\n") != NULL)
		return NULL;
	buf_init(&b);
	buf_append(&b, "\"", 1);
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_append(&b, "\\", 1);
		buf_append(&b, p, 1);
	}
	buf_append(&b, "\"", 1);
	q = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return q;
}

struct list_ctx {
	struct imp_imap *im;
	bool lsub;
};

/* "* LIST (flags) delim name" */
static void on_list(void *ctx, struct imap_wire *w)
{
	struct list_ctx *lc = ctx;
	struct imp_imap *im = lc->im;
	struct imap_cursor cur;
	struct imap_tok t;
	bool noselect = false;
	const char *remote, *name, *delim;

	imap_cursor_init(&cur, buf_at(&w->resp, 0), w->resp.len);
	imap_next(&cur);
	t = imap_next(&cur);
	if (!imap_tok_is(t, lc->lsub ? "LSUB" : "LIST") || imap_next(&cur).kind != IMAP_TOK_OPEN)
		goto done;
	while ((t = imap_next(&cur)).kind == IMAP_TOK_ATOM)
		noselect = noselect || imap_tok_is(t, "\\Noselect") || imap_tok_is(t, "\\NonExistent");
	if (t.kind != IMAP_TOK_CLOSE)
		goto done;
	t = imap_next(&cur);
	delim = imap_tok_text(im->arena, t);
	if (delim != NULL && strlen(delim) == 1)
		im->delim = delim[0];
	remote = imap_tok_text(im->arena, imap_next(&cur));
	if (remote == NULL)
		goto done;
	name = strcasecmp(remote, "INBOX") == 0 ? "INBOX"
	       : imp_store_name(im->arena, remote, im->delim, false);
	if (name == NULL) {
		ctl_warn("%s: the folder \"%s\" has no name here, skipped", w->peer, remote);
		im->src->skipped++;
	} else if (lc->lsub) {
		imp_subscribe(im->arena, im->src, name);
	} else if (!noselect) {
		imp_folder(im->arena, im->src, name)->remote = remote;
	}
done:
	buf_free(&cur.scratch);
}

/* --- messages ----------------------------------------------------------- */

struct scan_ctx {
	struct imp_imap *im;
	size_t folder;
	uint32_t uidvalidity;
	uint64_t uidnext;
	int64_t exists;           /* -1: not said */
	size_t bad;
};

/* EXAMINE's "* OK [UIDVALIDITY n]" and "[UIDNEXT n]". */
static void on_examine(void *ctx, struct imap_wire *w)
{
	struct scan_ctx *sc = ctx;
	const char *r = buf_at(&w->resp, 0);
	const char *code;
	unsigned long long v;
	int end = 0;

	/* %n: sscanf counts "* 0 RECENT" as one conversion too. */
	if (sscanf(r, "* %llu EXISTS%n", &v, &end) == 1 && end > 0)
		sc->exists = (int64_t)v;
	if ((code = strstr(r, "[UIDVALIDITY ")) != NULL &&
	    sscanf(code + 13, "%llu", &v) == 1 && v > 0 && v <= UINT32_MAX)
		sc->uidvalidity = (uint32_t)v;
	if ((code = strstr(r, "[UIDNEXT ")) != NULL && sscanf(code + 9, "%llu", &v) == 1 &&
	    v > 0 && v <= UINT32_MAX + 1ull)
		sc->uidnext = v;
}

static void on_scan_fetch(void *ctx, struct imap_wire *w)
{
	struct scan_ctx *sc = ctx;
	struct imp_imap *im = sc->im;
	struct imp_folder *f = &im->src->folders[sc->folder];
	struct imap_cursor cur;
	struct imap_fetch_item it;
	struct imp_msg *m;

	imap_cursor_init(&cur, buf_at(&w->resp, 0), w->resp.len);
	if (!imap_fetch_parse(&cur, &it)) {
		if (strstr(buf_at(&w->resp, 0), " FETCH ") != NULL)
			sc->bad++;
		buf_free(&cur.scratch);
		return;
	}
	if (it.uid <= 0 || it.uid > UINT32_MAX) {
		sc->bad++;
		buf_free(&cur.scratch);
		return;
	}
	m = imp_msg_add(im->arena, f);
	m->kind = IMP_IMAP;
	m->imap = im;
	m->folder = sc->folder;
	m->uid = (uint32_t)it.uid;
	m->flags = it.flags;
	m->len = it.size > 0 ? (size_t)it.size : 0;
	m->internaldate = it.date >= 0 ? it.date : 0;
	m->source = arena_printf(im->arena, "imap:%u:%u", sc->uidvalidity, m->uid);
	for (size_t i = 0; i < it.nkeywords; i++)
		imp_keyword_add(im->arena, m, arena_strndup(im->arena, it.keywords[i].p,
							    it.keywords[i].len));
	buf_free(&cur.scratch);
}

static int select_folder(struct imp_imap *im, size_t folder, struct scan_ctx *sc,
			 char *err, size_t errlen)
{
	struct imp_folder *f = &im->src->folders[folder];
	const char *q = quote(im->arena, f->remote);

	memset(sc, 0, sizeof(*sc));
	sc->exists = -1;
	sc->im = im;
	sc->folder = folder;
	if (q == NULL)
		return imp_err(err, errlen, "%s: a folder name with CR or LF", im->w.peer);
	im->selected = 0;
	if (imap_wire_command(&im->w, arena_printf(im->arena, "EXAMINE %s", q), on_examine, sc,
			      err, errlen) < 0)
		return -1;
	im->selected = folder + 1;
	return 0;
}

/* Drops duplicated UIDs (a server that lies): the first stays. */
static int uid_cmp(const void *a, const void *b)
{
	const struct imp_msg *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int scan_folder(struct imp_imap *im, size_t folder, char *err, size_t errlen)
{
	struct imp_folder *f = &im->src->folders[folder];
	struct scan_ctx sc;
	size_t kept = 0;

	if (select_folder(im, folder, &sc, err, errlen) < 0)
		return -1;
	if (sc.uidvalidity == 0) {
		ctl_warn("%s: %s has no UIDVALIDITY: its messages cannot be known again, skipped",
			 im->w.peer, f->name);
		im->src->skipped++;
		return 0;
	}
	f->uidvalidity = sc.uidvalidity;
	f->uidnext = sc.uidnext;
	/* Some servers answer UID FETCH 1:* in an empty mailbox with NO. */
	if (sc.exists == 0)
		return 0;
	if (imap_wire_command(&im->w, "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)",
			      on_scan_fetch, &sc, err, errlen) < 0)
		return -1;
	if (f->n > 0)  /* qsort(NULL, 0, ...) is undefined */
		qsort(f->msgs, f->n, sizeof(*f->msgs), uid_cmp);
	for (size_t i = 0; i < f->n; i++)
		if (kept == 0 || f->msgs[i].uid != f->msgs[kept - 1].uid)
			f->msgs[kept++] = f->msgs[i];
		else
			sc.bad++;
	f->n = kept;
	if (sc.bad > 0)
		ctl_warn("%s: %s: %zu FETCH responses without a usable UID, ignored", im->w.peer,
			 f->name, sc.bad);
	if (f->uidnext != 0 && f->n > 0 && f->msgs[f->n - 1].uid >= f->uidnext)
		f->uidnext = (uint64_t)f->msgs[f->n - 1].uid + 1;  /* UIDNEXT lied */
	return 0;
}

/* "* CAPABILITY ... STARTTLS ..." */
static void on_capability(void *ctx, struct imap_wire *w)
{
	struct imap_cursor cur;
	struct imap_tok t;
	bool *starttls = ctx;

	imap_cursor_init(&cur, buf_at(&w->resp, 0), w->resp.len);
	imap_next(&cur);
	if (imap_tok_is(imap_next(&cur), "CAPABILITY"))
		while ((t = imap_next(&cur)).kind == IMAP_TOK_ATOM)
			*starttls = *starttls || imap_tok_is(t, "STARTTLS");
	buf_free(&cur.scratch);
}

int imp_imap_scan(struct arena *a, const struct imp_imap_settings *st, struct imp_source *src,
		  struct imp_imap **imap_r, char *err, size_t errlen)
{
	struct net_client_tls tls = { st->ca_file, st->insecure };
	struct imp_imap *im;
	struct imap_url u;
	struct list_ctx lc;
	const char *pw;

	memset(&u, 0, sizeof(u));
	*imap_r = NULL;
	if (parse_url(a, st->url, &u, err, errlen) < 0 ||
	    read_password(a, st->password_file, &pw, err, errlen) < 0)
		return -1;
	im = xcalloc(1, sizeof(*im));
	im->src = src;
	im->arena = a;
	im->w.peer = u.host;
	im->w.literal_max = src->max_size;
	buf_init(&im->w.in);
	buf_init(&im->w.resp);
	*imap_r = im;
	if (net_client_connect(u.host, u.port, u.tls ? &tls : NULL, IMAP_TIMEOUT_S, &im->w.c, err,
			       errlen) < 0 ||
	    imap_wire_response(&im->w, err, errlen) < 0)
		return -1;
	if (strncasecmp(buf_at(&im->w.resp, 0), "* OK", 4) != 0)
		return imp_err(err, errlen, "%s greeted with: %.200s", u.host, buf_at(&im->w.resp, 0));
	if (!u.tls) {
		bool starttls = false;
		if (imap_wire_command(&im->w, "CAPABILITY", on_capability, &starttls, err, errlen) < 0)
			return -1;
		if (starttls && (imap_wire_command(&im->w, "STARTTLS", NULL, NULL, err, errlen) < 0 ||
				 net_client_starttls(im->w.c, &tls, err, errlen) < 0))
			return -1;
		if (!starttls)
			ctl_warn("%s: no STARTTLS: the password goes in clear text", u.host);
	}
	if (imap_wire_command_literal(&im->w, arena_printf(a, "LOGIN %s", quote(a, u.user)), pw,
				      "", err, errlen) < 0)
		return -1;
	lc.im = im;
	lc.lsub = false;
	if (imap_wire_command(&im->w, "LIST \"\" \"*\"", on_list, &lc, err, errlen) < 0)
		return -1;
	lc.lsub = true;
	if (imap_wire_command(&im->w, "LSUB \"\" \"*\"", on_list, &lc, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < src->nfolders; i++)
		if (scan_folder(im, i, err, errlen) < 0)
			return -1;
	return 0;
}

/* --- reading the bytes ---------------------------------------------------- */

static void on_body(void *ctx, struct imap_wire *w)
{
	struct imp_imap *im = ctx;
	struct imap_cursor cur;
	struct imap_fetch_item it;

	imap_cursor_init(&cur, buf_at(&w->resp, 0), w->resp.len);
	/* RFC822.SIZE bounded what was asked for; bodies beyond twice that
	 * (a server that lied about sizes) are dropped, and fetched again
	 * when the importer comes to them. */
	if (imap_fetch_parse(&cur, &it) && it.uid > 0 && it.body.kind == IMAP_TOK_STRING &&
	    (im->cached == 0 || im->cached + it.body.len <= 2 * PREFETCH_BYTES))
		for (size_t i = 0; i < im->ncache; i++)
			if (im->cache[i].uid == it.uid && im->cache[i].raw.len == 0 &&
			    !im->cache[i].used) {
				imp_crlf_append(&im->cache[i].raw, it.body.p, it.body.len);
				im->cached += im->cache[i].raw.len;
			}
	buf_free(&cur.scratch);
}

/* Fetches m and the next messages of its folder not imported yet. */
static int prefetch(struct imp_imap *im, const struct imp_msg *m, char *err, size_t errlen)
{
	struct imp_folder *f = &im->src->folders[m->folder];
	const struct imp_msg *end = f->msgs + f->n;
	struct buf cmd;
	size_t bytes = 0;
	int r;

	for (size_t i = 0; i < im->ncache; i++)
		buf_free(&im->cache[i].raw);
	im->ncache = 0;
	im->cached = 0;
	if (im->selected != m->folder + 1) {
		struct scan_ctx sc;
		if (select_folder(im, m->folder, &sc, err, errlen) < 0)
			return -1;
		if (sc.uidvalidity != f->uidvalidity)
			return imp_err(err, errlen, "%s: the UIDVALIDITY of %s changed during the"
				       " import", im->w.peer, f->name);
	}
	buf_init(&cmd);
	buf_append_str(&cmd, "UID FETCH ");
	for (const struct imp_msg *p = m; p < end && im->ncache < PREFETCH_MESSAGES &&
	     (im->ncache == 0 || bytes + p->len <= PREFETCH_BYTES); p++) {
		if (p->known)
			continue;
		buf_appendf(&cmd, "%s%u", im->ncache > 0 ? "," : "", p->uid);
		im->cache[im->ncache].uid = p->uid;
		im->cache[im->ncache].used = false;
		buf_init(&im->cache[im->ncache++].raw);
		bytes += p->len;
	}
	buf_append_str(&cmd, " (UID BODY.PEEK[])");
	buf_append(&cmd, "", 1);
	r = imap_wire_command(&im->w, (const char *)cmd.data, on_body, im, err, errlen);
	buf_free(&cmd);
	return r;
}

int imp_imap_message(const struct imp_msg *m, size_t max, struct buf *out,
		     char *err, size_t errlen)
{
	struct imp_imap *im = m->imap;
	struct fetched *hit = NULL;

	for (size_t i = 0; i < im->ncache && hit == NULL; i++)
		if (im->cache[i].uid == m->uid && !im->cache[i].used && im->cache[i].raw.len > 0)
			hit = &im->cache[i];
	if (hit == NULL) {
		if (prefetch(im, m, err, errlen) < 0)
			return -2;  /* the connection: the import cannot go on */
		for (size_t i = 0; i < im->ncache && hit == NULL; i++)
			if (im->cache[i].uid == m->uid)
				hit = &im->cache[i];
	}
	if (hit == NULL || hit->raw.len == 0)
		return imp_err(err, errlen, "%s: %s: the server sent no BODY[] for UID %u",
			       im->w.peer, im->src->folders[m->folder].name, m->uid);
	hit->used = true;
	im->cached -= hit->raw.len;
	if (hit->raw.len > max)
		return imp_err(err, errlen, "%s: UID %u is larger than max_literal_size", im->w.peer,
			       m->uid);
	buf_append(out, hit->raw.data, hit->raw.len);
	buf_free(&hit->raw);
	return 0;
}

void imp_imap_close(struct imp_imap **imp)
{
	struct imp_imap *im = *imp;

	if (im == NULL)
		return;
	if (im->w.c != NULL) {
		char err[64];
		(void)imap_wire_command(&im->w, "LOGOUT", NULL, NULL, err, sizeof(err));
		net_client_close(&im->w.c);
	}
	for (size_t i = 0; i < im->ncache; i++)
		buf_free(&im->cache[i].raw);
	buf_free(&im->w.in);
	buf_free(&im->w.resp);
	free(im);
	*imp = NULL;
}
