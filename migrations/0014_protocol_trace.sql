-- 0014_protocol_trace: the logins whose IMAP sessions kairand traces
-- (kairanctl trace; docs/deployment.md, "Logs").
--
-- By login, not by account id: an admin may switch a trace on for a person
-- who has never logged in, whose account row does not exist yet.  kairand
-- reads it at login, in the statement that provisions the account
-- (schema/db_account.c), so a trace costs no extra round trip and a change
-- takes effect at the user's next login, in every kairand process.
CREATE TABLE protocol_trace (
	login  text PRIMARY KEY,
	since  timestamptz NOT NULL DEFAULT now()
);
