-- 0004_search_index: SEARCH as an index lookup (pg_trgm), not a scan.

-- Trigram indexes serve ILIKE '%word%' (case-insensitive substring), the
-- form every IMAP string key takes. pg_trgm ships with PostgreSQL and is a
-- trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- All decoded header fields of a message as one text ("name:value" lines),
-- so that one trigram index covers SEARCH HEADER/FROM/TO/CC/BCC/SUBJECT
-- and the header half of TEXT; header_fields stays the exact per-field
-- check the index result is filtered with.
ALTER TABLE messages ADD COLUMN header_text text NOT NULL DEFAULT '';

CREATE INDEX messages_body_text_trgm ON messages USING gin (body_text gin_trgm_ops);
CREATE INDEX messages_header_text_trgm ON messages USING gin (header_text gin_trgm_ops);
