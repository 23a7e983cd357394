-- 0005_select_indexes: SELECT of a large mailbox without reading every row
-- (tests/bench/results-store.md: 100,000 messages).

-- The first unseen message (SELECT's [UNSEEN n]) and UNSEEN counts: unseen
-- mail is the small part of a big mailbox.
CREATE INDEX mailbox_messages_unseen_idx ON mailbox_messages (mailbox_id, uid)
	WHERE flags & 1 = 0;

-- The keywords in use (SELECT's FLAGS): most messages carry none.
CREATE INDEX mailbox_messages_keywords_idx ON mailbox_messages (mailbox_id)
	WHERE keywords <> '{}';
