-- 0019_delivery_duplicates: what LMTP delivered, per mailbox, so that an
-- MTA's retry is acknowledged without storing the message twice
-- (docs/delivery.md, "Duplicate suppression").
--
-- The key is the mailbox and the SHA-256 of the bytes as stored (the
-- messages.sha256 of the content row): a retry of one transaction carries
-- the same bytes and the same Return-Path, while two copies of a list
-- message that differ in a single byte (another Received: line) are two
-- messages, even with one Message-ID. The hash rather than the content
-- row's id, so that a record outlives the content when every copy was
-- expunged and kairanctl gc collected it: the retry within the window is
-- still recognised.
--
-- delivered_at bounds the window (lmtp_duplicate_window): an older record
-- does not count, and the delivery that finds one stores the message and
-- renews it. kairanctl gc deletes records older than the window; the table
-- holds about one window's deliveries, so gc reads it whole rather than
-- every delivery paying for a second index.
CREATE TABLE delivery_duplicates (
	mailbox_id    bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	sha256        bytea NOT NULL,
	delivered_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (mailbox_id, sha256)
);
