/* ACL identifiers (RFC 4314 §2): whom an ACL entry is for. Pure: no I/O, no
 * allocation; a parsed identifier points into the caller's bytes.
 *
 * RFC 4314 §2 reserves "anyone" for every session and every identifier
 * starting with "-" for negative rights, makes every login an identifier, and
 * leaves all other strings to the implementation. Kairan's forms:
 *
 *   alice            the user whose canonical login is "alice"
 *   group:sales      every member of the LDAP group whose cn is "sales"
 *   anyone           every session (RFC 4314 §2)
 *   authenticated    every logged-in session (Kairan's, as in Dovecot)
 *   -X               negative rights for X, any of the above
 *
 * The keywords and the "group:" prefix are lowercase and exact. A case
 * variant ("Anyone", "GROUP:sales") is refused rather than read as a login:
 * the directory matches logins ignoring case, so "Anyone" could only ever be
 * a typo for "anyone", and storing it as a user entry would silently grant
 * (or, negative, fail to deny) something other than what the client meant. */
#ifndef KAIRAN_ACL_IDENTIFIER_H
#define KAIRAN_ACL_IDENTIFIER_H

#include "acl/acl.h"

/* Longest login or group name in bytes: DIR_LOGIN_MAX (directory/dir.h), so
 * every login the directory accepts can be named in an ACL. */
#define ACL_NAME_MAX 256
/* Longest identifier: "-group:" and a name. */
#define ACL_IDENTIFIER_MAX (7 + ACL_NAME_MAX)

enum acl_id_kind {
	ACL_ID_USER,
	ACL_ID_GROUP,         /* "group:NAME" */
	ACL_ID_ANYONE,
	ACL_ID_AUTHENTICATED,
};

struct acl_identifier {
	enum acl_id_kind kind;
	bool negative;        /* written with a leading "-" (RFC 4314 §2) */
	/* USER: the login; GROUP: the name after "group:"; otherwise NULL/0.
	 * Points into the parsed string, not NUL-terminated. */
	const char *name;
	size_t name_len;
};

enum acl_id_error {
	ACL_ID_OK = 0,
	ACL_ID_EMPTY,         /* "", "-" */
	ACL_ID_TOO_LONG,      /* name over ACL_NAME_MAX bytes */
	ACL_ID_CONTROL,       /* a C0 or C1 control character or DEL (NUL included) */
	ACL_ID_BAD_UTF8,      /* not UTF-8: stray, truncated, overlong, surrogate, > U+10FFFF */
	ACL_ID_BAD_CHAR,      /* a character refused in names, see acl_identifier_parse */
	ACL_ID_RESERVED,      /* "--x", a case variant of a keyword or of "group:" */
	ACL_ID_EMPTY_GROUP,   /* "group:" */
};

/* Parses and validates s[0..len) (from SETACL, DELETEACL, LISTRIGHTS, or an
 * acl row). On ACL_ID_OK fills *id_r, which points into s; otherwise *id_r
 * is untouched and the caller answers BAD (a client's identifier) or treats
 * the row as corrupt.
 *
 * A name (login or group) is non-empty, at most ACL_NAME_MAX bytes of UTF-8
 * without control characters, and does not start with "-" (RFC 4314 §2
 * reserves that for negative rights, so no login can). Also refused, as
 * defence in depth for code that might forget to quote or escape: in every
 * name the IMAP and LDAP-filter metacharacters * % ( ) { } " and backslash;
 * in a login also space and "/" (a login becomes a hierarchy level in
 * "Other Users/<login>/"); in a group name a leading, trailing or doubled
 * space (LDAP ignores such spaces when matching a cn, Kairan compares exactly,
 * so they could only make an entry that never matches). A login the
 * directory accepts but these rules refuse cannot be named in an ACL; that
 * fails closed. */
enum acl_id_error acl_identifier_parse(const char *s, size_t len,
				       struct acl_identifier *id_r);

/* A short English reason for the tagged BAD; never NULL. */
const char *acl_id_error_str(enum acl_id_error e);

/* Writes the identifier's text and a NUL into out[0..size). Returns its
 * length, or 0 if it does not fit (a valid identifier is never empty). For a
 * parsed identifier the text is byte for byte what was parsed: nothing is
 * folded, so the stored form is the form the client sent, as RFC 4314 §3.4
 * wants LISTRIGHTS to echo it. */
size_t acl_identifier_format(const struct acl_identifier *id, char *out, size_t size);

/* True when id is the positive user identifier for login[0..len) exactly:
 * the entry that replaces a mailbox owner's default rights (acl/evaluate.h).
 * Logins compare byte for byte because both sides are canonical: SETACL
 * canonicalises a login through the directory before storing it, and the
 * session holds the directory's canonical login. */
bool acl_identifier_is_user(const struct acl_identifier *id, const char *login, size_t len);

/* Group names compare ignoring ASCII case, because LDAP matches cn with
 * caseIgnoreMatch; bytes outside ASCII compare exactly (no Unicode folding
 * here), so SETACL should store the cn as the directory spells it. */
bool acl_group_name_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
