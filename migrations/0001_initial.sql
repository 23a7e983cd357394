-- 0001_initial: the Kairan data model (see DESIGN.md, "Data model").
--
-- kairanctl migrate runs this file inside one transaction together with its
-- schema_migrations row, so it must not contain BEGIN/COMMIT (the embedding
-- script refuses them).  Later migrations add to what is here; nothing below
-- is meant to be rewritten, so the shapes are chosen for the features we know
-- are coming (CONDSTORE/QRESYNC, RFC 4314 ACLs, per-user \Seen, quotas, GC of
-- message content).
--
-- Conventions:
--  * Ids are bigserial: never reused, never shown to clients.
--  * IMAP 32-bit quantities (UIDs, UIDVALIDITY) live in bigint with CHECKs,
--    because PostgreSQL has no unsigned 32-bit type and integer would stop
--    at 2^31-1.
--  * Names that IMAP compares byte-wise (mailbox names, subscriptions) use
--    COLLATE "C": ordering and equality then do not depend on the cluster's
--    locale, and a btree on them serves prefix searches (LIKE 'a/b/%'), which
--    LIST and RENAME of a hierarchy need.
--  * What the wire sends verbatim and may contain arbitrary 8-bit bytes is
--    bytea, not text: text must be valid UTF-8 and cannot hold NUL, and raw
--    header fields are neither guaranteed.

-- UIDVALIDITY comes from one global sequence, so a mailbox that is deleted
-- and created again under the same name (or renamed over) never gets a value
-- that a client may have cached.  The sequence starts at the current Unix
-- time instead of 1: if the database is ever rebuilt from scratch (restore
-- of an old dump into a new cluster, re-initialisation), new mailboxes still
-- get values above anything handed out before, like servers that derive
-- UIDVALIDITY from the clock.  Epoch seconds stay below 2^32 until 2106 and
-- leave ~2.5 billion mailbox creations of headroom.
CREATE SEQUENCE mailbox_uidvalidity_seq AS bigint MINVALUE 1 MAXVALUE 4294967295 NO CYCLE;
SELECT setval('mailbox_uidvalidity_seq', extract(epoch FROM now())::bigint);

-- One row per owner of mailboxes: a person from LDAP, provisioned on first
-- login or first delivery, or a shared owner (a team's "Shared/<name>")
-- created by kairanctl.  Rows are never created from LDAP searches alone, so
-- the table only holds accounts that have actually been used.
CREATE TABLE accounts (
	id          bigserial PRIMARY KEY,
	-- The name the user logs in with, already normalised by the caller (the
	-- directory layer decides case folding); also the quota root name and
	-- the "<login>" in "Other Users/<login>/...".  One namespace for users
	-- and shared owners, so "Shared/sales" and a user "sales" cannot both
	-- exist with different meanings.
	login       text NOT NULL UNIQUE CHECK (login <> ''),
	-- Last DN seen for a user at login; NULL for shared owners, which need
	-- not exist in the directory.  Kept for admin tools and for finding the
	-- entry again if its login attribute is renamed.
	ldap_dn     text,
	-- 'user': a person who logs in; 'shared': owns team mailboxes and never
	-- logs in.  Mailboxes of shared owners default to per-user \Seen.
	kind        text NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'shared')),
	created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per mailbox.  This row is also the lock that serialises a
-- mailbox's writers: every change allocates UIDs and/or a modseq by
-- UPDATE ... SET uidnext = uidnext + n, highestmodseq = highestmodseq + 1
-- RETURNING in the same transaction that writes the message rows, so readers
-- never block and commit order equals modseq order.
CREATE TABLE mailboxes (
	id              bigserial PRIMARY KEY,
	-- Deleting an account must be a deliberate act (kairanctl removes the
	-- mailboxes first), hence no CASCADE: a stray DELETE on accounts cannot
	-- silently take a user's mail with it.
	owner_id        bigint NOT NULL REFERENCES accounts (id),
	-- Full name within the owner's personal namespace, UTF-8 (IMAP's
	-- modified UTF-7 is decoded at the protocol boundary), '/' as the
	-- hierarchy delimiter, without namespace prefix ("Other Users/..." and
	-- "Shared/..." are views of other owners' rows).  INBOX is stored as
	-- exactly 'INBOX' so the unique constraint also covers its
	-- case-insensitivity.  No empty hierarchy levels.
	name            text COLLATE "C" NOT NULL
	                CHECK (name <> '' AND name NOT LIKE '/%' AND name NOT LIKE '%/'
	                       AND name NOT LIKE '%//%'),
	uidvalidity     bigint NOT NULL DEFAULT nextval('mailbox_uidvalidity_seq')
	                CHECK (uidvalidity BETWEEN 1 AND 4294967295),
	-- The next UID to assign.  4294967296 means the UID space is exhausted
	-- and the mailbox must be recreated (new UIDVALIDITY) to accept mail.
	uidnext         bigint NOT NULL DEFAULT 1 CHECK (uidnext BETWEEN 1 AND 4294967296),
	-- RFC 7162 mod-sequence of the last change (message added, flags
	-- changed, message expunged).  Starts at 1 because CONDSTORE requires
	-- HIGHESTMODSEQ to be non-zero; 63-bit per the RFC, which bigint is.
	highestmodseq   bigint NOT NULL DEFAULT 1 CHECK (highestmodseq >= 1),
	-- RFC 6154 attributes ('\Sent', '\Trash', ...).  An array rather than a
	-- single value because RFC 6154 lets one mailbox carry several (CREATE
	-- ... USE (\Sent \Archive)).
	special_use     text[] NOT NULL DEFAULT '{}',
	-- true: \Seen is kept per reader in the seen table (the default for
	-- mailboxes of shared owners, set by whoever creates them); false: \Seen
	-- is the common bit in mailbox_messages.flags, as for a personal
	-- mailbox.  The column has no default from kind on purpose: an owner may
	-- switch it, and the creator decides explicitly.
	seen_per_user   boolean NOT NULL DEFAULT false,
	created_at      timestamptz NOT NULL DEFAULT now(),
	UNIQUE (owner_id, name)
);

