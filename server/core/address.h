/* The one rule for comparing team addresses (docs/delivery.md, "Address
 * case rules"), shared by kairand's LMTP and kairanctl: the form stored in
 * shared_addresses (migrations/0016) and looked up at RCPT.
 *
 * RFC 5321 §2.4 lets a server treat the local part as case-sensitive, but
 * every directory matches mail case-insensitively (caseIgnoreIA5Match) and
 * so do people: "Sales@Example.org" is the sales team. ASCII letters are
 * lower-cased in both parts; nothing else changes (no dot or "+detail"
 * folding: the detail is cut by LMTP before the look-up). */
#ifndef KAIRAN_CORE_ADDRESS_H
#define KAIRAN_CORE_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 §4.5.3.1: 64 octets of local part, 255 of domain. */
#define ADDRESS_MAX 320

/* Writes the normalised form of in[0..len) to out (ADDRESS_MAX + 1 bytes)
 * and returns true, or returns false (out "") when it is not an address a
 * team can have: empty or longer than ADDRESS_MAX, a byte outside printable
 * ASCII, a space or one of "<>()[],;:\\\"", not exactly one '@', or an
 * empty local part or domain. Non-ASCII (SMTPUTF8) addresses are refused
 * because the LMTP server does not offer SMTPUTF8. */
bool address_normalise(const char *in, size_t len, char out[ADDRESS_MAX + 1]);

#endif
