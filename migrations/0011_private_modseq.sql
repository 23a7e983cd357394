-- 0011_private_modseq: a reader's \Seen is a change for that reader only
-- (docs/architecture.md, "Design decisions", 2; docs/schema.md).
--
-- Until now (0001's comment on the seen table) a change to one reader's
-- \Seen in a per-user mailbox raised the modseq of the message rows and of
-- the mailbox, so every other reader was told of it (a FETCH with its own,
-- unchanged flags), every shared cache of the mailbox was invalidated by
-- every read, and RFC 7162 clients of the other readers resynchronised
-- after each read by someone else.
--
-- Now:
--  * mailboxes.highestmodseq stays the one counter that allocates every
--    modseq, shared or private, under the mailbox row's lock, so a reader's
--    own changes and the shared ones are totally ordered and committed in
--    counter order (the values others' private changes take are gaps, which
--    RFC 7162 §3.1.1 allows);
--  * mailboxes.shared_modseq is the highest modseq a shared change used
--    (message added, stored flags or keywords changed, expunge, \Seen mode
--    switched): every writer but the private one sets it with the counter;
--  * a private change leaves mailbox_messages alone, appends the UIDs it
--    changed to seen_changes at its modseq and raises seen.modseq;
--  * a message's MODSEQ for reader R is the greatest of mailbox_messages.
--    modseq, R's newest seen_changes entry holding its UID, and R's
--    seen.pruned_modseq; R's HIGHESTMODSEQ is the greater of shared_modseq
--    and R's seen.modseq.
ALTER TABLE mailboxes ADD COLUMN shared_modseq bigint;
UPDATE mailboxes SET shared_modseq = highestmodseq;
ALTER TABLE mailboxes ALTER COLUMN shared_modseq SET NOT NULL,
	ALTER COLUMN shared_modseq SET DEFAULT 1,
	ADD CONSTRAINT mailboxes_shared_modseq_counted CHECK (shared_modseq BETWEEN 1 AND highestmodseq);

-- The reader's highest private modseq on the mailbox, and the floor below
-- which its change log was pruned: every message's MODSEQ for the reader is
-- at least the floor, so pruning never makes a reported MODSEQ decrease,
-- and CHANGEDSINCE below the floor reports every message (RFC 7162's
-- fallback).
ALTER TABLE seen ADD COLUMN modseq bigint NOT NULL DEFAULT 0 CHECK (modseq >= 0),
	ADD COLUMN pruned_modseq bigint NOT NULL DEFAULT 0 CHECK (pruned_modseq >= 0);

-- One row per private change: the UIDs whose \Seen the reader's command
-- changed, at the modseq it took. Keyed on the seen row, so that switching
-- the mailbox to a common \Seen (which deletes the seen rows) and renaming
-- INBOX (which moves them) carry the log along. Rows are pruned with the
-- expunge history.
CREATE TABLE seen_changes (
	account_id  bigint NOT NULL,
	mailbox_id  bigint NOT NULL,
	modseq      bigint NOT NULL CHECK (modseq >= 1),
	uids        int8multirange NOT NULL,
	changed_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (account_id, mailbox_id, modseq),
	FOREIGN KEY (account_id, mailbox_id) REFERENCES seen (account_id, mailbox_id)
		ON DELETE CASCADE ON UPDATE CASCADE
);

-- QRESYNC (RFC 7162 §3.2.5) answers VANISHED (EARLIER) from the expunge
-- history, which kairanctl gc prunes after expunge_history_days. The time
-- of each expunge says what is old enough; expunged_floor is the highest
-- modseq pruned in the mailbox: a client resynchronising from below it is
-- told of every UID it may know that no longer exists, the RFC's fallback.
ALTER TABLE expunges ADD COLUMN expunged_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE mailboxes ADD COLUMN expunged_floor bigint NOT NULL DEFAULT 0
	CHECK (expunged_floor >= 0);
