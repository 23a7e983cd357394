-- 0007_search_lowercase: the SEARCH text stored in lower case and inline,
-- so that a string key is a plain LIKE over text that needs no TOAST
-- lookup (docs/schema.md, tests/bench/results-search.md).
--
-- Lower case: ILIKE on a UTF8 database lower-cases the whole value, a full
-- copy, for every row it checks, and a common word makes it check most
-- rows. ILIKE is by definition lower(value) LIKE lower(pattern) in the
-- database's LC_CTYPE, so storing lower(value) and matching it with LIKE
-- lower(pattern) finds exactly the same messages, and LIKE stops at the
-- first match instead of folding text it never looks at. Only SEARCH reads
-- these two columns (header_fields, its exact per-field check, keeps the
-- case), and pg_trgm lower-cases what it indexes anyway.
--
-- lz4 instead of pglz: every row a search rechecks is decompressed, and
-- lz4 decompresses several times faster.
--
-- MAIN instead of EXTENDED storage: a row over 2 KB used to have its
-- largest values moved to the TOAST table, which raw (always far larger,
-- and still moved out) shares with body_text, so each body a search
-- rechecked cost a TOAST index lookup and reads scattered between raw
-- chunks. MAIN keeps a value in the row, compressed, unless the row would
-- not fit in a page even so. Every column but raw is MAIN: with body_text
-- alone MAIN, the row would stay over 2 KB and PostgreSQL would move the
-- small EXTENDED values (header_text, header_fields, envelope, ...) out
-- instead. So a row is raw's TOAST pointer plus everything else inline,
-- compressed when the row is over 2 KB.
--
-- Existing rows: one ALTER TABLE, because ALTER COLUMN ... TYPE resets a
-- column's storage and compression, and its rewrite (phase 3) runs after
-- all subcommands: the table is written anew with the lower-cased text in
-- the new layout, and every index is built afresh on it. That is faster
-- than an UPDATE (whose new row versions the trigram indexes would take
-- row by row, or, rebuilt in the same transaction, index twice) and leaves
-- no dead rows: ~2.5 minutes per 100,000 messages (2 GB) on two cores,
-- with room for a copy of the table meanwhile. kairand must not run during
-- it (an older kairand would go on storing text in its original case).
-- kairanctl's session statement_timeout would cancel it, hence the local 0.
-- (More maintenance_work_mem did not help: rebuilding the trigram indexes
-- of 100,000 messages took as long with 512 MB as with the default 64 MB,
-- and gave indexes of about the same size.)
SELECT set_config('statement_timeout', '0', true);

ALTER TABLE messages
	ALTER COLUMN body_text TYPE text USING lower(body_text),
	ALTER COLUMN header_text TYPE text USING lower(header_text),
	ALTER COLUMN body_text SET COMPRESSION lz4,
	ALTER COLUMN header_text SET COMPRESSION lz4,
	ALTER COLUMN body_text SET STORAGE MAIN,
	ALTER COLUMN header_text SET STORAGE MAIN,
	ALTER COLUMN header_fields SET STORAGE MAIN,
	ALTER COLUMN envelope SET STORAGE MAIN,
	ALTER COLUMN bodystructure SET STORAGE MAIN,
	ALTER COLUMN body SET STORAGE MAIN,
	ALTER COLUMN parts SET STORAGE MAIN;

-- The type change dropped the two columns' statistics.
ANALYZE messages;
