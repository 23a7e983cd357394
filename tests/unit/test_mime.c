/* server/mime: ENVELOPE, BODY, BODYSTRUCTURE and the part map of
 * hand-written messages, compared byte for byte with the expected IMAP
 * values.
 *
 * The dovecot_* cases are the messages of Dovecot's own unit tests
 * (src/lib-imap/test-imap-bodystructure.c, test-imap-envelope.c) with CRLF
 * line ends: Dovecot counts sizes as if lines ended in CRLF, so with CRLF
 * input its expected strings must come out unchanged, and they do. The
 * others cover what Dovecot's tests do not: bare LF, RFC 2231, groups,
 * comments, defaults, limits of malformed structure. */
#include <stdint.h>

#include "tests/unit/unit.h"
#include "server/mime/mime.h"

struct mime_case {
	const char *name;
	const char *raw;
	size_t len;
	const char *envelope, *body, *bodystructure, *parts;  /* NULL: not checked */
	int degraded;                                          /* -1: not checked */
};

static const struct mime_case cases[] = {
	{
		"dovecot_bodystructure_1",
		"From: user@domain.org\r\n"
		"Date: Sat, 24 Mar 2017 23:00:00 +0200\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n"
		"body\r\n",
		133,
		NULL,
		NULL,
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)",
		NULL,
		-1,
	},
	{
		"dovecot_bodystructure_2",
		"From: user@domain.org\r\n"
		"Date: Sat, 24 Mar 2017 23:00:00 +0200\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: 8bit\r\n"
		"\r\n"
		"body\r\n"
		"\r\n",
		165,
		NULL,
		NULL,
		"(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 8 2 NIL NIL NIL NIL)",
		NULL,
		-1,
	},
	{
		"dovecot_bodystructure_3",
		"From: user@domain.org\r\n"
		"Date: Sat, 24 Mar 2007 23:00:00 +0200\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"foo\r\n"
		" bar\"\r\n"
		"\r\n"
		"--foo bar\r\n"
		"Content-Type: text/x-myown; charset=us-ascii\r\n"
		"\r\n"
		"hello\r\n"
		"\r\n"
		"--foo bar--\r\n"
		"\r\n",
		219,
		NULL,
		NULL,
		"((\"text\" \"x-myown\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 NIL NIL NIL NIL) \"m"
		"ixed\" (\"boundary\" \"foo bar\") NIL NIL NIL)",
		NULL,
		-1,
	},
	{
		"dovecot_bodystructure_4",
		"From: user@domain.org\r\n"
		"Date: Sat, 24 Mar 2017 23:00:00 +0200\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"foo bar\"\r\n"
		"\r\n"
		"--foo bar\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n"
		"See attached...\r\n"
		"\r\n"
		"--foo bar\r\n"
		"Content-Type: message/rfc822\r\n"
		"\r\n"
		"From: user@domain.org\r\n"
		"Date: Sat, 24 Mar 2017 23:00:00 +0200\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n"
		"body\r\n"
		"\r\n"
		"--foo bar--\r\n"
		"\r\n",
		403,
		NULL,
		NULL,
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 17 1 NIL NIL NIL NIL)(\"me"
		"ssage\" \"rfc822\" NIL NIL NIL \"7bit\" 133 (\"Sat, 24 Mar 2017 23:00:00 +0200\" NIL ((NIL "
		"NIL \"user\" \"domain.org\")) ((NIL NIL \"user\" \"domain.org\")) ((NIL NIL \"user\" \"doma"
		"in.org\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7b"
		"it\" 6 1 NIL NIL NIL NIL) 6 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"foo bar\") NIL NIL N"
		"IL)",
		NULL,
		-1,
	},
	{
		"dovecot_bodystructure_5",
		"From: user@domain.org\r\n"
		"Date: Sat, 24 Mar 2007 23:00:00 +0200\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"foo\r\n"
		" bar\"\r\n"
		"\r\n"
		"Root MIME prologue\r\n"
		"\r\n"
		"--foo bar\r\n"
		"Content-Type: text/x-myown; charset=us-ascii; foo=\"quoted\\\"string\"\r\n"
		"Content-ID: <foo@example.com>\r\n"
		"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
		"Content-Disposition: inline; foo=bar\r\n"
		"Content-Description: hellodescription\r\n"
		"Content-Language: en, fi, se\r\n"
		"Content-Location: http://example.com/test.txt\r\n"
		"\r\n"
		"hello\r\n"
		"\r\n"
		"--foo bar\r\n"
		"Content-Type: message/rfc822\r\n"
		"\r\n"
		"From: sub@domain.org\r\n"
		"To: sub-to1@domain.org, sub-to2@domain.org\r\n"
		"Date: Sun, 12 Aug 2012 12:34:56 +0300\r\n"
		"Subject: submsg\r\n"
		"Content-Type: multipart/alternative; boundary=\"sub1\"\r\n"
		"\r\n"
		"Sub MIME prologue\r\n"
		"--sub1\r\n"
		"Content-Type: text/html\r\n"
		"Content-Transfer-Encoding: 8bit\r\n"
		"\r\n"
		"<p>Hello world</p>\r\n"
		"\r\n"
		"--sub1\r\n"
		"Content-Type: text/plain\r\n"
		"Content-Transfer-Encoding: \?invalid\r\n"
		"\r\n"
		"Hello another world\r\n"
		"\r\n"
		"--sub1--\r\n"
		"Sub MIME epilogue\r\n"
		"\r\n"
		"--foo bar--\r\n"
		"Root MIME epilogue\r\n",
		962,
		NULL,
		NULL,
		"((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") \"<foo@examp"
		"le.com>\" \"hellodescription\" \"7bit\" 7 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"inline\" (\"foo"
		"\" \"bar\")) (\"en\" \"fi\" \"se\") \"http://example.com/test.txt\")(\"message\" \"rfc822\""
		" NIL NIL NIL \"7bit\" 412 (\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" ((NIL NIL \"sub\""
		" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((N"
		"IL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL NIL) (("
		"\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 1 NIL NIL NIL NIL)(\"text\""
		" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 1 NIL NIL NIL NIL) \"alternative\""
		" (\"boundary\" \"sub1\") NIL NIL NIL) 21 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"foo bar"
		"\") NIL NIL NIL)",
		NULL,
		-1,
	},
	{
		"dovecot_bodystructure_6",
		"Content-Type: multipart/mixed; boundary=\"foo\"\r\n"
		"\r\n",
		49,
		NULL,
		NULL,
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) \"mix"
		"ed\" (\"boundary\" \"foo\") NIL NIL NIL)",
		NULL,
		-1,
	},
	{
		"dovecot_envelope_1",
		"Message-ID: <msg@id>\r\n"
		"In-Reply-To: <reply@to.id>\r\n"
		"Date: Thu, 15 Feb 2007 01:02:03 +0200\r\n"
		"Subject: subject header\r\n"
		"From: From Real <fromuser@fromdomain.org>\r\n"
		"To: To Real <touser@todomain.org>\r\n"
		"Cc: Cc Real <ccuser@ccdomain.org>\r\n"
		"Bcc: Bcc Real <bccuser@bccdomain.org>\r\n"
		"Sender: Sender Real <senderuser@senderdomain.org>\r\n"
		"Reply-To: ReplyTo Real <replytouser@replytodomain.org>\r\n"
		"\r\n"
		"body\r\n",
		381,
		"(\"Thu, 15 Feb 2007 01:02:03 +0200\" \"subject header\" ((\"From Real\" NIL \"fromuser\" \""
		"fromdomain.org\")) ((\"Sender Real\" NIL \"senderuser\" \"senderdomain.org\")) ((\"ReplyTo "
		"Real\" NIL \"replytouser\" \"replytodomain.org\")) ((\"To Real\" NIL \"touser\" \"todomain."
		"org\")) ((\"Cc Real\" NIL \"ccuser\" \"ccdomain.org\")) ((\"Bcc Real\" NIL \"bccuser\" \"bc"
		"cdomain.org\")) \"<reply@to.id>\" \"<msg@id>\")",
		NULL,
		NULL,
		NULL,
		-1,
	},
	{
		"dovecot_envelope_2",
		"Date: Thu, 15 Feb 2007 01:02:03 +0200\r\n"
		"From: user@domain\r\n"
		"\r\n"
		"body\r\n",
		66,
		"(\"Thu, 15 Feb 2007 01:02:03 +0200\" NIL ((NIL NIL \"user\" \"domain\")) ((NIL NIL \"user\""
		" \"domain\")) ((NIL NIL \"user\" \"domain\")) NIL NIL NIL NIL NIL)",
		NULL,
		NULL,
		NULL,
		-1,
	},
	{
		"dovecot_envelope_3",
		"Date: Thu, 15 Feb 2007 01:02:03 +0200\r\n"
		"From: user@domain (Real Name)\r\n"
		"To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\r\n"
		"Cc: group:;, group2: (foo) ;\r\n"
		"\r\n"
		"body\r\n",
		162,
		"(\"Thu, 15 Feb 2007 01:02:03 +0200\" NIL ((\"Real Name\" NIL \"user\" \"domain\")) ((\"Real"
		" Name\" NIL \"user\" \"domain\")) ((\"Real Name\" NIL \"user\" \"domain\")) ((NIL NIL \"gro"
		"up\" NIL)(NIL NIL \"g1\" \"d1.org\")(NIL NIL \"g2\" \"d2.org\")(NIL NIL NIL NIL)(NIL NIL \""
		"group2\" NIL)(NIL NIL \"g3\" \"d3.org\")(NIL NIL NIL NIL)) ((NIL NIL \"group\" NIL)(NIL NIL"
		" NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)",
		NULL,
		NULL,
		NULL,
		-1,
	},
	{
		"dovecot_envelope_4",
		"Date: Thu, 15 Feb 2007 01:02:03 +0200\r\n"
		"From: user@domain (Real Name)\r\n"
		"Sender: \r\n"
		"Reply-To: \r\n"
		"\r\n"
		"body\r\n",
		100,
		"(\"Thu, 15 Feb 2007 01:02:03 +0200\" NIL ((\"Real Name\" NIL \"user\" \"domain\")) ((\"Real"
		" Name\" NIL \"user\" \"domain\")) ((\"Real Name\" NIL \"user\" \"domain\")) NIL NIL NIL NIL"
		" NIL)",
		NULL,
		NULL,
		NULL,
		-1,
	},
	{
		"dovecot_envelope_5",
		"Date: Thu, 15 Feb 2007 01:02:03 +0200\r\n"
		"From: <@route:user@domain>\r\n"
		"\r\n"
		"body\r\n",
		75,
		"(\"Thu, 15 Feb 2007 01:02:03 +0200\" NIL ((NIL \"@route\" \"user\" \"domain\")) ((NIL \"@ro"
		"ute\" \"user\" \"domain\")) ((NIL \"@route\" \"user\" \"domain\")) NIL NIL NIL NIL NIL)",
		NULL,
		NULL,
		NULL,
		-1,
	},
	{
		"rfc3501_nested",
		"From: John Doe <john@example.com>\r\n"
		"To: group: a@b.c, \"Q, R\" <q@r.s>;, x@y (Comment Name)\r\n"
		"Subject: =\?utf-8\?q\?h=C3=A9llo\?= world\r\n"
		"Date: Sat, 24 Mar 2007 23:00:00 +0200\r\n"
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
		"\r\n"
		"pre\r\n"
		"--b1\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"\r\n"
		"hello\r\n"
		"--b1\r\n"
		"Content-Type: message/rfc822\r\n"
		"\r\n"
		"From: a@b\r\n"
		"Subject: inner\r\n"
		"\r\n"
		"inner body\r\n"
		"--b1\r\n"
		"Content-Type: application/pdf; name*0*=utf-8''%E2%82%AC; name*1=\".pdf\"\r\n"
		"Content-Disposition: attachment; filename*=utf-8''x%20y.pdf\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n"
		"AAAA\r\n"
		"--b1--\r\n"
		"epi\r\n",
		551,
		"(\"Sat, 24 Mar 2007 23:00:00 +0200\" \"=\?utf-8\?q\?h=C3=A9llo\?= world\" ((\"John Doe\" NI"
		"L \"john\" \"example.com\")) ((\"John Doe\" NIL \"john\" \"example.com\")) ((\"John Doe\" N"
		"IL \"john\" \"example.com\")) ((NIL NIL \"group\" NIL)(NIL NIL \"a\" \"b.c\")(\"Q, R\" NIL "
		"\"q\" \"r.s\")(NIL NIL NIL NIL)(\"Comment Name\" NIL \"x\" \"y\")) NIL NIL NIL NIL)",
		"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 1)(\"message\" \"rfc822\" N"
		"IL NIL NIL \"7bit\" 39 (NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL"
		" NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL "
		"NIL \"7bit\" 10 1) 4)(\"application\" \"pdf\" (\"name\" {7}\r\n"
		"\342\202\254.pdf) NIL NIL \"base64\" 4) \"mixed\")",
		"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 1 NIL NIL NIL NIL)(\"messag"
		"e\" \"rfc822\" NIL NIL NIL \"7bit\" 39 (NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a"
		"\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \""
		"us-ascii\") NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)(\"application\" \"pdf"
		"\" (\"name\" {7}\r\n"
		"\342\202\254.pdf) NIL NIL \"base64\" 4 NIL (\"attachment\" (\"filename\" \"x y.pdf\")) NIL "
		"NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)",
		"[1,[0,216,216,335,1,0,4],[227,43,270,5,0,0,0],[283,32,315,39,2,0,1],[315,29,344,10,0,0,0],["
		"362,170,532,4,0,3,0]]",
		0,
	},
	{
		"bare_lf",
		"Subject: lf\n"
		"Content-Type: multipart/alternative; boundary=lf\n"
		"\n"
		"--lf\n"
		"Content-Type: text/plain\n"
		"\n"
		"plain\n"
		"lines\n"
		"--lf\n"
		"Content-Type: text/html\n"
		"\n"
		"<p>html</p>\n"
		"--lf--\n",
		154,
		"(NIL \"lf\" NIL NIL NIL NIL NIL NIL NIL NIL)",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 2)(\"text\" \"html\" (\""
		"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 1) \"alternative\")",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 2 NIL NIL NIL NIL)(\"te"
		"xt\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 1 NIL NIL NIL NIL) \"alternati"
		"ve\" (\"boundary\" \"lf\") NIL NIL NIL)",
		"[1,[0,62,62,92,1,0,2],[67,26,93,11,0,0,0],[110,25,135,11,0,0,0]]",
		0,
	},
	{
		"headers_only",
		"From: a@example.org\r\n"
		"Subject: no body",
		37,
		"(NIL \"no body\" ((NIL NIL \"a\" \"example.org\")) ((NIL NIL \"a\" \"example.org\")) ((NIL "
		"NIL \"a\" \"example.org\")) NIL NIL NIL NIL NIL)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
		"[1,[0,37,37,0,0,0,0]]",
		16,
	},
	{
		"empty",
		"",
		0,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
		"[1,[0,0,0,0,0,0,0]]",
		0,
	},
	{
		"no_boundary",
		"Content-Type: multipart/mixed\r\n"
		"\r\n"
		"line one\r\n"
		"line two\r\n",
		53,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2) \"mixed\")",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2 NIL NIL NIL NIL) \"mi"
		"xed\" NIL NIL NIL NIL)",
		"[1,[0,33,33,20,1,0,1],[33,0,33,20,0,0,0]]",
		8,
	},
	{
		"missing_close",
		"Content-Type: multipart/mixed; boundary=x\r\n"
		"\r\n"
		"--x\r\n"
		"\r\n"
		"one\r\n"
		"--x\r\n"
		"\r\n"
		"two\r\n",
		69,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)(\"text\" \"plain\" (\""
		"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 1) \"mixed\")",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)(\"tex"
		"t\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 1 NIL NIL NIL NIL) \"mixed\" (\""
		"boundary\" \"x\") NIL NIL NIL)",
		"[1,[0,45,45,24,1,0,2],[50,2,52,3,0,0,0],[62,2,64,5,0,0,0]]",
		8,
	},
	{
		"digest",
		"Content-Type: multipart/digest; boundary=d\r\n"
		"\r\n"
		"--d\r\n"
		"\r\n"
		"Subject: s1\r\n"
		"\r\n"
		"m1\r\n"
		"--d\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"t\r\n"
		"--d--\r\n",
		115,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 17 (NIL \"s1\" NIL NIL NIL NIL NIL NIL NIL NI"
		"L) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1) 3)(\"text\" \"plain"
		"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 1) \"digest\")",
		"((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 17 (NIL \"s1\" NIL NIL NIL NIL NIL NIL NIL NI"
		"L) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL) 3 N"
		"IL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 1 NIL NIL "
		"NIL NIL) \"digest\" (\"boundary\" \"d\") NIL NIL NIL)",
		"[1,[0,46,46,69,1,0,3],[51,2,53,17,2,0,1],[53,15,68,2,0,0,0],[77,28,105,1,0,0,0]]",
		0,
	},
	{
		"part_without_header",
		"Content-Type: multipart/mixed; boundary=n\r\n"
		"\r\n"
		"--n\r\n"
		"body text first\r\n"
		"--n--\r\n",
		74,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 1) \"mixed\")",
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 1 NIL NIL NIL NIL) \"mi"
		"xed\" (\"boundary\" \"n\") NIL NIL NIL)",
		"[1,[0,45,45,29,1,0,1],[50,0,50,15,0,0,0]]",
		16,
	},
	{
		"rfc2231_both_forms",
		"Content-Type: application/octet-stream; name=\"plain.bin\"; name*=iso-8859-1'de'%FCber.bin\r"
		"\n"
		"Content-Disposition: attachment; filename*0=\"a b\"; filename*1*=%41%42; filename*2=\".c\"\r"
		"\n"
		"\r\n"
		"x",
		181,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"application\" \"octet-stream\" (\"name\" {9}\r\n"
		"\303\274ber.bin) NIL NIL \"7bit\" 1)",
		"(\"application\" \"octet-stream\" (\"name\" {9}\r\n"
		"\303\274ber.bin) NIL NIL \"7bit\" 1 NIL (\"attachment\" (\"filename\" \"a bAB.c\")) NIL NIL"
		")",
		"[1,[0,180,180,1,0,0,0]]",
		0,
	},
	{
		"addresses",
		"From: \"j s\"@example.org, broken, <>\r\n"
		"To: a@b (Name) , Phrase  With   Spaces <c@d>, \"Quoted \\\"Name\\\"\" <e@f>\r\n"
		"Cc: undisclosed-recipients:;\r\n"
		"\r\n",
		140,
		"(NIL NIL ((NIL NIL \"j s\" \"example.org\")(NIL NIL \"broken\" \"MISSING_DOMAIN\")) ((NIL N"
		"IL \"j s\" \"example.org\")(NIL NIL \"broken\" \"MISSING_DOMAIN\")) ((NIL NIL \"j s\" \"exa"
		"mple.org\")(NIL NIL \"broken\" \"MISSING_DOMAIN\")) ((\"Name\" NIL \"a\" \"b\")(\"Phrase Wi"
		"th Spaces\" NIL \"c\" \"d\")(\"Quoted \\\"Name\\\"\" NIL \"e\" \"f\")) ((NIL NIL \"undisclo"
		"sed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
		"[1,[0,140,140,0,0,0,0]]",
		0,
	},
	{
		"encoded_rfc822",
		"Content-Type: message/rfc822\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n"
		"RnJvbTogYUBiDQoNCmhp\r\n",
		89,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 22)",
		"(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 22 NIL NIL NIL NIL)",
		"[1,[0,67,67,22,0,3,0]]",
		64,
	},
	{
		"message_global",
		"Content-Type: message/global\r\n"
		"\r\n"
		"Subject: \303\251\r\n"
		"\r\n"
		"body",
		51,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"message\" \"global\" NIL NIL NIL \"7bit\" 19 (NIL {2}\r\n"
		"\303\251 NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NI"
		"L NIL \"7bit\" 4 1) 3)",
		"(\"message\" \"global\" NIL NIL NIL \"7bit\" 19 (NIL {2}\r\n"
		"\303\251 NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NI"
		"L NIL \"7bit\" 4 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)",
		"[1,[0,32,32,19,2,0,1],[32,15,47,4,0,0,0]]",
		0,
	},
	{
		"invalid_ctype",
		"Content-Type: text\r\n"
		"Content-Transfer-Encoding: x-uuencode\r\n"
		"\r\n"
		"body\r\n",
		67,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"x-uuencode\" 6 1)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"x-uuencode\" 6 1 NIL NIL NIL NIL)",
		"[1,[0,61,61,6,0,5,0]]",
		0,
	},
	{
		"uppercase",
		"Content-Type: TEXT/PLAIN; CHARSET=\"UTF-8\"\r\n"
		"Content-Transfer-Encoding: BASE64\r\n"
		"Content-Disposition: INLINE\r\n"
		"\r\n"
		"aGk=\r\n",
		115,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"BASE64\" 6 1)",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"BASE64\" 6 1 NIL (\"INLINE\" NIL) NIL"
		" NIL)",
		"[1,[0,109,109,6,0,3,0]]",
		0,
	},
	{
		"extension_fields",
		"Content-Type: text/plain; format=flowed\r\n"
		"Content-ID: <id@x>\r\n"
		"Content-Description: a\r\n"
		" description\r\n"
		"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
		"Content-Disposition: inline; filename=\"a.txt\"; size=3\r\n"
		"Content-Language: en-GB (British), de\r\n"
		"Content-Location: http://example.org/a.txt\r\n"
		"\r\n"
		"abc",
		281,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") \"<id@x>\" \"a descrip"
		"tion\" \"7bit\" 3 1)",
		"(\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") \"<id@x>\" \"a descrip"
		"tion\" \"7bit\" 3 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"inline\" (\"filename\" \"a.txt\" \"size"
		"\" \"3\")) (\"en-GB\" \"de\") \"http://example.org/a.txt\")",
		"[1,[0,278,278,3,0,0,0]]",
		0,
	},
	{
		"prefix_boundaries",
		"Content-Type: multipart/mixed; boundary=abc\r\n"
		"\r\n"
		"--abc\r\n"
		"Content-Type: multipart/alternative; boundary=abc-1\r\n"
		"\r\n"
		"--abc-1\r\n"
		"\r\n"
		"i1\r\n"
		"--abc-1\r\n"
		"\r\n"
		"i2\r\n"
		"--abc-1--\r\n"
		"--abc\r\n"
		"\r\n"
		"o2\r\n"
		"--abc--\r\n",
		172,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1)(\"text\" \"plain\" ("
		"\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1) \"alternative\")(\"text\" \"plain\" (\"char"
		"set\" \"us-ascii\") NIL NIL \"7bit\" 2 1) \"mixed\")",
		"(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL)(\"te"
		"xt\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL) \"alternati"
		"ve\" (\"boundary\" \"abc-1\") NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NI"
		"L NIL \"7bit\" 2 1 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"abc\") NIL NIL NIL)",
		"[1,[0,47,47,125,1,0,4],[54,55,109,39,1,0,2],[118,2,120,2,0,0,0],[133,2,135,2,0,0,0],[157,2,"
		"159,2,0,0,0]]",
		0,
	},
	{
		"padding_and_inner_unclosed",
		"Content-Type: multipart/mixed; boundary=o\r\n"
		"\r\n"
		"--o \t\r\n"
		"Content-Type: multipart/mixed; boundary=i\r\n"
		"\r\n"
		"--i\r\n"
		"\r\n"
		"in\r\n"
		"--o\r\n"
		"\r\n"
		"out\r\n"
		"--o--\r\n",
		127,
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1) \"mixed\")(\"text\" "
		"\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1) \"mixed\")",
		"(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL) \"mi"
		"xed\" (\"boundary\" \"i\") NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL N"
		"IL \"7bit\" 3 1 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"o\") NIL NIL NIL)",
		"[1,[0,45,45,82,1,0,3],[52,45,97,9,1,0,1],[102,2,104,2,0,0,0],[113,2,115,3,0,0,0]]",
		8,
	},
	{
		"obs_header_syntax",
		"Subject : spaced colon\r\n"
		"X-Folded: a\r\n"
		"\tb\r\n"
		"Date: Mon, 3 Feb 97 10:20:30 EST\r\n"
		"\r\n",
		77,
		"(\"Mon, 3 Feb 97 10:20:30 EST\" \"spaced colon\" NIL NIL NIL NIL NIL NIL NIL NIL)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
		"[1,[0,77,77,0,0,0,0]]",
		0,
	},
};

