"""Deterministic generator of realistic ~4 KB messages for the store benchmark.

Every message is distinct (its Message-ID, Date and a line of the body carry
its number), so that APPEND always stores new content (kairand keeps one copy
per SHA-256: identical bytes would take the ON CONFLICT path instead of
inserting). The mix, drawn from a seeded PRNG so that every run stores exactly
the same bytes:

  ~60 %  text/plain (7bit or quoted-printable, sometimes a RFC 2047 subject)
  ~25 %  multipart/alternative: text/plain + text/html
  ~15 %  multipart/mixed: text/plain + a small base64 attachment
         (PDF, PNG or a text/calendar), one in three of them nested
         (multipart/mixed > multipart/alternative + attachment)

Headers vary too: 2-4 Received lines, a DKIM-Signature half the time, Cc,
In-Reply-To/References on replies, List-Id on list mail, X-Mailer or
User-Agent. Lines end in CRLF, as IMAP APPEND transmits them. Sizes are
3-5.5 KB, about 4 KB on average.

Standard library only.
"""

import base64
import random
import re

WORDS = ("the of and to in is that for it as was with be by on not he this are or his "
         "from at which but have an they you were their one all we can her has there been "
         "if more when will would who so no quarterly report meeting schedule invoice "
         "budget review draft proposal customer support ticket release deployment server "
         "database backup mailbox shared folder team office project deadline agenda minutes "
         "contract renewal pricing discount shipment warehouse inventory order delivery "
         "feedback question answer update status weekly monthly forecast revenue expenses "
         "travel hotel flight conference workshop training onboarding security password "
         "account access permission network printer laptop monitor keyboard license").split()

FIRST = ("Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy "
         "Rupert Sybil Trent Victor Walter Zoé Jürgen Søren Ana Łukasz Chloé").split()
LAST = ("Adams Baker Clark Davis Evans Fischer García Hughes Ito Jensen Kowalski Lambert "
        "Müller Nakamura O'Brien Peters Quinn Rossi Schmidt Tanaka Urban Vasquez Weber").split()
DOMAINS = ("example.org example.com example.net partner.example supplier.example "
           "lists.example.org mail.example.com").split()
MAILERS = ("Mozilla Thunderbird 115.6.0", "Microsoft Outlook 16.0", "Apple Mail (2.3731.700.6)",
           "Evolution 3.46.4", "Roundcube Webmail/1.6.5", "K-9 Mail for Android", "mutt/2.2.9")
ZONES = ("+0000", "+0100", "+0200", "-0500", "-0800", "+0900", "+0530")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


def _needs_encoding(s):
    return any(ord(c) > 127 for c in s)


def _encode_word(s):
    """RFC 2047 B-encoded word (UTF-8)."""
    return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="


def _display(rnd):
    name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
    local = name.lower().replace(" ", ".").replace("'", "")
    local = local.encode("ascii", "ignore").decode() or "user"
    addr = f"{local}@{rnd.choice(DOMAINS)}"
    if _needs_encoding(name):
        return f"{_encode_word(name)} <{addr}>"
    if "'" in name:
        return f"\"{name}\" <{addr}>"
    return f"{name} <{addr}>"


def _sentence(rnd, n):
    return " ".join(rnd.choices(WORDS, k=n)).capitalize() + "."


def _wrap(text, width=72):
    """Greedy word wrap (textwrap is too slow for 20,000 messages)."""
    lines, cur, n = [], [], 0
    for w in text.split(" "):
        if cur and n + 1 + len(w) > width:
            lines.append(" ".join(cur))
            cur, n = [], 0
        n += len(w) + (1 if cur else 0)
        cur.append(w)
    if cur:
        lines.append(" ".join(cur))
    return "\n".join(lines)


def _paragraphs(rnd, target_bytes):
    out, size = [], 0
    while size < target_bytes:
        p = " ".join(_sentence(rnd, rnd.randint(6, 16)) for _ in range(rnd.randint(2, 5)))
        out.append(_wrap(p))
        size += len(out[-1]) + 2
    return "\n\n".join(out)


