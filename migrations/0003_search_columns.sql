-- 0003_search_columns: what SEARCH matches against, computed once at APPEND
-- by server/mime so that a search is a query, never a re-parse of messages.

-- The top-level header fields, each as "name:value" with the name in lower
-- case and the value unfolded, RFC 2047-decoded and converted to UTF-8
-- (NUL bytes removed: text cannot hold them). SEARCH HEADER/FROM/TO/CC/BCC/
-- SUBJECT match "name:%value%" against the elements.
ALTER TABLE messages ADD COLUMN header_fields text[] NOT NULL DEFAULT '{}';

-- The decoded text of the text parts (base64/quoted-printable undone,
-- converted to UTF-8), for SEARCH BODY and TEXT.
ALTER TABLE messages ADD COLUMN body_text text NOT NULL DEFAULT '';

-- The calendar date of the Date: field as written (its own zone), for
-- SENTBEFORE/SENTON/SENTSINCE (RFC 3501 §6.4.4: "disregarding time and
-- timezone"). NULL when the field is missing or unparseable: such a
-- message matches no SENT* key.
ALTER TABLE messages ADD COLUMN sent_date date;
