#include "server/imap/objectid.h"

#include <stdio.h>

bool imap_objectid_valid(const char *s, size_t len)
{
	if (len == 0 || len > IMAP_OBJECTID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

const char *imap_mailboxid(char *buf, int64_t mailbox_id, uint32_t uidvalidity)
{
	snprintf(buf, IMAP_OBJECTID_BUF, "M%lldV%u", (long long)mailbox_id, uidvalidity);
	return buf;
}

const char *imap_emailid(char *buf, int64_t message_id)
{
	snprintf(buf, IMAP_OBJECTID_BUF, "E%lld", (long long)message_id);
	return buf;
}

/* "E" and a positive decimal without leading zeros, as imap_emailid
 * writes it: any other spelling is another id, which no message has. */
bool imap_emailid_parse(const char *s, size_t len, int64_t *message_id_r)
{
	int64_t v = 0;

	if (len < 2 || s[0] != 'E' || s[1] == '0')
		return false;
	for (size_t i = 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*message_id_r = v;
	return true;
}