static void check_buf(const char *name, const char *what, const struct buf *got, const char *want)
{
	if (want == NULL)
		return;
	if (got->len != strlen(want) || memcmp(got->data, want, got->len) != 0) {
		fprintf(stderr, "  %s: %s\n    got  %.*s\n    want %s\n", name, what, (int)got->len,
				(const char *)got->data, want);
		unit_current_failed = 1;
	}
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mime_case *c = &cases[i];
		struct mime_message m;

		mime_message_init(&m);
		mime_parse(c->raw, c->len, NULL, &m);
		check_buf(c->name, "ENVELOPE", &m.envelope, c->envelope);
		check_buf(c->name, "BODY", &m.body, c->body);
		check_buf(c->name, "BODYSTRUCTURE", &m.bodystructure, c->bodystructure);
		check_buf(c->name, "parts", &m.parts, c->parts);
		if (c->degraded >= 0 && m.degraded != (unsigned)c->degraded) {
			fprintf(stderr, "  %s: degraded %u, want %d\n", c->name, m.degraded, c->degraded);
			unit_current_failed = 1;
		}
		mime_message_free(&m);
	}
}

/* IMAP strings: quoted when short 7-bit text, else a literal; a NUL in a
 * literal becomes 0x80 (RFC 3501 CHAR8 excludes NUL). */
