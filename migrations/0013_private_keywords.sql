-- 0013_private_keywords: keywords that clients use as read state are kept
-- per reader in a mailbox with per-user \Seen (docs/protocol.md, "Private
-- keywords"; config private_keywords, default "Old": neomutt marks every
-- unread message it has shown with Old when leaving a folder, so with a
-- common keyword bob would see alice's circulars as "old").
--
-- One row per (reader, mailbox, keyword) with the UIDs as a multirange, as
-- seen keeps \Seen; keyed on the reader's seen row, so that switching the
-- mailbox to a common \Seen (which deletes the seen rows) and renaming
-- INBOX (which moves them) carry the keywords along. A change is a private
-- change (migrations/0011): it takes the next modseq of the mailbox's
-- counter, raises seen.modseq and is logged in seen_changes.
CREATE TABLE private_keywords (
	account_id  bigint NOT NULL,
	mailbox_id  bigint NOT NULL,
	keyword     text NOT NULL CHECK (keyword <> ''),
	uids        int8multirange NOT NULL,
	PRIMARY KEY (account_id, mailbox_id, keyword),
	FOREIGN KEY (account_id, mailbox_id) REFERENCES seen (account_id, mailbox_id)
		ON DELETE CASCADE ON UPDATE CASCADE
);
