/* The three namespaces of RFC 2342 as Kairan names them (DESIGN.md
 * "Namespaces and shared folders", docs/acl.md):
 *
 *   ""                 personal: the caller's own mailboxes
 *   "Other Users/"     "Other Users/<login>/<name>": what other people share
 *   "Shared/"          "Shared/<team>/<name>": mailboxes of shared accounts
 *
 * Below an owner's root the name is the mailboxes.shared_name of migration
 * 0006: the owner's INBOX is the root itself ("Other Users/alice",
 * "Shared/sales"), "INBOX/X" and a top-level "X" both appear as ".../X".
 *
 * This module only splits and builds names; resolving one to a mailbox is
 * server/imap/rights.c, together with its ACL. */
#ifndef KAIRAN_IMAP_NAMESPACE_H
#define KAIRAN_IMAP_NAMESPACE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/arena.h"

#define IMAP_NS_OTHER_USERS "Other Users"
#define IMAP_NS_SHARED "Shared"

enum imap_namespace {
	IMAP_NS_PERSONAL,
	IMAP_NS_OTHER,        /* "Other Users/..." */
	IMAP_NS_TEAM,         /* "Shared/..." */
};

struct imap_ns_name {
	enum imap_namespace ns;
	/* Outside the personal namespace: the owner's login (NULL when the
	 * name is the namespace prefix alone, "Other Users") and the
	 * shared_name below the owner's root ("" for the root itself). In
	 * the personal namespace name is the whole name. Both in the arena. */
	const char *login;
	const char *name;
};

/* Splits a UTF-8 client name (as imap_mailbox_arg returns it). The
 * prefixes are case-sensitive, as Dovecot's and Cyrus's are. */
void imap_ns_split(struct arena *a, const char *name, size_t len, struct imap_ns_name *r);

/* The client name of another owner's mailbox ("" shared_name: the root),
 * from a. */
const char *imap_ns_join(struct arena *a, bool shared_owner, const char *login,
			 const char *shared_name);

/* Whether a personal name would hide a namespace: "Other Users" and
 * "Shared" themselves (no personal name can start with their prefix,
 * since imap_ns_split sends those elsewhere). */
bool imap_ns_reserved(const char *name, size_t len);

#endif
