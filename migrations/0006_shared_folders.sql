-- 0006_shared_folders: the "Other Users/" and "Shared/" namespaces
-- (DESIGN.md "Namespaces and shared folders", docs/acl.md).

-- The name under which everyone but the owner sees a mailbox, below the
-- owner's root ("Other Users/<login>" for a person, "Shared/<name>" for a
-- shared account): the owner's INBOX is the root itself (''), INBOX's
-- inferiors lose their "INBOX/" prefix, every other name is unchanged. So
-- alice's "INBOX/Projects" is bob's "Other Users/alice/Projects", and the
-- sales account's INBOX is "Shared/sales", which a team selects directly.
--
-- The unique index makes the mapping reversible: an owner cannot have both
-- "INBOX/Projects" and "Projects" (CREATE and RENAME answer ALREADYEXISTS),
-- and it is what resolves "Other Users/alice/Projects" in one index lookup.
ALTER TABLE mailboxes ADD COLUMN shared_name text COLLATE "C" NOT NULL
	GENERATED ALWAYS AS (CASE WHEN name = 'INBOX' THEN ''
	                          WHEN name LIKE 'INBOX/%' THEN substr(name, 7)
	                          ELSE name END) STORED;
CREATE UNIQUE INDEX mailboxes_shared_name_idx ON mailboxes (owner_id, shared_name);

-- seen_per_user (0001) becomes true by itself when a mailbox is first
-- shared with someone who may read it (SETACL granting "r" to anyone but the
-- owner), because two people reading one folder expect their own unread
-- marks. seen_fixed records that an admin chose the mode explicitly
-- (kairanctl mailbox seen ...): sharing then leaves it alone, so a team
-- that wants "someone handled it" keeps a common \Seen.
ALTER TABLE mailboxes ADD COLUMN seen_fixed boolean NOT NULL DEFAULT false;

-- Mailboxes of others that an account has already been offered: LIST
-- subscribes a newly visible shared mailbox once (auto_subscribe_shared),
-- and this row is what keeps a later UNSUBSCRIBE from being undone. Rows
-- outlive a revoked right on purpose: regaining access does not
-- resubscribe someone who unsubscribed.
CREATE TABLE share_offers (
	account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	mailbox_id  bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	PRIMARY KEY (account_id, mailbox_id)
);
CREATE INDEX share_offers_mailbox_idx ON share_offers (mailbox_id);