static void test_quoting(void)
{
	static const char raw[] = "Subject: caf\303\251 \"q\" \\\r\nIn-Reply-To: a\0b\r\nMessage-ID: <";
	struct buf msg;
	struct mime_message m;
	char want[2048];

	buf_init(&msg);
	buf_append(&msg, raw, sizeof(raw) - 1);
	for (int i = 0; i < 1100; i++)
		buf_append(&msg, "x", 1);
	buf_append_str(&msg, ">\r\nFrom: \"q\\\"uote\" <a@b>\r\n\r\n");
	mime_message_init(&m);
	mime_parse((const char *)msg.data, msg.len, NULL, &m);
	int n = snprintf(want, sizeof(want), "(NIL {11}\r\ncaf\303\251 \"q\" \\ ((\"q\\\"uote\" NIL \"a\" \"b\")) "
			"((\"q\\\"uote\" NIL \"a\" \"b\")) ((\"q\\\"uote\" NIL \"a\" \"b\")) NIL NIL NIL "
			"{3}\r\na\200b {1102}\r\n<");
	CHECK(m.envelope.len == (size_t)n + 1101 + 1);
	CHECK(memcmp(m.envelope.data, want, (size_t)n) == 0);
	CHECK(memcmp(m.envelope.data + m.envelope.len - 2, "x>)", 2) == 0 ||
	      memcmp(m.envelope.data + m.envelope.len - 3, "x>)", 3) == 0);
	mime_message_free(&m);
	buf_free(&msg);
}

