-- 0002_mailbox_state: what the IMAP4rev1 mailbox commands need beyond 0001.

-- RFC 3501 §6.3.4: deleting a mailbox that has children removes its
-- messages but keeps the name, with the \Noselect attribute, as the parent
-- of the children. Such a placeholder is also what CREATE leaves behind for
-- nothing: intermediate levels are created as real mailboxes instead.
ALTER TABLE mailboxes ADD COLUMN noselect boolean NOT NULL DEFAULT false;

-- RFC 3501 §2.3.2 \Recent: a message is recent for exactly one session, the
-- first to select the mailbox after the message arrived. SELECT advances
-- this bound to uidnext in one UPDATE ... RETURNING of the old value; the
-- session that did so treats UIDs at or above the old value as \Recent.
-- The row lock makes the claim atomic across sessions and processes.
ALTER TABLE mailboxes ADD COLUMN recent_uid bigint NOT NULL DEFAULT 1
	CHECK (recent_uid BETWEEN 1 AND 4294967296);
