-- 0012_mime_reanalysis: rows an older MIME parser computed are parsed again,
-- in the background, by kairand's indexer thread (server/indexer.c,
-- schema/db_reanalyse.c).
--
-- MIME version 2 changes what SEARCH sees (docs/protocol.md, SEARCH):
-- FROM/TO/CC/BCC also match the addresses as parsed (comments, quoting and
-- folding removed), and BODY/TEXT also search the headers of MIME parts and
-- of attached messages, with RFC 2231 file names decoded (RFC 3501 §6.4.4:
-- the body is everything after the top-level header). The text is computed
-- by C code from the raw bytes, which SQL cannot redo; a migration that
-- reparsed the whole store would hold the table for as long as that takes.
-- So existing rows keep their old text (and stay searchable with it) until
-- the indexer, in quiet moments and after the search backlog, rewrites
-- them batch by batch through this index, which empties as it goes: one
-- probe of an empty index once the store is done.
--
-- Each later MIME_VERSION bump replaces this index with one for its
-- version (schema/db_reanalyse.h, DB_MIME_VERSION).
SELECT set_config('statement_timeout', '0', true);

CREATE INDEX messages_mime_stale ON messages (id) WHERE mime_version < 2;
