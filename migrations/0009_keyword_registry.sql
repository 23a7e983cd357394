-- 0009_keyword_registry: the keywords of each mailbox, kept once per
-- mailbox instead of found by reading every message (docs/schema.md,
-- "Keywords", docs/protocol.md).
--
-- RFC 3501 §7.2.6: a client learns the keywords it may meet in FETCH
-- responses from FLAGS (and PERMANENTFLAGS). SELECT read them from the
-- keywords of every message (0005's partial index made that a scan of the
-- messages that carry any), and a session had no way to learn a keyword
-- another session created after its last change poll. Here every write
-- that puts a keyword on a message (STORE, APPEND, COPY/MOVE into the
-- target) registers the keywords new to the mailbox in the same statement,
-- at that statement's modseq, so SELECT reads the list from this table and
-- the change poll learns new keywords with one probe of the modseq index.
--
-- A row is written only when a keyword is new to the mailbox, not on every
-- STORE. Writers hold the mailbox row lock when they register; two sessions
-- adding the same new keyword both see it as new (the snapshot of the
-- second predates the first's commit) and the second's INSERT ... ON
-- CONFLICT DO NOTHING skips it, so neither fails.
--
-- Keywords stay registered when the last message carrying them is expunged
-- or loses them (as in Dovecot): clients keep their labels, and FLAGS never
-- shrinks under a selected session, which RFC 3501 would otherwise make
-- awkward to announce. Deleting the mailbox (or turning it into a
-- \Noselect placeholder) drops them.
CREATE TABLE mailbox_keywords (
	mailbox_id  bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	-- SHA-256 of the keyword's bytes, the key: a keyword may be as long as
	-- a command line (max_line_length, 64 KiB by default) while a btree
	-- entry holds at most about 2.7 kB. Writers compute it with
	-- sha256(convert_to(keyword, 'UTF8')) (the identity on a UTF8 database;
	-- keywords are ASCII atoms anyway); the CHECK keeps every writer honest.
	digest      bytea NOT NULL,
	-- As the client spelled it, compared exactly, like the keywords
	-- stored on the messages (mailbox_messages.keywords).
	keyword     text NOT NULL CHECK (keyword <> ''),
	-- The modseq of the statement that registered it: a session whose
	-- known modseq is below has not been told of it yet.
	modseq      bigint NOT NULL CHECK (modseq >= 1),
	PRIMARY KEY (mailbox_id, digest),
	CONSTRAINT mailbox_keywords_digest CHECK (digest = sha256(convert_to(keyword, 'UTF8')))
);
-- "Keywords registered since modseq N" (the change poll after every
-- command): one index probe that usually finds nothing.
CREATE INDEX mailbox_keywords_modseq_idx ON mailbox_keywords (mailbox_id, modseq);

-- Every keyword in use today, registered at the oldest modseq of a message
-- carrying it (at or below the mailbox's highestmodseq, so no session takes
-- it for news).
INSERT INTO mailbox_keywords (mailbox_id, digest, keyword, modseq)
	SELECT mm.mailbox_id, sha256(convert_to(k, 'UTF8')), k, min(mm.modseq)
	FROM mailbox_messages mm, unnest(mm.keywords) k
	WHERE mm.keywords <> '{}' AND k <> ''
	GROUP BY mm.mailbox_id, k;

-- SELECT no longer scans the messages that carry keywords.
DROP INDEX mailbox_messages_keywords_idx;