/* Every prefix of a message is a message too (a truncated upload): each
 * must parse, and every range in its part map must lie inside it. */
static void test_every_prefix(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mime_case *c = &cases[i];
		for (size_t len = 0; len <= c->len; len++) {
			struct mime_message m;
			struct mime_section s;
			uint32_t path[2];

			mime_message_init(&m);
			mime_parse(c->raw, len, NULL, &m);
			CHECK(m.envelope.len > 0 && m.bodystructure.len > 0 && m.body.len > 0);
			CHECK(mime_section_find(m.parts.data, m.parts.len, NULL, 0, &s) == 0);
			CHECK(s.header.off == 0 && s.header.len + s.body.len == len);
			for (path[0] = 1; path[0] <= 4; path[0]++) {
				for (path[1] = 1; path[1] <= 3; path[1]++) {
					for (size_t d = 1; d <= 2; d++) {
						if (mime_section_find(m.parts.data, m.parts.len, path, d, &s) < 0)
							continue;
						CHECK(s.header.off + s.header.len <= len);
						CHECK(s.body.off + s.body.len <= len);
						CHECK(s.header.off + s.header.len <= s.body.off);
					}
				}
			}
			mime_message_free(&m);
		}
	}
}

int main(void)
{
	UNIT_RUN(test_cases);
	UNIT_RUN(test_quoting);
	UNIT_RUN(test_every_prefix);
	return unit_report("test_mime");
}
