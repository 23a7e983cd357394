-- 0020_import_sources: what kairanctl import brought in, by the source's
-- own identity of each message (docs/migration.md, "Running it again and
-- resuming").
--
-- A Maildir message is known by the unique part of its file name (what
-- stays when flags change), an mbox message by its byte offset in the
-- file, an IMAP message by its source mailbox's UIDVALIDITY and UID. The
-- row is inserted in the same transaction as the message it records
-- (schema/db_import.c), so after a crash or a kill either both exist or
-- neither does: a second run skips exactly what the first committed, and
-- copies nothing when everything was. A message expunged after its import
-- stays recorded, so a later run does not bring it back.
--
-- Rows go with their mailbox (ON DELETE CASCADE); a mailbox renamed
-- keeps them (they name it by id).
CREATE TABLE import_sources (
	mailbox_id  bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	source      text NOT NULL,
	uid         bigint NOT NULL,
	imported_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (mailbox_id, source)
);
