#!/usr/bin/python3
"""Writes the generated seeds of fuzz_mime (tests/fuzz/corpus/mime/gen_*.eml).

The real mail of tests/fixtures/mail is the other half of the seed corpus
(the Makefile passes both). These are the messages real mail rarely is:
structure past the limits of server/mime (depth 32, 1,000 parts, 1 MiB and
5,000 fields of header, as in mime_limits_default), broken boundaries, bad
encodings and charsets, NUL bytes, bare CR and LF. Each is small enough for
libFuzzer to mutate quickly (the largest sets its -max_len). Run it again
after changing it: `/usr/bin/python3 tests/fuzz/make_mime_corpus.py`.
"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "mime")
HDR = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"


def multipart(boundary, parts, sub=b"mixed", close=True, extra=b""):
    out = b"Content-Type: multipart/" + sub + b"; boundary=\"" + boundary + b"\"" + extra + b"\r\n\r\n"
    for p in parts:
        out += b"--" + boundary + b"\r\n" + p + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n"
    return out


def text(body, ctype=b"text/plain; charset=us-ascii", cte=None):
    h = b"Content-Type: " + ctype + b"\r\n"
    if cte:
        h += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    return h + b"\r\n" + body


def deep_multipart(levels):
    inner = text(b"deepest")
    for i in reversed(range(levels)):
        inner = multipart(b"d%d" % i, [inner])
    return HDR + inner


def deep_rfc822(levels):
    inner = HDR + b"\r\ninnermost\r\n"
    for _ in range(levels):
        inner = HDR + b"Content-Type: message/rfc822\r\n\r\n" + inner
    return inner


def rfc822_multipart_alternating(levels):
    inner = text(b"core")
    for i in range(levels):
        if i % 2:
            inner = b"Content-Type: message/rfc822\r\n\r\n" + HDR + inner
        else:
            inner = multipart(b"m%d" % i, [text(b"sibling %d" % i), inner])
    return HDR + inner


SEEDS = {
    # Depth (max_depth 32): just inside, at, and past the limit.
    "deep_multipart_31": deep_multipart(31),
    "deep_multipart_33": deep_multipart(33),
    "deep_multipart_60": deep_multipart(60),
    "deep_rfc822_40": deep_rfc822(40),
    "rfc822_in_rfc822": deep_rfc822(2),
    "rfc822_multipart_alternating_40": rfc822_multipart_alternating(40),
    "rfc822_empty_inner": HDR + b"Content-Type: message/rfc822\r\n\r\n",
    "rfc822_base64": HDR + b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                     b"U3ViamVjdDogeAoKeQo=\r\n",
    "message_global": HDR + b"Content-Type: message/global\r\n\r\nSubject: caf\xc3\xa9\r\n\r\nbody\r\n",
    # Parts (max_parts 1,000).
    "many_parts_1100": HDR + multipart(b"p", [b"\r\nx"] * 1100),
    "many_parts_nested": HDR + multipart(b"o", [multipart(b"i%d" % i, [b"\r\ny"] * 120) for i in range(10)]),
    "many_empty_multiparts": HDR + multipart(b"o", [b"Content-Type: multipart/mixed; boundary=e\r\n\r\n"] * 50),
    # Header size (max_header_bytes 1 MiB, max_fields 5,000).
    "huge_subject_20k": b"Subject: " + b"w " * 10000 + b"\r\n" + HDR + b"\r\nbody\r\n",
    "fields_5200": b"".join(b"X-%d: v\r\n" % i for i in range(5200)) + b"\r\nbody\r\n",
    "folded_2000": b"Subject: start\r\n" + b" fold\r\n" * 2000 + HDR + b"\r\nbody\r\n",
    "part_header_huge": HDR + multipart(b"h", [b"X-Big: " + b"z" * 8000 + b"\r\n\r\npart"]),
    "params_500": HDR + b"Content-Type: text/plain" + b"".join(b"; p%d=v" % i for i in range(500)) + b"\r\n\r\nx\r\n",
    # Broken boundaries.
    "boundary_prefix_of_other": HDR + multipart(b"ab", [multipart(b"abc", [text(b"x")]), text(b"y")]),
    "boundary_same_nested": HDR + multipart(b"s", [multipart(b"s", [text(b"x")]), text(b"y")]),
    "boundary_unclosed_nested": HDR + multipart(b"o", [multipart(b"i", [text(b"x")], close=False)]),
    "boundary_close_only": HDR + b"Content-Type: multipart/mixed; boundary=c\r\n\r\n--c--\r\n",
    "boundary_empty_param": HDR + b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\nx\r\n----\r\n",
    "boundary_long_spaces": HDR + multipart(b" sp ace " + b"L" * 200 + b" ", [text(b"x")]),
    "boundary_in_header": HDR + b"Content-Type: multipart/mixed; boundary=q\r\n--q\r\n\r\n--q\r\n\r\nx\r\n--q--\r\n",
    "boundary_garbage_after": HDR + b"Content-Type: multipart/mixed; boundary=g\r\n\r\n--gx\r\n\r\n--g \t\r\n\r\nin\r\n--g--junk\r\n--g--\r\n",
    "boundary_with_nul": HDR + b"Content-Type: multipart/mixed; boundary=\"n\x00n\"\r\n\r\n--n\x00n\r\n\r\nx\r\n--n\x00n--\r\n",
    "multipart_no_parts_epilogue": HDR + b"Content-Type: multipart/alternative; boundary=z\r\n\r\npreamble only\r\n",
    "digest_defaults": HDR + multipart(b"dg", [b"\r\n" + HDR + b"\r\none", b"Content-Type: text/plain\r\n\r\ntwo"], sub=b"digest"),
    # Encodings.
    "base64_garbage": HDR + text(b"SGVsbG8*&^%$#@!\r\n====\r\nQQ", cte=b"base64"),
    "base64_truncated": HDR + text(b"SGVsbG8gd29ybG", cte=b"base64"),
    "qp_broken": HDR + text(b"a=\r\nb=4 c=G1 =\r\n=0 =\r=\n= =3D=\r\n=", cte=b"quoted-printable"),
    "cte_unknown": HDR + text(b"x", cte=b"x-uuencode; junk=\"1"),
    "cte_on_multipart": HDR + b"Content-Transfer-Encoding: base64\r\n" + multipart(b"e", [text(b"x")]),
    "eight_bit_invalid_utf8": HDR + text(b"\xff\xfe\xc3\x28\xe2\x82\xf0\x9f\x98\r\n", ctype=b"text/plain; charset=utf-8", cte=b"8bit"),
    # Charsets.
    "charset_unknown": HDR + text(b"caf\xe9", ctype=b"text/plain; charset=x-no-such-charset"),
    "charset_utf7": HDR + text(b"+AGEAYgBj- +ZeVnLIqe-", ctype=b"text/plain; charset=utf-7"),
    "charset_iso2022jp_broken": HDR + text(b"\x1b$B$3$s\x1b(Jx\x1b$", ctype=b"text/plain; charset=iso-2022-jp"),
    "charset_utf16_odd": HDR + text(b"\xff\xfea\x00b", ctype=b"text/plain; charset=utf-16"),
    "charset_long_name": HDR + text(b"x", ctype=b"text/plain; charset=" + b"c" * 300),
    # RFC 2047 and RFC 2231.
    "rfc2047_malformed": b"Subject: =?utf-8?B?invalid*?= =?utf-8?Q?a=ZZ?= =?x?Q?b?= =?utf-8??c?= =??B??=\r\n"
                         b"From: =?iso-8859-1?q?J=F6rg?= <j@example.org>\r\n\r\nx\r\n",
    "rfc2047_many_words": b"Subject: " + b" ".join([b"=?utf-8?B?w6k=?="] * 400) + b"\r\n\r\nx\r\n",
    "rfc2231_disorder": HDR + b"Content-Type: application/x; name*2=c; name*0*=utf-8''a%; name*99999999999=z;"
                        b" name*1*=%ZZ%e2%82\r\nContent-Disposition: attachment; filename*=''\r\n\r\nx\r\n",
    # Addresses and dates.
    "address_comments_deep": b"From: " + b"(" * 300 + b"c" + b")" * 299 + b" <a@b>\r\n\r\nx\r\n",
    "address_unbalanced": b"From: \"unterminated <a@b\r\nTo: <<<>>>, @, :;, g: h: i;;, \"\\\r\nCc: a@, @b, <@r1,@r2:u@d>\r\n\r\nx\r\n",
    "date_malformed": b"Date: Feb 30 99999999999 25:61:61 +9999 (comment\r\nDate: x\r\n\r\nx\r\n",
    # NUL bytes and line ends.
    "nuls_everywhere": b"Subj\x00ect: a\x00b\r\nFrom: \x00<a@b>\r\n\r\nbody\x00\x00 text\r\n",
    "bare_cr": HDR.replace(b"\r\n", b"\r") + b"\rbody\rmore\r",
    "bare_lf_mixed": HDR.replace(b"\r\n", b"\n") + b"\r\n" + multipart(b"l", [text(b"a"), text(b"b")]).replace(b"\r\n", b"\n"),
    "cr_cr_lf": HDR.replace(b"\r\n", b"\r\r\n") + b"\r\r\nbody\r\r\n",
    # Headers without bodies and other odd shapes.
    "only_blank_line": b"\r\n",
    "header_no_separator": HDR.rstrip(b"\r\n"),
    "field_without_colon": b"Subject x\r\n: empty name\r\n continued first\r\n\r\nx\r\n",
    "empty_text_part": HDR + multipart(b"t", [b"Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n", b"Content-Type: text/html\r\n\r\n"]),
    "html_broken": HDR + text(b"<html><p>a &amp; &#x110000; &#99999999999; &nosuch; <scr<script>ipt>x"
                              b"<!-- unclosed <style>p{}</style", ctype=b"text/html; charset=utf-8"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, "gen_" + name + ".eml"), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
