-- 0007_search_lowercase: the SEARCH text stored in lower case, so that a
-- string key is a plain LIKE (docs/schema.md, tests/bench/results-search.md).
--
-- ILIKE on a UTF8 database lower-cases the whole value, a full copy, for
-- every row it checks, and a common word makes it check most rows. ILIKE
-- is by definition lower(value) LIKE lower(pattern) in the database's
-- LC_CTYPE, so storing lower(value) and matching it with LIKE lower(pattern)
-- finds exactly the same messages, and LIKE stops at the first match
-- instead of folding text it never looks at. Only SEARCH reads these two
-- columns (header_fields, its exact per-field check, keeps the case).
--
-- lz4 instead of pglz: the rows a search rechecks are decompressed, and lz4
-- decompresses several times faster. SET COMPRESSION only affects values
-- compressed from now on; the UPDATE below writes every value anew, and so
-- recompresses the existing ones.
--
-- Existing rows are rewritten here, which takes minutes per 100,000
-- messages; kairand must not run meanwhile (an older kairand would go on
-- storing text in its original case). kairanctl's session statement_timeout
-- would cancel it, hence the local 0. The trigram indexes would stay valid
-- (pg_trgm lower-cases what it indexes), but updating them row by row is
-- slower than building them again and leaves them twice their size, so they
-- are dropped and built afresh, with at least 512 MB of memory to build in.
SELECT set_config('statement_timeout', '0', true);
SELECT set_config('maintenance_work_mem', '512MB', true)
	WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('512MB');

ALTER TABLE messages ALTER COLUMN body_text SET COMPRESSION lz4,
                     ALTER COLUMN header_text SET COMPRESSION lz4;

DROP INDEX messages_body_text_trgm;
DROP INDEX messages_header_text_trgm;
UPDATE messages SET body_text = lower(body_text), header_text = lower(header_text);
CREATE INDEX messages_body_text_trgm ON messages USING gin (body_text gin_trgm_ops);
CREATE INDEX messages_header_text_trgm ON messages USING gin (header_text gin_trgm_ops);
