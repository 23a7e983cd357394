-- 0010_recent_claims: claiming \Recent no longer locks the mailbox row.
--
-- The \Recent bound (0002) lived in the mailboxes row, and the session that
-- saw new mail claimed it with SELECT ... FOR UPDATE of that row.  Every
-- writer of the mailbox (APPEND, COPY, STORE, EXPUNGE, delivery) holds the
-- same row lock until it commits, so on a busy shared mailbox every reader
-- that saw new mail queued behind every delivery and behind every other
-- reader: under a mixed load the claim was the costliest statement of all.
--
-- The bound now has a row of its own.  A claim locks only that row, and
-- only when there is something to claim (recent_uid < uidnext: the lock
-- is taken by the statement that reads the changes, for the microseconds
-- the update takes); deliveries never touch it.
CREATE TABLE mailbox_recent (
	mailbox_id  bigint PRIMARY KEY REFERENCES mailboxes (id) ON DELETE CASCADE,
	recent_uid  bigint NOT NULL CHECK (recent_uid BETWEEN 1 AND 4294967296)
);

INSERT INTO mailbox_recent (mailbox_id, recent_uid)
	SELECT id, recent_uid FROM mailboxes;

-- Every mailbox has its row from birth, whoever creates it (CREATE, first
-- login, kairanctl, RENAME of INBOX).  A new mailbox's messages are all
-- \Recent for the first session that selects it: the bound starts at its
-- uidnext (1 for a new mailbox; RENAME of INBOX continues INBOX's UIDs,
-- and its moved messages are old mail).
CREATE FUNCTION mailbox_recent_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO mailbox_recent (mailbox_id, recent_uid) VALUES (NEW.id, NEW.uidnext);
	RETURN NULL;
END $$;

CREATE TRIGGER mailbox_recent_row AFTER INSERT ON mailboxes
	FOR EACH ROW EXECUTE FUNCTION mailbox_recent_row();

ALTER TABLE mailboxes DROP COLUMN recent_uid;
