/* The LMTP command grammar (RFC 2033 §4, RFC 5321 §4.1.1 and §4.1.2,
 * RFC 3030 §2 for BDAT, RFC 6531 §3.3 for SMTPUTF8), apart from any
 * connection: session.c applies what these functions find, and
 * tests/fuzz/fuzz_lmtp.c drives them on arbitrary bytes. Pure: no I/O,
 * no state; only lmtp_parse_path allocates (its result).
 *
 * A function that refuses its input returns the whole reply line
 * ("501 5.5.4 ..."), a static string; NULL means accepted. */
#ifndef KAIRAN_LMTP_PARSE_H
#define KAIRAN_LMTP_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 5321 §4.5.3.1.3: 256 octets of a path. */
#define LMTP_PATH_MAX 256
/* The most digits of a BDAT chunk size: 10^19 - 1 fits in 64 bits. */
#define LMTP_BDAT_DIGITS_MAX 19

enum lmtp_verb {
	LMTP_VERB_LHLO, LMTP_VERB_MAIL, LMTP_VERB_RCPT, LMTP_VERB_DATA, LMTP_VERB_BDAT,
	LMTP_VERB_RSET, LMTP_VERB_NOOP, LMTP_VERB_QUIT, LMTP_VERB_VRFY,
	LMTP_VERB_HELO,          /* HELO or EHLO: refused in LMTP (RFC 2033 §4.1) */
	LMTP_VERB_NOT_OFFERED,   /* known to SMTP, not offered here (EXPN, STARTTLS...) */
	LMTP_VERB_UNKNOWN,
};

/* Splits the command line (NUL-terminated, without its line end) at its
 * first space: the verb (case-insensitive) and *args_r, what follows the
 * space ("" when there is none). The line is modified. */
enum lmtp_verb lmtp_parse_verb(char *line, char **args_r);

/* "KEYWORD:" at the start of args, case-insensitively, then optional
 * spaces (RFC 5321 has none; many clients send one): what follows, or
 * NULL. */
const char *lmtp_after_keyword(const char *args, const char *keyword);

/* "<path>" at *p (RFC 5321 §4.1.2): a new string holding the mailbox
 * without <> and without a source route ("@a,@b:", ignored as Appendix C
 * asks), and *p moved past '>'; NULL when malformed. A path is at most
 * LMTP_PATH_MAX bytes without spaces, controls or '<' outside a quoted
 * local part, and either ASCII or well-formed UTF-8 (RFC 6531 §3.3);
 * *utf8_r tells whether it has bytes outside ASCII (the caller decides
 * whether SMTPUTF8 allows them). */
char *lmtp_parse_path(const char **p, bool *utf8_r);

/* local@domain: one '@' (the last) with something on each side. Whether
 * the address exists is the directory's business. */
bool lmtp_address_ok(const char *a);

/* The MAIL parameters (RFC 5321 §4.1.1.2, "esmtp-param" after the path). */
struct lmtp_mail_params {
	bool smtputf8;           /* RFC 6531 §3.4: SMTPUTF8 */
	bool has_size;           /* RFC 1870: SIZE=n */
	uint64_t size;
};

/* Parses the parameters after MAIL FROM:<path> (p: right after '>').
 * Offered: SIZE=n (a declared size over max gives 552 5.3.4, *fault_r
 * false: the client did nothing wrong), BODY=7BIT, BODY=8BITMIME and
 * SMTPUTF8. Anything else, or a malformed one, is a client fault
 * (*fault_r true). */
const char *lmtp_parse_mail_params(const char *p, uint64_t max, struct lmtp_mail_params *out,
				   bool *fault_r);

/* The arguments of BDAT (RFC 3030 §2): "chunk-size [LAST]", chunk-size
 * 1 to LMTP_BDAT_DIGITS_MAX digits, one space before LAST
 * (case-insensitive). */
const char *lmtp_parse_bdat(const char *args, uint64_t *size_r, bool *last_r);

#endif