-- Message content, stored once however many mailboxes hold it (single
-- instance store), keyed by the SHA-256 of the raw bytes.  Rows are
-- immutable after their derived columns are computed.  Content no longer
-- referenced by mailbox_messages is garbage-collected; the foreign key from
-- mailbox_messages (without CASCADE) is what makes that safe against a
-- concurrent delivery that is just reusing the row: either the collector's
-- DELETE or the delivery's INSERT waits for the other, and the loser fails
-- instead of leaving a dangling reference.
CREATE TABLE messages (
	id              bigserial PRIMARY KEY,
	sha256          bytea NOT NULL UNIQUE CHECK (octet_length(sha256) = 32),
	-- The RFC 5322 bytes exactly as received: FETCH BODY[] and every
	-- partial and section is served from these bytes.  lz4 is several
	-- times faster than TOAST's default pglz at a similar ratio on mail.
	raw             bytea COMPRESSION lz4 NOT NULL,
	-- RFC822.SIZE, kept so that it is answered without detoasting raw.
	size            bigint NOT NULL
	                CONSTRAINT messages_size_is_raw_length CHECK (size = octet_length(raw)),
	-- Precomputed when the message is stored, so FETCH does not reparse:
	-- the ENVELOPE, BODYSTRUCTURE and BODY values in IMAP syntax, ready to be
	-- written to the client.  bytea because they quote raw header bytes,
	-- which need not be UTF-8.  NULL while mime_version is 0.
	envelope        bytea,
	bodystructure   bytea,
	body            bytea,
	-- Byte ranges (offset, length in raw) of every MIME part's header and
	-- body keyed by section number, so BODY[1.2.MIME] or BINARY[2] are one
	-- substring() away.  The exact JSON layout is owned by server/mime and
	-- documented there; jsonb keeps it readable in psql and lets the layout
	-- grow without a migration.
	parts           jsonb,
	-- Which version of the MIME code computed the columns above; 0 = not
	-- computed yet.  A kairand whose parser is newer (a bug fix that changes
	-- BODYSTRUCTURE, say) can recompute rows lazily instead of needing a
	-- migration that reparses the whole store.
	mime_version    integer NOT NULL DEFAULT 0 CHECK (mime_version >= 0),
	-- When the content was first stored; the garbage collector leaves young
	-- unreferenced rows alone for a grace period.
	created_at      timestamptz NOT NULL DEFAULT now()
);
-- Decoded text for SEARCH (and pg_trgm, with its index) is added by the
-- migration that implements SEARCH, in whatever shape it needs.

-- The contents of each mailbox: (mailbox, uid) -> message plus the per-
-- mailbox metadata IMAP attaches to a message.  The same content may appear
-- in many mailboxes, and twice in one (two APPENDs of identical bytes get two
-- UIDs).
CREATE TABLE mailbox_messages (
	mailbox_id   bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid          bigint NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
	message_id   bigint NOT NULL REFERENCES messages (id),
	-- System flags as a bitmask, so STORE is one expression
	-- (flags | add) & ~remove and the row stays narrow:
	--   1 \Seen  2 \Answered  4 \Flagged  8 \Deleted  16 \Draft
	-- (the same values as enum db_flag in schema/db.h).  In a mailbox with
	-- seen_per_user the 1 bit is unused; the seen table is the truth there.
	-- \Recent is not a stored flag (it is gone in IMAP4rev2; IMAP4rev1's
	-- version is session state).
	flags        smallint NOT NULL DEFAULT 0 CHECK (flags BETWEEN 0 AND 31),
	-- User-defined keywords (atoms such as $Forwarded, $Junk), as sent by
	-- the client.
	keywords     text[] NOT NULL DEFAULT '{}',
	-- Mod-sequence of the last change to this row (RFC 7162).
	modseq       bigint NOT NULL CHECK (modseq >= 1),
	-- INTERNALDATE: APPEND's date-time argument or the delivery time.
	internaldate timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (mailbox_id, uid)
);
-- "What changed since modseq N" (CONDSTORE, QRESYNC, waking IDLE sessions).
CREATE INDEX mailbox_messages_modseq_idx ON mailbox_messages (mailbox_id, modseq);
-- The garbage collector's "is this content still referenced?" and the
-- foreign key check when a messages row is deleted.
CREATE INDEX mailbox_messages_message_idx ON mailbox_messages (message_id);

