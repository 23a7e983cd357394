-- 0017_savedate: when a message was saved into its mailbox (RFC 8514
-- SAVEDATE; docs/schema.md, "Save dates").
--
-- INTERNALDATE is not that moment: APPEND takes the client's date, and COPY
-- and MOVE carry the source's along. saved_at is set by the column default
-- in the transaction that inserts the row (APPEND, COPY, MOVE, LMTP), so
-- no writer can forget it; RENAME (also of INBOX, whose rows move with an
-- UPDATE) keeps it, as the RFC wants for a message that stays in its
-- mailbox.
--
-- Rows saved before this migration have no save date: NULL, which FETCH
-- answers as NIL and SAVEDATESUPPORTED does not match, while SAVEDBEFORE,
-- SAVEDON and SAVEDSINCE fall back to INTERNALDATE for them (RFC 8514
-- §4.3). Guessing (the internal date, the migration's time) would be
-- presented as a fact it is not. Adding a column without a default is a
-- change of the catalogue only: no row of a large store is rewritten. The
-- default is set afterwards so that it applies to new rows only.
ALTER TABLE mailbox_messages ADD COLUMN saved_at timestamptz;
ALTER TABLE mailbox_messages ALTER COLUMN saved_at SET DEFAULT now();
