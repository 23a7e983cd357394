-- 0018_quota_usage: RFC 9208 quota usage (docs/schema.md, "Quotas").
--
-- The quota root is the owner account (0001's quotas table): a person's
-- mailboxes, or a shared account's "Shared/<name>" subtree. Its usage is
-- the sum, over the owner's mailboxes, of two counters kept on each
-- mailboxes row: the number of messages and the sum of their sizes.
--
-- Why on the mailbox row: every writer of a mailbox (APPEND, COPY, MOVE,
-- EXPUNGE, LMTP) already updates that row to allocate UIDs and modseqs,
-- so the counters add no new lock and no row that every writer of an
-- account queues on; a quota check sums a few dozen rows of one owner
-- (the (owner_id, name) index). Everything happens in the transaction
-- that writes the mailbox_messages rows, and nothing is ever recounted
-- on delivery (kairanctl quota recalc recounts on demand).
--
-- Who keeps them: the two statements that insert rows (append_message:
-- APPEND and LMTP; copy_messages: COPY and MOVE; schema/) add to the
-- counters in the very UPDATE that allocates the UIDs: an insert trigger
-- cost as much again as the APPEND statement itself (0.28 -> 0.51 ms of
-- server time), for a second write of the row. Rows that go (EXPUNGE,
-- MOVE's source, DELETE of a mailbox with children) are taken off by a
-- statement-level trigger with a transition table: one UPDATE per
-- statement however many rows it removed, and no deleting path can
-- forget it. RENAME INBOX, which moves rows with an UPDATE, has a row
-- trigger.
--
-- Single-instance content counts in full in every mailbox that holds it:
-- a 1 MB circular delivered to fifty people counts 1 MB for each of them,
-- as it would on any other server, since what a user is charged for must
-- not depend on who else received the same bytes.
ALTER TABLE mailboxes ADD COLUMN message_count bigint NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN message_bytes bigint NOT NULL DEFAULT 0;

UPDATE mailboxes m SET message_count = u.n, message_bytes = u.bytes
FROM (SELECT mm.mailbox_id, count(*) AS n, sum(g.size) AS bytes
      FROM mailbox_messages mm JOIN messages g ON g.id = mm.message_id
      GROUP BY mm.mailbox_id) u
WHERE m.id = u.mailbox_id;

CREATE FUNCTION mailbox_usage_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE mailboxes m SET message_count = m.message_count - d.n,
	                       message_bytes = m.message_bytes - d.bytes
	FROM (SELECT u.mailbox_id, count(*) AS n, sum(g.size) AS bytes
	      FROM usage_rows u JOIN messages g ON g.id = u.message_id
	      GROUP BY u.mailbox_id) d
	WHERE m.id = d.mailbox_id;
	RETURN NULL;
END $$;

-- RENAME INBOX moves rows to another mailbox with an UPDATE; nothing else
-- changes mailbox_id, so a row trigger guarded by WHEN costs the flag
-- updates of STORE nothing.
CREATE FUNCTION mailbox_usage_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	bytes bigint;
BEGIN
	SELECT size INTO bytes FROM messages WHERE id = NEW.message_id;
	UPDATE mailboxes SET message_count = message_count - 1, message_bytes = message_bytes - bytes
	WHERE id = OLD.mailbox_id;
	UPDATE mailboxes SET message_count = message_count + 1, message_bytes = message_bytes + bytes
	WHERE id = NEW.mailbox_id;
	RETURN NULL;
END $$;

CREATE TRIGGER mailbox_usage_delete AFTER DELETE ON mailbox_messages
	REFERENCING OLD TABLE AS usage_rows
	FOR EACH STATEMENT EXECUTE FUNCTION mailbox_usage_removed();
CREATE TRIGGER mailbox_usage_move AFTER UPDATE OF mailbox_id ON mailbox_messages
	FOR EACH ROW WHEN (OLD.mailbox_id IS DISTINCT FROM NEW.mailbox_id)
	EXECUTE FUNCTION mailbox_usage_moved();

-- A quotas row with a NULL limit says "no limit" explicitly (SETQUOTA
-- without that resource, kairanctl quota set ... storage=none), which
-- overrides the default of kairan.conf; no row at all means "the
-- default" (docs/config.md, quota_storage_default).
ALTER TABLE quotas ALTER COLUMN quota_limit DROP NOT NULL;

-- Who set a limit: an admin (SETQUOTA, kairanctl quota set), or the
-- directory (ldap_quota_attribute, copied at each login). The directory
-- never overwrites an admin's limit, and takes back its own when the
-- attribute loses it.
ALTER TABLE quotas ADD COLUMN origin text NOT NULL DEFAULT 'admin'
	CHECK (origin IN ('admin', 'directory'));
