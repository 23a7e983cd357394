-- 0016_shared_addresses: team addresses (docs/delivery.md, "Team
-- addresses"). Mail to one of these addresses is delivered once into the
-- shared account's INBOX ("Shared/<name>"), where every member reads it
-- with their own \Seen.
--
-- The address is stored normalised (docs/delivery.md, "Address case
-- rules"): ASCII letters lower-cased in the local part and the domain, so
-- that "Sales@Example.ORG" and "sales@example.org" are one row and LMTP
-- finds it with one index lookup. The CHECK keeps a writer that forgot to
-- normalise from storing a row no look-up would ever match; lower() under
-- COLLATE "C" folds ASCII only, the same rule as the C code's.
--
-- An address names an account, not a mailbox: the account's INBOX is the
-- team mailbox, and "+detail" picks one of its other mailboxes. Only shared
-- accounts have team addresses (people's addresses are the directory's);
-- the writers check the kind, since a CHECK cannot look at another table.
--
-- origin says who added the address: 'admin' (kairanctl shared address
-- add, shared create --address) or 'directory' (kairanctl shared sync, or
-- the first delivery to an LDAP group's mail address). Nothing removes an
-- address by itself; the column tells an admin where one came from.
CREATE TABLE shared_addresses (
	address     text COLLATE "C" PRIMARY KEY
	            CHECK (address <> '' AND address = lower(address COLLATE "C")
	                   AND octet_length(address) <= 320),
	account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	origin      text NOT NULL DEFAULT 'admin' CHECK (origin IN ('admin', 'directory')),
	created_at  timestamptz NOT NULL DEFAULT now()
);
-- "The addresses of Shared/sales" (shared address list NAME).
CREATE INDEX shared_addresses_account_idx ON shared_addresses (account_id);
