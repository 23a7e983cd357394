/* server/mime: decoded header fields (RFC 2047 encoded words in several
 * charsets), Date parsing and the search text. */
#include <stdint.h>

#include "tests/unit/unit.h"
#include "server/mime/mime.h"

/* The decoded value of the first field called name in a message made of
 * header (CRLF line ends added by the caller). */
static void check_field(const char *header, const char *name, const char *want)
{
	struct mime_message m;
	struct buf raw;

	buf_init(&raw);
	buf_append_str(&raw, header);
	buf_append_str(&raw, "\r\n\r\nbody\r\n");
	mime_message_init(&m);
	mime_parse((const char *)raw.data, raw.len, NULL, &m);
	bool found = false;
	for (size_t i = 0; i < m.nfields && !found; i++) {
		if (m.fields[i].name_len == strlen(name) &&
				strncasecmp(m.fields[i].name, name, m.fields[i].name_len) == 0) {
			found = true;
			CHECK_MEM(m.fields[i].value, m.fields[i].value_len, want, strlen(want));
			CHECK(m.fields[i].value[m.fields[i].value_len] == '\0');
		}
	}
	CHECK(found);
	mime_message_free(&m);
	buf_free(&raw);
}

static void test_encoded_words(void)
{
	check_field("Subject: =?UTF-8?B?UHJpdmV0?=", "subject", "Privet");
	check_field("Subject: =?iso-8859-1?q?R=E9union_=E0_Gen=E8ve?=", "subject",
			"R\303\251union \303\240 Gen\303\250ve");
	check_field("Subject: =?iso-2022-jp?b?GyRCMnE1RBsoQg==?=", "subject", "\344\274\232\350\255\260");
	check_field("Subject: =?koi8-r?b?8NLJ18XU?=", "subject",
			"\320\237\321\200\320\270\320\262\320\265\321\202");
	/* windows-1252: 0x93/0x94 are curly quotes, 0x80 the euro sign. */
	check_field("Subject: =?windows-1252?q?=93x=94_=80?=", "subject",
			"\342\200\234x\342\200\235 \342\202\254");
	/* ISO-8859-1 is decoded as windows-1252, as browsers do. */
	check_field("Subject: =?iso-8859-1?q?=80?=", "subject", "\342\202\254");
	/* Adjacent words: the white space between them goes, and a UTF-8
	 * character split across two words is joined before conversion. */
	check_field("Subject: =?utf-8?q?Gr=C3?= =?utf-8?q?=BC=C3=9Fe?= aus\r\n =?utf-8?q?M=C3=BCnchen?=",
			"subject", "Gr\303\274\303\237e aus M\303\274nchen");
	check_field("Subject: =?utf-8?q?a?=  \t =?iso-8859-1?q?=E9?=", "subject", "a\303\251");
	/* Words glued to text are decoded too (Dovecot, Python, Thunderbird). */
	check_field("Subject: Re:=?utf-8?q?_x?=", "subject", "Re: x");
	/* Malformed words stay as they are. */
	check_field("Subject: =?utf-8?x?abc?= =?utf-8?b?!!!?= =?utf-8?q?open", "subject",
			"=?utf-8?x?abc?= =?utf-8?b?!!!?= =?utf-8?q?open");
	/* RFC 2231 §5 language suffix. */
	check_field("Subject: =?utf-8*en?q?hi?=", "subject", "hi");
	/* Unknown charsets keep valid UTF-8; invalid bytes become U+FFFD. */
	check_field("Subject: =?x-unknown?q?=C3=A9=FF?=", "subject", "\303\251\357\277\275");
	check_field("Subject: raw \303\251 and \377", "subject", "raw \303\251 and \357\277\275");
	/* Unfolding keeps the white space of the continuation line. */
	check_field("X-Long: one\r\n\ttwo\r\n three", "x-long", "one\ttwo three");
	check_field("X-Empty:", "x-empty", "");
	check_field("X-Spaced :  value  ", "x-spaced", "value  ");
}