def _date(rnd, n):
    # Spread over 2024-2025, monotonic in n with some jitter.
    day = (n * 7 // 100 + rnd.randint(0, 3)) % 28 + 1
    month = (n // 1000) % 12
    year = 2024 + (n // 12000) % 2
    return (f"{DAYS[(day + month) % 7]}, {day} {MONTHS[month]} {year} "
            f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d} "
            f"{rnd.choice(ZONES)}")


def _received(rnd, n, i):
    host = f"mx{rnd.randint(1, 9)}.{rnd.choice(DOMAINS)}"
    return (f"Received: from {host} ({host} [192.0.2.{rnd.randint(1, 254)}])\n"
            f"\tby mail.example.org (Postfix) with ESMTPS id {n:06X}{i}{rnd.randint(0, 0xffff):04X}\n"
            f"\tfor <team@example.org>; {_date(rnd, n)}")


_QP_SPECIAL = re.compile(r"[^\x20-\x3c\x3e-\x7e]")


def _qp(text):
    """A light quoted-printable encoding: enough to look real."""
    out = []
    for line in text.split("\n"):
        enc = _QP_SPECIAL.sub(lambda m: "".join(f"={b:02X}" for b in m.group().encode()), line)
        while len(enc) > 76:
            cut = 75
            while enc[cut - 1] == "=" or enc[cut - 2] == "=":   # do not split an escape
                cut -= 1
            out.append(enc[:cut] + "=")
            enc = enc[cut:]
        out.append(enc)
    return "\n".join(out)


def _b64(rnd, nbytes):
    enc = base64.b64encode(rnd.randbytes(nbytes)).decode()
    return "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))


def _html(text):
    paras = "".join(f"<p>{p.replace(chr(10), ' ')}</p>\n" for p in text.split("\n\n"))
    return f"<html><head><meta charset=\"utf-8\"></head><body>\n{paras}</body></html>"


def message(n, seed=20260101, size=3500):
    """Message number n (distinct for every n) as CRLF bytes."""
    rnd = random.Random(seed * 1000003 + n)
    target = int(size * rnd.uniform(0.75, 1.3))
    hdr = [_received(rnd, n, i) for i in range(rnd.randint(2, 4))]
    if rnd.random() < 0.5:
        hdr.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\n"
                   f"\ts=sel{rnd.randint(1, 3)}; t={1700000000 + n}; h=from:to:subject:date:message-id;\n"
                   f"\tbh={base64.b64encode(rnd.randbytes(32)).decode()};\n"
                   f"\tb={_b64(rnd, 128).replace(chr(10), chr(10) + chr(9))}")
    hdr.append(f"From: {_display(rnd)}")
    hdr.append("To: " + ", ".join(_display(rnd) for _ in range(rnd.randint(1, 3))))
    if rnd.random() < 0.3:
        hdr.append("Cc: " + ", ".join(_display(rnd) for _ in range(rnd.randint(1, 2))))
    subject = _sentence(rnd, rnd.randint(3, 9))[:-1]
    reply = rnd.random() < 0.35
    if reply:
        subject = "Re: " + subject
    if rnd.random() < 0.15:
        subject = _encode_word(subject + " – Überprüfung")
    hdr.append(f"Subject: {subject} [{n}]")
    hdr.append(f"Date: {_date(rnd, n)}")
    hdr.append(f"Message-ID: <{n}.{rnd.getrandbits(48):012x}@{rnd.choice(DOMAINS)}>")
    if reply:
        parent = f"<{max(n - rnd.randint(1, 50), 0)}.{rnd.getrandbits(48):012x}@example.org>"
        hdr.append(f"In-Reply-To: {parent}")
        hdr.append(f"References: <root.{n // 10}@example.org>\n {parent}")
    if rnd.random() < 0.25:
        hdr.append("List-Id: Team discussion <team.lists.example.org>")
        hdr.append("List-Unsubscribe: <mailto:team-leave@lists.example.org>")
    hdr.append(rnd.choice(("X-Mailer: ", "User-Agent: ")) + rnd.choice(MAILERS))
    hdr.append("MIME-Version: 1.0")

    head_len = sum(len(h) + 1 for h in hdr)
    body_target = max(600, target - head_len - 200)
    kind = rnd.random()
    marker = f"Reference number {n} of the benchmark corpus."
    if kind < 0.60:
        text = marker + "\n\n" + _paragraphs(rnd, body_target)
        if rnd.random() < 0.3:
            hdr.append("Content-Type: text/plain; charset=utf-8")
            hdr.append("Content-Transfer-Encoding: quoted-printable")
            body = _qp(text + "\n\nGrüße aus dem Büro – ça va?")
        else:
            hdr.append("Content-Type: text/plain; charset=us-ascii; format=flowed")
            hdr.append("Content-Transfer-Encoding: 7bit")
            body = text
    elif kind < 0.85:
        b = f"=_alt_{n:08x}"
        text = marker + "\n\n" + _paragraphs(rnd, body_target // 2)
        hdr.append(f"Content-Type: multipart/alternative; boundary=\"{b}\"")
        body = (f"This is a multi-part message in MIME format.\n\n--{b}\n"
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
                f"{text}\n\n--{b}\n"
                "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                f"{_qp(_html(text))}\n\n--{b}--\n")
    else:
        b = f"=_mixed_{n:08x}"
        att_kind = rnd.choice((("application/pdf", "report.pdf"), ("image/png", "chart.png"),
                               ("text/calendar; method=REQUEST", "invite.ics")))
        att_size = rnd.randint(600, 1400)
        text = marker + "\n\n" + _paragraphs(rnd, max(400, body_target - att_size * 4 // 3))
        if rnd.random() < 1 / 3:
            a = f"=_alt_{n:08x}"
            first = (f"Content-Type: multipart/alternative; boundary=\"{a}\"\n\n"
                     f"--{a}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n\n"
                     f"--{a}\nContent-Type: text/html; charset=utf-8\n\n{_html(text)}\n\n--{a}--\n")
        else:
            first = f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n{text}\n"
        hdr.append(f"Content-Type: multipart/mixed; boundary=\"{b}\"")
        body = (f"This is a multi-part message in MIME format.\n\n--{b}\n{first}\n--{b}\n"
                f"Content-Type: {att_kind[0]}; name=\"{att_kind[1]}\"\n"
                f"Content-Disposition: attachment; filename=\"{att_kind[1]}\"\n"
                f"Content-Transfer-Encoding: base64\n\n{_b64(rnd, att_size)}\n\n--{b}--\n")
    text = "\n".join(hdr) + "\n\n" + body
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\n", "\r\n").encode("utf-8")


def corpus(start, count, seed=20260101):
    return [message(n, seed) for n in range(start, start + count)]


if __name__ == "__main__":
    import sys
    msgs = corpus(0, int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
    sizes = sorted(len(m) for m in msgs)
    print(f"{len(msgs)} messages, sizes min {sizes[0]} median {sizes[len(sizes) // 2]} "
          f"mean {sum(sizes) // len(sizes)} max {sizes[-1]}")
    print(f"multipart: {sum(b'multipart/' in m for m in msgs)}, "
          f"base64 attachments: {sum(b'Content-Disposition: attachment' in m for m in msgs)}")
