-- 0015_preview: RFC 8970 FETCH PREVIEW, computed once per message like
-- the other precomputed columns (server/mime/preview.c).
--
-- messages.preview: up to 256 characters of the message's first text
-- part, white space collapsed; '' when there is no text to preview; NULL
-- when the row was stored before this migration and not computed yet.
--
-- Existing rows get their preview the way 0012 reanalyses rows: MIME
-- version 3 (server/mime/mime.h) adds the preview to what mime_parse
-- computes, so every older row is stale and the indexer rewrites it in
-- quiet moments (schema/db_reanalyse.c), preview included. Until then a
-- FETCH PREVIEW computes the preview of a NULL row from its raw bytes
-- and stores it; FETCH PREVIEW (LAZY) answers NIL for it (RFC 8970 §3.1,
-- docs/schema.md).
SELECT set_config('statement_timeout', '0', true);

ALTER TABLE messages ADD COLUMN preview text;

DROP INDEX IF EXISTS messages_mime_stale;
CREATE INDEX messages_mime_stale ON messages (id) WHERE mime_version < 3;
