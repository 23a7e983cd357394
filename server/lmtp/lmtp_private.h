/* The parts of server/lmtp/ shared by conn.c (the connection on the loop),
 * session.c (commands, in the loop), recipient.c (RCPT look-ups, on a
 * worker) and deliver.c (the delivery, on a worker). */
#ifndef KAIRAN_LMTP_PRIVATE_H
#define KAIRAN_LMTP_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "server/lmtp/data.h"
#include "server/lmtp/delivery.h"
#include "server/lmtp/parse.h"
#include "server/lmtp/lmtp.h"
#include "server/worker.h"
#include "server/core/buf.h"
#include "server/net/conn.h"
#include "server/net/loop.h"

/* RFC 5321 §4.5.3.1.4 and §4.5.3.1.6 give 512 and 1000 octets; commands
 * up to the text-line size, so long parameters still fit. */
#define LMTP_COMMAND_MAX 1000
/* RFC 5321 §4.5.3.2.7: the server waits 5 minutes for the next command. */
#define LMTP_TIMEOUT_MS (300 * 1000)

enum lmtp_job_kind { LMTP_JOB_RCPT, LMTP_JOB_DELIVER };

struct spool;

struct lmtp_conn {
	struct net_watch watch;         /* first: the loop hands us this pointer */
	struct server *srv;
	struct net_conn *conn;
	struct worker_job job;
	struct lmtp_conn *prev, *next;  /* srv->lmtp_conns, or srv->lmtp_dead */

	struct buf in, out;
	size_t out_pos;
	bool busy, eof, closed, close_after_flush;
	uint64_t last_activity_ms;
	unsigned bad_commands;

	/* The transaction (RFC 5321 §3.3). */
	bool greeted;                   /* LHLO seen */
	bool have_mail;                 /* MAIL FROM accepted */
	char *sender;                   /* its reverse-path, "" for <> */
	bool smtputf8;                  /* MAIL ... SMTPUTF8 (RFC 6531 §3.4) */
	struct lmtp_rcpt *rcpts;        /* accepted recipients */
	size_t nrcpts, rcpt_cap;
	bool in_data;
	/* BDAT (RFC 3030): chunking, a message is being sent in chunks (DATA
	 * and RCPT are refused until BDAT LAST or RSET); in_chunk, the bytes
	 * of the current chunk are being read, chunk_left of them still to
	 * come; chunk_refusal, the reply once a refused chunk has been read
	 * (and thrown away) to stay in step with the client. */
	bool chunking, in_chunk, chunk_last;
	uint64_t chunk_left, chunk_size;
	const char *chunk_refusal;
	struct lmtp_data data;
	struct buf message;             /* "Return-Path: ..." and the message */
	/* A message from literal_spool_threshold on: its bytes so far, the
	 * rest still gathering in message (docs/architecture.md, "Big
	 * messages"); spool_failed when no spool could be made (the message
	 * is read to its end, not kept, and deferred). */
	struct spool *spool;
	bool spool_failed;

	/* The job a worker runs: its kind, the recipient it looks up, and the
	 * replies it writes (moved to out in the loop). */
	enum lmtp_job_kind job_kind;
	struct lmtp_rcpt pending;
	struct buf reply;
};

/* session.c */
void lmtp_greeting(struct lmtp_conn *c);
/* Runs the commands (and DATA) in c->in while c is free; returns the bytes
 * used. */
size_t lmtp_process(struct lmtp_conn *c, const char *p, size_t len);
/* Forgets the transaction (RSET, after DATA, LHLO). */
void lmtp_reset(struct lmtp_conn *c);
/* In the loop, after a job: its replies, and the transaction moves on. */
void lmtp_job_finished(struct lmtp_conn *c);
void lmtp_reply(struct lmtp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* deliver.c, on a worker */
void lmtp_job_run(struct worker_job *job, struct imap_backend *be);
/* Appends "CODE <address> TEXT" to c->reply: a worker's reply about one
 * recipient. */
void lmtp_rcpt_reply(struct lmtp_conn *c, const char *code, const char *address, const char *text);


/* conn.c */
void lmtp_submit(struct lmtp_conn *c, enum lmtp_job_kind kind);

#endif