-- Expunged UIDs with the modseq of their expunge, so that other sessions
-- learn what vanished (EXPUNGE responses) and QRESYNC can answer VANISHED
-- (EARLIER).  A UID is expunged once, hence the primary key.  Old rows may
-- be pruned later; QRESYNC then falls back to a full resync for clients
-- older than the prune point.
CREATE TABLE expunges (
	mailbox_id  bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid         bigint NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
	modseq      bigint NOT NULL CHECK (modseq >= 1),
	PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX expunges_modseq_idx ON expunges (mailbox_id, modseq);

-- Per-user \Seen for mailboxes with seen_per_user.  One row per (reader,
-- mailbox) holding the set of seen UIDs as a multirange, rather than one row
-- per (reader, message): readers mostly read mail in order, so the set is
-- typically a handful of ranges, and a team mailbox with 50 readers and
-- 100,000 messages stays at 50 small rows instead of 5 million.  Cyrus and
-- Dovecot keep seen state as UID ranges for the same reason.  Updates are
-- uids = uids + '{[a,b]}' / uids - '{[a,b]}'; the row lock serialises one
-- reader's updates on one mailbox, which is harmless.
--
-- CONDSTORE: a change to someone's \Seen also raises the modseq of the
-- affected mailbox_messages rows (and highestmodseq), so "changed since"
-- queries need no per-user modseq; other readers then receive a FETCH with
-- their own, unchanged flags, which RFC 7162 permits.
--
-- Expunged UIDs may stay in the set: UIDs are never reused within a
-- UIDVALIDITY.
CREATE TABLE seen (
	account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	mailbox_id  bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uids        int8multirange NOT NULL DEFAULT '{}',
	PRIMARY KEY (account_id, mailbox_id)
);
-- Deleting a mailbox cascades here; this index makes that cheap.
CREATE INDEX seen_mailbox_idx ON seen (mailbox_id);

-- RFC 4314 access control entries.  The identifier is stored in the form
-- the protocol uses: a login, 'group:NAME' (an LDAP group), 'anyone',
-- 'authenticated', each optionally prefixed by '-' for negative rights.
-- Keeping the '-' inside the identifier (rather than a separate boolean)
-- makes "fred" and "-fred" two independent entries, exactly as SETACL and
-- GETACL treat them, so the primary key needs no extra column.  The owner's
-- implicit rights are not stored; acl/ adds them.
CREATE TABLE acl (
	mailbox_id  bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	identifier  text NOT NULL CHECK (identifier NOT IN ('', '-')),
	-- Right letters as in the protocol ("lrswipkxtea"); RFC 4314 rights
	-- are lowercase letters and digits.  An entry with no rights is deleted,
	-- not stored empty.
	rights      text NOT NULL CHECK (rights ~ '^[a-z0-9]+$'),
	PRIMARY KEY (mailbox_id, identifier)
);
-- "Which mailboxes are shared with me or my groups" for LIST of the
-- "Other Users/" and "Shared/" namespaces.
CREATE INDEX acl_identifier_idx ON acl (identifier);

-- LSUB / LIST (SUBSCRIBED).  Names are stored as the client sees them,
-- namespace prefix included ("Shared/sales/2024"), and are not foreign keys:
-- IMAP allows subscribing to a mailbox that does not exist (yet, or any
-- more), and a subscription survives DELETE + CREATE of its mailbox.
CREATE TABLE subscriptions (
	account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name        text COLLATE "C" NOT NULL CHECK (name <> ''),
	PRIMARY KEY (account_id, name)
);

-- RFC 9208 quota limits.  The quota root is the account (its login is the
-- root name) and covers all of its mailboxes.  One row per limited resource
-- so that new resources need no migration; no row means no limit beyond
-- what kairan.conf sets as default.  Usage is computed or tracked by the
-- migration that implements QUOTA.
CREATE TABLE quotas (
	account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	-- 'STORAGE' (in units of 1024 octets, as RFC 9208 counts it),
	-- 'MESSAGE', 'MAILBOX', ...
	resource     text NOT NULL CHECK (resource ~ '^[A-Z][A-Z0-9-]*$'),
	quota_limit  bigint NOT NULL CHECK (quota_limit >= 0),
	PRIMARY KEY (account_id, resource)
);
