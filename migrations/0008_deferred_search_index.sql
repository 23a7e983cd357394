-- 0008_deferred_search_index: the trigram indexes are filled after
-- delivery, in quiet moments, instead of inside every APPEND (as Dovecot
-- indexes its full-text search asynchronously). docs/schema.md, "Search
-- text and its indexes".
--
-- Extracting the trigrams of a message's text costs about 0.55 ms per 3 KB
-- and inserting them into the two GIN indexes more: most of the CPU an
-- APPEND cost PostgreSQL. On the two-core benchmark machine APPEND ran at
-- 553 msg/s with the indexes and 2,062 without (tests/bench/results-store.md);
-- GIN's fastupdate with a bigger gin_pending_list_limit only moves the same
-- work around (1,217 -> 1,362 rows/s in a micro-benchmark), still inside
-- the delivery's transaction.
--
-- So a message is stored with search_ready = false, which keeps it out of
-- the trigram indexes, now partial; kairand's indexer thread
-- (server/indexer.c, schema/db_index.c) sets it to true in batches when no
-- delivery is running, or once the oldest waiting message has waited
-- search_index_max_lag_s, and that UPDATE is what inserts the rows into
-- the trigram indexes. SEARCH stays exact meanwhile: every condition on
-- the text is asked of the indexed rows through their trigram index and of
-- the waiting ones through messages_search_backlog (schema/db_search.c),
-- which the planner combines in a BitmapOr.
--
-- NOT NULL, so that "search_ready" and "NOT search_ready" between them
-- cover every row. Existing rows are in the indexes already: ADD COLUMN
-- with a constant default marks them true without rewriting the table; rows
-- inserted from now on get false.
ALTER TABLE messages ADD COLUMN search_ready boolean NOT NULL DEFAULT true;
ALTER TABLE messages ALTER COLUMN search_ready SET DEFAULT false;

-- The backlog: the messages whose text is not indexed yet, in id order
-- (the indexer takes the oldest first, and asks how long the oldest has
-- waited). Rows leave it within search_index_max_lag_s, so it stays small
-- however large the store grows; SEARCH scans it whole, next to the
-- trigram index, to check the text of the waiting rows directly.
CREATE INDEX messages_search_backlog ON messages (id) WHERE NOT search_ready;

-- The trigram indexes again, as partial indexes over the indexed rows. A
-- build takes minutes per 100,000 messages (kairanctl's session
-- statement_timeout would cancel it, hence the local 0) and runs faster
-- with at least 512 MB to build in, as in 0007; kairand must not run
-- meanwhile, since the table is locked until the migration commits.
SELECT set_config('statement_timeout', '0', true);
SELECT set_config('maintenance_work_mem', '512MB', true)
	WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('512MB');

DROP INDEX messages_body_text_trgm;
DROP INDEX messages_header_text_trgm;
CREATE INDEX messages_body_text_trgm ON messages USING gin (body_text gin_trgm_ops)
	WHERE search_ready;
CREATE INDEX messages_header_text_trgm ON messages USING gin (header_text gin_trgm_ops)
	WHERE search_ready;