static void test_field_list(void)
{
	/* "Subj\0ect" is no field line: the header ends before it (tree.c). */
	static const char raw[] = "Received: a\r\nFrom: x@y\r\nreceived: b\r\nX-Nul: a\0b\r\n"
		"Subj\0ect: nul\r\nX-After: body\r\n\r\nbody";
	struct mime_message m;

	mime_message_init(&m);
	mime_parse(raw, sizeof(raw) - 1, NULL, &m);
	CHECK(m.nfields == 4);
	if (m.nfields == 4) {
		CHECK_MEM(m.fields[0].name, m.fields[0].name_len, "Received", 8);
		CHECK_MEM(m.fields[2].name, m.fields[2].name_len, "received", 8);
		CHECK_MEM(m.fields[2].value, m.fields[2].value_len, "b", 1);
		CHECK(m.fields[0].name == raw);
		/* NUL cannot go into a PostgreSQL text column. */
		CHECK_MEM(m.fields[3].value, m.fields[3].value_len, "ab", 2);
	}
	mime_message_free(&m);
}

static void check_address_field(const char *raw, const char *want)
{
	struct mime_message m;

	mime_message_init(&m);
	mime_parse(raw, strlen(raw), NULL, &m);
	CHECK(m.nfields == 1);
	if (m.nfields == 1)
		CHECK_MEM(m.fields[0].value, m.fields[0].value_len, want, strlen(want));
	mime_message_free(&m);
}

/* SEARCH FROM/TO/CC/BCC also see the addresses as parsed, after a tab,
 * unless the value already holds them as written. */
static void test_address_fields(void)
{
	check_address_field("From: <user-from (comment)@ (comment) domain.org>\r\n\r\n",
			    "<user-from (comment)@ (comment) domain.org>\tuser-from@domain.org");
	check_address_field("To: G: a@b.org, \"Q, R\" <q (x) @r.org>;\r\n\r\n",
			    "G: a@b.org, \"Q, R\" <q (x) @r.org>;\ta@b.org q@r.org");
	check_address_field("Cc: Ann <ann@example.org>\r\n\r\n", "Ann <ann@example.org>");
	check_address_field("Bcc: undisclosed-recipients:;\r\n\r\n", "undisclosed-recipients:;");
	check_address_field("Reply-To: <a (x)@b>\r\n\r\n", "<a (x)@b>");
	check_address_field("From: (only a comment)\r\n\r\n", "(only a comment)");
}

static void check_date(const char *date, int64_t want, int zone)
{
	struct mime_message m;
	struct buf raw;

	buf_init(&raw);
	buf_append_str(&raw, "Date: ");
	buf_append_str(&raw, date);
	buf_append_str(&raw, "\r\n\r\n");
	mime_message_init(&m);
	mime_parse((const char *)raw.data, raw.len, NULL, &m);
	if (m.sent_date != want || (want != INT64_MIN && m.sent_zone != zone)) {
		fprintf(stderr, "  date \"%s\": got %lld %d, want %lld %d\n", date,
				(long long)m.sent_date, m.sent_zone, (long long)want, zone);
		unit_current_failed = 1;
	}
	mime_message_free(&m);
	buf_free(&raw);
}

static void test_dates(void)
{
	check_date("Sat, 24 Mar 2007 23:00:00 +0200", 1174770000, 120);
	check_date("24 Mar 2007 23:00:00 +0200", 1174770000, 120);
	check_date("Sat, 24 Mar 2007 23:00 +0200", 1174770000, 120);
	check_date("Sat (day), 24 (d) mar 2007 21:00:00 (UTC) +0000 (UTC)", 1174770000, 0);
	check_date("Mon, 3 Feb 97 10:20:30 EST", 854983230, -300);     /* RFC 5322 §4.3 */
	check_date("Thu, 1 Jan 1970 00:00:00 GMT", 0, 0);
	check_date("Wed, 31 Dec 1969 23:59:59 -0000", -1, 0);
	check_date("Thu, 1 Jan 70 00:00:00 Z", 0, 0);
	check_date("Tue, 29 Feb 2000 12:00:60 +0000", 951825659, 0);  /* leap second: :59 */
	check_date("Thu, 1 Jan 2004 01:00:00 -0130", 1072924200, -90);
	check_date("Mon, 1 Jan 2001 10:00:00", 978343200, 0);           /* no zone: -0000 */
	check_date("Fri, 29 Feb 2001 00:00:00 +0000", INT64_MIN, 0);   /* no such day */
	check_date("not a date", INT64_MIN, 0);
	check_date("", INT64_MIN, 0);
	check_date("Sat, 24 Mar 2007 25:00:00 +0200", INT64_MIN, 0);
	check_date("Sat, 24 Foo 2007 23:00:00 +0200", INT64_MIN, 0);
}

static void check_text(const char *raw, const char *want)
{
	struct mime_message m;

	mime_message_init(&m);
	mime_parse(raw, strlen(raw), NULL, &m);
	CHECK_MEM(m.text.data, m.text.len, want, strlen(want));
	mime_message_free(&m);
}

static void test_text(void)
{
	check_text("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
			"w6kgaXMgZQ==\r\n", "\303\251 is e");
	check_text("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: "
			"quoted-printable\r\n\r\ncaf=E9 =\r\nsoft\r\n", "caf\303\251 soft\r\n");
	check_text("Content-Type: text/html\r\n\r\n<html><head><title>t</title><style>p{}</style></head>"
			"<body><p>a &amp; b&nbsp;&#233;&#x20AC;<br>c</p><!-- x --><script>s</script></body>",
			"\na & b \303\251\342\202\254\nc\n");
	/* RFC 3501 §6.4.4: everything after the top-level header, in order:
	 * text parts (inside attached messages too) and the headers of the
	 * parts and of attached messages, not the content of other types. */
	check_text("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n"
			"Content-Type: application/octet-stream\r\n\r\nbinary\r\n--b\r\n"
			"Content-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\ntwo\r\n--b--\r\n",
		   "one\nContent-Type: application/octet-stream\nContent-Type: message/rfc822\n"
		   "Subject: s\ntwo");
	/* Part headers decoded: encoded words, and RFC 2231 parameters (after
	 * the header lines, one per line). */
	check_text("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
			"Content-Type: application/zip\r\nContent-Description: =?utf-8?q?r=C3=A9sum=C3=A9?=\r\n"
			"Content-Disposition: attachment;\r\n filename*=utf-8''caf%C3%A9_1.zip\r\n\r\nPK\r\n"
			"--b--\r\n",
		   "Content-Type: application/zip\nContent-Description: r\303\251sum\303\251\n"
		   "Content-Disposition: attachment; filename*=utf-8''caf%C3%A9_1.zip\ncaf\303\251_1.zip");
	/* mime.h: the text is valid UTF-8, so 8-bit bytes in a plain (not
	 * RFC 2231) parameter value of a part become U+FFFD too (fuzz_mime
	 * found them copied as they were). */
	check_text("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
			"Content-Type: application/x; name=\"a\377\"\r\n\r\nbin\r\n--b--\r\n",
		   "Content-Type: application/x; name=\"a\357\277\275\"\na\357\277\275");
	/* Undecodable bytes become U+FFFD; NUL is dropped. */
	check_text("Content-Type: text/plain; charset=utf-8\r\n\r\na\377b\0c", "a\357\277\275b");
}

static void test_text_limit(void)
{
	struct mime_limits l;
	struct mime_message m;
	/* "é" is two bytes: a cut at an odd byte count must not split it. */
	static const char raw[] = "Content-Type: text/plain; charset=utf-8\r\n\r\n\303\251\303\251\303\251";

	mime_limits_default(&l);
	l.max_text_bytes = 5;
	mime_message_init(&m);
	mime_parse(raw, sizeof(raw) - 1, &l, &m);
	CHECK_MEM(m.text.data, m.text.len, "\303\251\303\251", 4);
	CHECK(m.degraded & MIME_DEGRADED_TEXT);
	mime_message_free(&m);
}

int main(void)
{
	UNIT_RUN(test_encoded_words);
	UNIT_RUN(test_field_list);
	UNIT_RUN(test_address_fields);
	UNIT_RUN(test_dates);
	UNIT_RUN(test_text);
	UNIT_RUN(test_text_limit);
	return unit_report("test_mime_fields");
}
