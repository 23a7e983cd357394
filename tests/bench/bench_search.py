#!/usr/bin/python3
"""SEARCH benchmark: kairand (PostgreSQL, pg_trgm) side by side with Dovecot 2.3.

    make bench-search                                   # kairand only
    make bench-search BENCH_SEARCH_ARGS=--with-dovecot  # and Dovecot (apt-get installs it if missing)
    /usr/bin/python3 tests/bench/bench_search.py --help

Starts everything it measures in a fresh temporary directory: a private
PostgreSQL 15 (default settings), slapd, kairand, and with --with-dovecot a
private Dovecot (tests/bench/dovecot_env.py: maildir, default settings, no
FTS plugin). All traffic is on 127.0.0.1; every service is stopped at the
end (also on error, Ctrl-C or the --max-seconds watchdog) and the directory
is removed unless --keep.

The mailbox: --messages (100,000) distinct, realistic messages generated
deterministically here (seeded per message number): 2 KB to 200 KB (55 %
2-6 KB, 25 % 6-20 KB, 15 % 20-80 KB, 5 % 80-200 KB; the large ones carry
base64 attachments), text in English, German, French, Spanish, Russian,
Japanese and Chinese with Zipf-distributed words, charsets UTF-8,
ISO-8859-1, KOI8-R and ISO-2022-JP, quoted-printable/base64/8bit, RFC 2047
subjects and names, 20 % multipart/alternative with HTML, senders from a
pool of ~2,700 people, INTERNALDATEs over three years, 8 % unseen. Planted
for the searches: a rare word in 1 message of 5,000 (in the body), a common
word in 20 % (body or subject), and one sender in 0.5 % of the messages.

kairand is filled through IMAP only: --clients (8) connections MULTIAPPEND
batches of --batch (25) messages, each with its flags and date-time, so
every `messages` row (raw, parts, header_fields, body_text, header_text)
and every trigram index entry is what APPEND writes, for 100,000 distinct
messages. Dovecot gets the same bytes as maildir files written directly
(LF line ends, S=/W= sizes and flags in the names, mtime = INTERNALDATE) and
indexes them at its first SELECT (timed separately). kairand indexes the
search text after delivery (migrations/0008): its searches are timed once
its indexer has emptied the backlog, and the report gives that wait.

Timed, in each server: SEARCH BODY "<rare word>", SEARCH TEXT "<common
word>", SEARCH FROM "<name>" SINCE <date>, SEARCH UNSEEN — one warm-up,
then the median (and min/max) of --runs (5) runs, wall time from sending
the command to the tagged OK. The number of matches is reported for both
servers. kairand's RSS is sampled every 20 ms during the searches. The
report also gives the trigram indexes' size (pg_relation_size) against the
raw mail (sum of RFC822.SIZE) and against the messages table with its
TOAST.

Targets: each search < 300 ms in kairand; BODY and TEXT >= 10x faster than
Dovecot.
"""

import argparse
import base64
import binascii
import datetime
import math
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

import kairan_env as ke  # noqa: E402
import dovecot_env as de  # noqa: E402
import imap_fast  # noqa: E402

USER = "alice"
PASSWORD = ke.DEMO_PASSWORD
MAILBOX = "bench"
SEED = 20260317

RARE_WORD = "zanzibarite"
COMMON_WORD = "schedule"
SENDER = ("Margarete Øvergaard", "m.overgaard@nordlicht.example")
SINCE = datetime.date(2025, 7, 1)
START = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)
SPAN = 3 * 365 * 86400
TARGET_MS = 300
TARGET_SPEEDUP = 10
XAPIAN_NOTE = "fts_xapian = partial=3 full=20, fts_enforced = yes"

# --------------------------------------------------------------------------
# The corpus

WORDS = {
    "en": """the of and to in is that for it as was with be by on not this are or from at which
        but have an they you were their one all we can her has there been if more when will would
        who so no please thanks regards team office customer support ticket release deployment
        server database backup mailbox shared folder project deadline agenda minutes contract
        renewal pricing discount shipment warehouse inventory order delivery feedback question
        answer update status weekly monthly forecast revenue expenses travel hotel flight
        conference workshop training onboarding security password account access permission
        network printer laptop monitor keyboard license invoice payment budget review draft
        proposal quarterly report meeting call tomorrow today yesterday morning afternoon
        evening next last week month year attached document spreadsheet presentation slides
        version changes comments approval signature manager director colleague partner supplier
        vendor client request issue problem solution fix patch upgrade migration outage
        maintenance window downtime incident postmortem root cause analysis action items owner
        priority urgent important reminder follow up notes summary decision plan roadmap
        milestone sprint backlog estimate effort risk dependency blocker resource capacity
        hiring interview candidate offer salary benefits holiday vacation sick leave policy
        compliance audit legal privacy data retention archive export import sync calendar
        invitation room building parking lunch coffee kitchen""".split(),
    "de": """der die das und ist nicht ein eine zu mit auf für von bitte danke Grüße Besprechung
        Rechnung Lieferung Überprüfung Bürozeiten Änderung Größe Kündigung Öffnungszeiten
        Ärger Übung Frühstück Mängel Zuständigkeit Termin Vertrag Angebot Bestellung Kunde
        Mitarbeiter Abteilung Projekt Bericht Protokoll Anlage Unterschrift Freigabe Urlaub
        morgen heute gestern Woche Monat Jahr wichtig dringend Rückmeldung Frage Antwort
        Aktualisierung Zusammenfassung Entscheidung Planung Haushalt Prüfung Datenschutz""".split(),
    "fr": """le la les et est pas un une de du des pour avec sur dans merci cordialement réunion
        facture été élève déjà où château garçon Noël crème répondre précédent reçu demain
        aujourd'hui semaine mois année contrat devis commande livraison client équipe
        projet rapport compte rendu pièce jointe signature validation congés urgent
        important question réponse mise à jour résumé décision planification budget""".split(),
    "es": """el la los las y es no un una de del para con en por gracias saludos reunión factura
        año mañana pequeño niño señor corazón información También después según cliente
        equipo proyecto informe contrato pedido entrega presupuesto semana mes urgente
        importante pregunta respuesta actualización resumen decisión planificación""".split(),
    "ru": """и в не на я что с по это как а но он они мы вы привет спасибо встреча отчёт счёт
        поставка договор проверка Москва ёлка бюджет совещание завтра сегодня вчера неделя
        месяц год клиент команда проект вопрос ответ обновление решение план срочно важно
        документ подпись согласование отпуск""".split(),
    "ja": """会議 議事録 請求書 納品 確認 お願い します 東京 予定 資料 カタカナ ひらがな 明日 今日
        昨日 来週 先月 顧客 担当 部署 契約 見積 注文 報告 連絡 相談 対応 修正 更新 承認 署名 休暇
        重要 至急 質問 回答 要約 決定 計画 予算""".split(),
    "zh": """会议 报告 发票 项目 客户 北京 合同 预算 时间 明天 今天 昨天 下周 上个月 团队 部门 订单
        交付 确认 请 谢谢 问题 回答 更新 决定 计划 重要 紧急 附件 签名 审批 休假""".split(),
}
LANG_MIX = [("en", 50), ("de", 15), ("fr", 10), ("es", 10), ("ru", 7), ("ja", 4), ("zh", 4)]
CHARSETS = {"en": ["us-ascii", "utf-8"], "de": ["utf-8", "iso-8859-1"],
            "fr": ["utf-8", "iso-8859-1"], "es": ["utf-8", "iso-8859-1"],
            "ru": ["utf-8", "koi8-r"], "ja": ["utf-8", "iso-2022-jp"], "zh": ["utf-8"]}
FIRST = ("Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert "
         "Sybil Trent Victor Walter Zoé Jürgen Søren Ana Łukasz Chloé Hiroshi Yuki Wei Li "
         "Dmitri Olga Pablo Lucía Marie Pierre Hans Greta Ingrid Sven Fatima Omar Priya Raj "
         "Kenji Mei Elena Marco Giulia Tomasz").split()
LAST = ("Adams Baker Clark Davis Evans Fischer García Hughes Ito Jensen Kowalski Lambert Müller "
        "Nakamura O'Brien Peters Quinn Rossi Schmidt Tanaka Urban Vasquez Weber Dubois Moreau "
        "Petrov Ivanova Wang Zhang Suzuki Sato Novak Horvat Larsen Nilsen Santos Silva Costa "
        "Romano Bianchi Kaya Yilmaz Singh Patel Kim Park Nguyen Tran Cohen Levi Murphy").split()
DOMAINS = ("example.org example.com example.net partner.example supplier.example "
           "lists.example.org mail.example.com kunde.example client.example").split()
ATTACH = [("application/pdf", "report.pdf"), ("image/png", "chart.png"),
          ("application/zip", "archive.zip"), ("image/jpeg", "photo.jpg"),
          ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "data.xlsx")]


def _zipf_cum(n, s=1.05):
    acc, out = 0.0, []
    for k in range(1, n + 1):
        acc += 1.0 / k ** s
        out.append(acc)
    return out


CUM = {lang: _zipf_cum(len(w)) for lang, w in WORDS.items()}
LANGS = [lang for lang, _ in LANG_MIX]
LANG_CUM = []
_acc = 0
for _lang, _w in LANG_MIX:
    _acc += _w
    LANG_CUM.append(_acc)
PEOPLE = [(f"{f} {l}", f"{f.lower()}.{l.lower()}".encode("ascii", "ignore").decode()
           .replace("'", "") + f"@{DOMAINS[(i * 7 + j) % len(DOMAINS)]}")
          for i, f in enumerate(FIRST) for j, l in enumerate(LAST)]
random.Random(SEED).shuffle(PEOPLE)
PEOPLE_CUM = _zipf_cum(len(PEOPLE), 0.9)
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


def _ew(text, charset="utf-8"):
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def _hdr_text(text):
    return text if all(ord(c) < 128 for c in text) else _ew(text)


def _person(rnd):
    if rnd.random() < 0.005:
        name, addr = SENDER
    else:
        name, addr = rnd.choices(PEOPLE, cum_weights=PEOPLE_CUM)[0]
    return name, addr


def _addr(name, addr):
    if "'" in name:
        return f'"{name}" <{addr}>'
    return f"{_hdr_text(name)} <{addr}>"


_POOL = {}
POOL_WORDS = 1 << 18


def _pool(lang):
    """A long Zipf-distributed word sequence per language, drawn once;
    each text is a slice of it at a random offset (drawing every word
    anew made generation, not the servers, the bottleneck of the fill)."""
    if lang not in _POOL:
        rnd = random.Random(SEED + LANGS.index(lang))
        _POOL[lang] = rnd.choices(WORDS[lang], cum_weights=CUM[lang], k=POOL_WORDS)
    return _POOL[lang]


def _text(lang, rnd, nbytes, plant=()):
    """Lines of Zipf-distributed words, about nbytes of UTF-8."""
    sep = "" if lang in ("ja", "zh") else " "
    avg, per_line = (3, 20) if lang in ("ja", "zh") else (7, 9)
    n = max(8, nbytes // avg)
    pool = _pool(lang)
    i = rnd.randrange(POOL_WORDS - n) if n < POOL_WORDS else 0
    ws = pool[i:i + n]
    for w in plant:
        ws.insert(rnd.randrange(len(ws) + 1), w)
    step = per_line + rnd.randint(-2, 2)
    lines = [sep.join(ws[k:k + step]) for k in range(0, len(ws), step)]
    for k in range(rnd.randint(0, len(lines) // 6), 0, -1):
        lines.insert(rnd.randrange(1, len(lines) + 1), "")
    return "\n".join(lines)


def _qp(data):
    """Quoted-printable (binascii: C speed; soft breaks at 76)."""
    return binascii.b2a_qp(data, istext=True).decode("ascii")


def _b64(data):
    enc = base64.b64encode(data).decode()
    return "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))


def _text_part(lang, rnd, nbytes, plant):
    text = _text(lang, rnd, nbytes, plant)
    cs = rnd.choice(CHARSETS[lang])
    data = text.encode(cs, "replace")
    if cs in ("us-ascii", "iso-2022-jp"):
        cte, body = "7bit", data.decode("ascii", "replace")
    else:
        cte = rnd.choice(["8bit", "quoted-printable", "quoted-printable", "base64"])
        if cte == "8bit":
            body = data.decode("utf-8", "surrogateescape")
        elif cte == "quoted-printable":
            body = _qp(data)
        else:
            body = _b64(data)
    return [f"Content-Type: text/plain; charset={cs}", f"Content-Transfer-Encoding: {cte}"], body, text


def _html(text):
    paras = [p for p in text.split("\n\n") if p]
    inner = "".join(f"<p>{p.replace(chr(10), ' ')}</p>\n" for p in paras)
    return (f'<html><head><meta charset="utf-8"><style>p {{ margin: 0 }}</style></head>'
            f"<body>\n{inner}</body></html>")


def _size_class(rnd):
    r = rnd.random()
    if r < 0.55:
        return rnd.randint(2000, 6000)
    if r < 0.80:
        return rnd.randint(6000, 20000)
    if r < 0.95:
        return rnd.randint(20000, 80000)
    return rnd.randint(80000, 200000)


def message(n, seed=SEED):
    """Message n: (CRLF bytes, flags, INTERNALDATE as datetime)."""
    rnd = random.Random(seed * 1000003 + n)
    lang = LANGS[rnd.choices(range(len(LANGS)), cum_weights=LANG_CUM)[0]]
    size = _size_class(rnd)
    t = START + datetime.timedelta(seconds=rnd.randrange(SPAN))
    sent = t - datetime.timedelta(seconds=rnd.randint(5, 3600))
    plant_body, plant_subject = [], ""
    if n % 5000 == 1234:
        plant_body.append(RARE_WORD)
    if rnd.random() < 0.20:
        if rnd.random() < 0.7:
            plant_body.append(COMMON_WORD)
        else:
            plant_subject = COMMON_WORD
    name, addr = _person(rnd)
    hdr = [f"Received: from mx{rnd.randint(1, 9)}.{rnd.choice(DOMAINS)} by mail.example.org "
           f"(Postfix) with ESMTPS id {n:08X}; {DAYS[sent.weekday()]}, {sent.day} "
           f"{MONTHS[sent.month - 1]} {sent.year} {sent:%H:%M:%S} +0000",
           f"From: {_addr(name, addr)}",
           "To: " + ", ".join(_addr(*_person(rnd)) for _ in range(rnd.randint(1, 3)))]
    if rnd.random() < 0.3:
        hdr.append("Cc: " + ", ".join(_addr(*_person(rnd)) for _ in range(rnd.randint(1, 2))))
    subject = _text(lang, rnd, rnd.randint(20, 60)).replace("\n", " ").strip(" .")
    if plant_subject:
        subject += " " + plant_subject
    if rnd.random() < 0.3:
        subject = "Re: " + subject
    hdr.append(f"Subject: {_hdr_text(subject)}")
    hdr.append(f"Date: {DAYS[sent.weekday()]}, {sent.day} {MONTHS[sent.month - 1]} {sent.year} "
               f"{sent:%H:%M:%S} +0000")
    hdr.append(f"Message-ID: <{n}.{rnd.getrandbits(40):010x}@{rnd.choice(DOMAINS)}>")
    hdr.append(rnd.choice(["X-Mailer: Thunderbird 115.6", "User-Agent: Mutt/2.2.9",
                           "X-Mailer: Microsoft Outlook 16.0", "User-Agent: Roundcube 1.6"]))
    hdr.append("MIME-Version: 1.0")
    text_bytes = min(size - 700, rnd.randint(1200, 9000)) if size > 20000 else size - 700
    text_bytes = max(600, text_bytes)
    alt = rnd.random() < 0.20
    if alt:
        text_bytes = max(600, text_bytes // 2)
    th, tb, text = _text_part(lang, rnd, text_bytes, plant_body)
    room = size - 700 - len(tb) * (2 if alt else 1)
    if alt:
        b = f"=_alt_{n:08x}"
        first = (f'Content-Type: multipart/alternative; boundary="{b}"\n\n--{b}\n' +
                 "\n".join(th) + f"\n\n{tb}\n--{b}\n"
                 "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                 f"{_qp(_html(text).encode())}\n--{b}--\n")
    else:
        first = "\n".join(th) + f"\n\n{tb}\n"
    if room > 1500:
        b = f"=_mix_{n:08x}"
        hdr.append(f'Content-Type: multipart/mixed; boundary="{b}"')
        parts = [first]
        nparts = 1 if room < 40000 else rnd.randint(1, 3)
        for _ in range(nparts):
            ctype, fname = rnd.choice(ATTACH)
            data = rnd.randbytes(max(200, room * 3 // 4 // nparts))
            parts.append(f'Content-Type: {ctype}; name="{fname}"\n'
                         f'Content-Disposition: attachment; filename="{fname}"\n'
                         f"Content-Transfer-Encoding: base64\n\n{_b64(data)}\n")
        body = "This is a multi-part message in MIME format.\n\n" + \
            "".join(f"--{b}\n{p}" for p in parts) + f"--{b}--\n"
    else:
        hdr_first, _, body = first.partition("\n\n")
        hdr += hdr_first.split("\n")
    raw = ("\n".join(hdr) + "\n\n" + body).replace("\n", "\r\n").encode("utf-8", "surrogateescape")
    flags = [] if rnd.random() < 0.08 else ["\\Seen"]
    if rnd.random() < 0.05:
        flags.append("\\Flagged")
    if rnd.random() < 0.15:
        flags.append("\\Answered")
    return raw, flags, t


# The second corpus (--corpus zipf): long plain-text bodies over a large
# vocabulary, where a trigram recheck of every candidate costs most. 40,000
# made-up words (2-4 syllables) ranked by a Zipf law (s = 1), bodies of 30
# to 5,000 words (log-uniform), 10 % of the messages with a paragraph of
# Japanese in unspaced runs. Planted: the rare word in 1 message of 1,000,
# the common word in 20 % (body or subject, anywhere in the text: also as
# the last word of a part), the CJK word in 2 % (inside a run).
ZIPF_VOCAB = 40000
CJK_WORD = "東京都庁"
SYLLABLES = ("ka to ri mu sen lor ban dei qua vis tel mor ash pri gno zu ek ol ur thi ven dra "
             "pel sor kin lam bre fu gal dor nix ope rax sti wen yul cor hem jas").split()


def _zipf_vocab():
    rnd = random.Random(SEED + 7)
    seen, words = set(), []
    while len(words) < ZIPF_VOCAB:
        w = "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4)))
        if w not in seen and w not in (RARE_WORD, COMMON_WORD):
            seen.add(w)
            words.append(w)
    return words


_ZIPF = {}


def _zipf_pool():
    """A long Zipf-distributed word sequence, drawn once (as _pool)."""
    if not _ZIPF:
        vocab = _zipf_vocab()
        rnd = random.Random(SEED + 8)
        _ZIPF["pool"] = rnd.choices(vocab, cum_weights=_zipf_cum(len(vocab), 1.0), k=1 << 21)
    return _ZIPF["pool"]


def _cjk_run(rnd, plant):
    ws = rnd.choices(WORDS["ja"], cum_weights=CUM["ja"], k=rnd.randint(20, 120))
    if plant:
        ws.insert(rnd.randrange(len(ws) + 1), CJK_WORD)
    return "".join(ws) + "。"


def message_zipf(n, seed=SEED):
    """Message n of the zipf corpus: (CRLF bytes, flags, INTERNALDATE)."""
    rnd = random.Random(seed * 1000003 + n + 77)
    pool = _zipf_pool()
    t = START + datetime.timedelta(seconds=rnd.randrange(SPAN))
    sent = t - datetime.timedelta(seconds=rnd.randint(5, 3600))
    nwords = int(math.exp(rnd.uniform(math.log(30), math.log(5000))))
    i = rnd.randrange(len(pool) - nwords)
    ws = pool[i:i + nwords]
    subject = " ".join(pool[j] for j in rnd.sample(range(len(pool)), rnd.randint(2, 7)))
    if n % 1000 == 234:
        ws.insert(rnd.randrange(len(ws) + 1), RARE_WORD)
    if rnd.random() < 0.20:
        if rnd.random() < 0.7:
            ws.insert(rnd.randrange(len(ws) + 1), COMMON_WORD)
        else:
            subject += " " + COMMON_WORD
    lines = [" ".join(ws[k:k + 12]) for k in range(0, len(ws), 12)]
    if rnd.random() < 0.10 or n % 50 == 17:
        lines.insert(rnd.randrange(len(lines) + 1), _cjk_run(rnd, n % 50 == 17))
    text = "\n".join(lines)
    name, addr = _person(rnd)
    hdr = [f"From: {_addr(name, addr)}",
           "To: " + ", ".join(_addr(*_person(rnd)) for _ in range(rnd.randint(1, 3))),
           f"Subject: {_hdr_text(subject)}",
           f"Date: {DAYS[sent.weekday()]}, {sent.day} {MONTHS[sent.month - 1]} {sent.year} "
           f"{sent:%H:%M:%S} +0000",
           f"Message-ID: <z{n}.{rnd.getrandbits(40):010x}@{rnd.choice(DOMAINS)}>",
           "MIME-Version: 1.0"]
    data = text.encode("utf-8")
    if rnd.random() < 0.3:
        hdr += ["Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable"]
        body = _qp(data)
    else:
        hdr += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        body = text
    raw = ("\n".join(hdr) + "\n\n" + body + "\n").replace("\n", "\r\n").encode("utf-8")
    flags = [] if rnd.random() < 0.08 else ["\\Seen"]
    if rnd.random() < 0.05:
        flags.append("\\Flagged")
    return raw, flags, t


CORPORA = {"default": message, "zipf": message_zipf}
GENERATE = message


def imap_datetime(t):
    return f"{t.day:02d}-{MONTHS[t.month - 1]}-{t.year} {t:%H:%M:%S} +0000"


# --------------------------------------------------------------------------
# Measuring helpers


class Watchdog(BaseException):
    """The run took longer than --max-seconds."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def vm_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RssSampler(threading.Thread):
    """VmRSS of one process every `interval` seconds while running."""

    def __init__(self, pid, interval=0.02):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            v = vm_kib(self.pid, "VmRSS")
            if v is not None:
                self.samples.append(v)
            time.sleep(self.interval)

    def stop(self):
        self.stopping.set()
        self.join()
        return self.samples


def machine_load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def search_count(data):
    """Matches in a `* SEARCH ...` response (data = bytes before the tagged line)."""
    for line in data.split(b"\r\n"):
        if line.startswith(b"* SEARCH"):
            return len(line.split()) - 2
    raise RuntimeError(f"no SEARCH response in {data[:300]!r}")


def searches():
    d = f"{SINCE.day}-{MONTHS[SINCE.month - 1]}-{SINCE.year}"
    return [("body", f'SEARCH BODY "{RARE_WORD}"', "BODY rare word"),
            ("text", f'SEARCH TEXT "{COMMON_WORD}"', "TEXT common word"),
            ("from", f'SEARCH FROM "{SENDER[0].split()[1]}" SINCE {d}', "FROM name SINCE date"),
            ("unseen", "SEARCH UNSEEN", "UNSEEN")] + \
        ([("cjk", f'SEARCH BODY "{CJK_WORD}"', "BODY Japanese word in a run")]
         if GENERATE is message_zipf else [])


def run_searches(port, runs, res, rss_pid=None, warmup=True):
    """Logs in, SELECTs the mailbox, and times every search: a warm-up
    (unless warmup=False: then the first timed run counts), then `runs`
    runs. Fills res[key] as it goes (a watchdog abort keeps what was
    measured). Returns the SELECT time."""
    c = imap_fast.Conn("127.0.0.1", port, timeout=600)
    try:
        c.login(USER, PASSWORD)
        _, _, t_select = c.ok(f"SELECT {MAILBOX}")
        sampler = None
        if rss_pid:
            before = vm_kib(rss_pid, "VmRSS")
            sampler = RssSampler(rss_pid)
            sampler.start()
        for key, cmd, _ in searches():
            _, data, warm = c.ok(cmd)
            n = search_count(data)
            times = [] if warmup else [warm]
            for _ in range(runs - (0 if warmup else 1)):
                _, data, t = c.ok(cmd)
                if search_count(data) != n:
                    raise RuntimeError(f"{cmd}: {search_count(data)} matches, then {n}")
                times.append(t)
            res[key] = {"n": n, "warm": warm, "median": statistics.median(times),
                        "min": min(times), "max": max(times)}
            log(f"  {cmd}: {n} matches, median {res[key]['median'] * 1000:.1f} ms "
                f"({'warm-up' if warmup else 'first run'} {warm * 1000:.1f} ms)")
        if sampler:
            samples = sampler.stop()
            res["rss"] = {"before": before, "max": max(samples + [before]),
                          "after": vm_kib(rss_pid, "VmRSS"), "n": len(samples)}
        c.logout()
    finally:
        c.close()
    return t_select


# --------------------------------------------------------------------------
# Filling


def fill(port, total, clients, batch, dovecot_cur=None):
    """APPENDs messages 0..total-1 from `clients` connections (client i
    takes every clients-th batch), MULTIAPPEND of `batch` messages with
    flags and date-time, each answered OK. With dovecot_cur, also writes
    each message as a maildir file there. Returns (seconds, bytes)."""
    errors, sizes = [], [0] * clients
    nbatches = (total + batch - 1) // batch
    done = [0]
    lock = threading.Lock()

    def worker(i):
        try:
            c = imap_fast.Conn("127.0.0.1", port, timeout=600)
            c.login(USER, PASSWORD)
            for b in range(i, nbatches, clients):
                parts = []
                for n in range(b * batch, min(total, (b + 1) * batch)):
                    raw, flags, t = GENERATE(n)
                    sizes[i] += len(raw)
                    parts.append(b" (%s) \"%s\" {%d+}\r\n" % (" ".join(flags).encode(),
                                                               imap_datetime(t).encode(),
                                                               len(raw)) + raw)
                    if dovecot_cur:
                        write_maildir(dovecot_cur, n, raw, flags, t)
                tag = c.tag()
                c.sock.sendall(tag + b" APPEND " + MAILBOX.encode() + b"".join(parts) + b"\r\n")
                while True:
                    line = c.readline()
                    if line.startswith(tag + b" "):
                        break
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"APPEND failed: {line[:300]!r}")
                with lock:
                    done[0] += len(parts)
            c.logout()
        except BaseException as e:     # reported by the main thread
            errors.append(e)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    last = t0
    for t in threads:
        while t.is_alive():
            t.join(0.5)
            if errors:
                raise errors[0]
            if time.perf_counter() - last > 30:
                last = time.perf_counter()
                log(f"  {done[0]:,} of {total:,} appended ({done[0] / (last - t0):.0f}/s)")
    if errors:
        raise errors[0]
    return time.perf_counter() - t0, sum(sizes)


def write_maildir(cur, n, raw, flags, t):
    lf = raw.replace(b"\r\n", b"\n")
    letters = "".join(sorted({"\\Seen": "S", "\\Flagged": "F", "\\Answered": "R"}[f]
                             for f in flags))
    ts = int(t.timestamp())
    path = os.path.join(cur, f"{ts}.M{n}P1.bench,S={len(lf)},W={len(raw)}:2,{letters}")
    with open(path, "wb") as f:
        f.write(lf)
    os.utime(path, (ts, ts))


# --------------------------------------------------------------------------
# The phases


def kairan_phase(args, root, report, dovecot_cur):
    cert, key = ke.make_cert(os.path.join(root, "tls"))
    slapd = ke.Slapd(os.path.join(root, "ldap")).start()
    pg = ke.Postgres(os.path.join(root, "pg")).start()
    config = ke.default_config(ke.free_port(), ke.free_port(), cert, key, pg.dsn, slapd.uri)
    config["workers"] = str(args.workers)
    # The load pipelines APPENDs of any size with {n+}, as against Dovecot.
    config["literal_plus"] = "yes"
    k = ke.Kairand(args.build, os.path.join(root, "kairand"), config).start()
    try:
        c = imap_fast.Conn("127.0.0.1", k.imap_port)
        c.login(USER, PASSWORD)
        c.ok(f"CREATE {MAILBOX}")
        c.logout()
        log(f"filling kairand: {args.messages:,} messages over {args.clients} connections"
            + (" (and the maildir for Dovecot)" if dovecot_cur else ""))
        secs, nbytes = fill(k.imap_port, args.messages, args.clients, args.batch, dovecot_cur)
        report["fill"] = {"seconds": secs, "bytes": nbytes, "rate": args.messages / secs}
        log(f"  filled in {secs:.0f} s ({args.messages / secs:.0f} msg/s, "
            f"{nbytes / secs / 1e6:.1f} MB/s)")
        # The search text is indexed after delivery (migrations/0008):
        # searches are timed once the indexer has emptied the backlog.
        t0 = time.perf_counter()
        waiting = backlog(pg)
        while backlog(pg) > 0:
            time.sleep(0.2)
        report["index_wait"] = {"waiting": waiting, "seconds": time.perf_counter() - t0}
        log(f"  {waiting:,} messages waited for the indexer after the fill; backlog empty "
            f"{report['index_wait']['seconds']:.1f} s later")
        t0 = time.perf_counter()
        pg.psql("VACUUM (ANALYZE) messages")
        pg.psql("VACUUM (ANALYZE) mailbox_messages")
        pg.psql("CHECKPOINT")
        report["vacuum"] = time.perf_counter() - t0
        sizes = pg.psql(
            "SELECT pg_relation_size('messages_body_text_trgm'), "
            "pg_relation_size('messages_header_text_trgm'), "
            "pg_total_relation_size('messages'), pg_relation_size('messages'), "
            "(SELECT sum(size) FROM messages), (SELECT count(*) FROM messages), "
            "(SELECT sum(octet_length(body_text)) FROM messages), "
            "(SELECT sum(octet_length(header_text)) FROM messages), "
            "pg_total_relation_size('mailbox_messages')").strip().split("|")
        report["sizes"] = dict(zip(("body_trgm", "header_trgm", "messages_total", "messages_heap",
                                    "raw", "count", "body_text", "header_text",
                                    "mailbox_messages_total"), map(int, sizes)))
        log("searching in kairand")
        report["kairan"] = {}
        report["kairan_select"] = run_searches(k.imap_port, args.runs, report["kairan"],
                                               rss_pid=k.pid)
        report["kairan_rss_idle"] = vm_kib(k.pid, "VmRSS")
        report["pg_settings"] = pg.psql(
            "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ') FROM pg_settings "
            "WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', "
            "'max_parallel_workers_per_gather', 'jit')").strip()
        report["plans"] = {}
        for key, cmd, _ in searches():
            report["plans"][key] = explain(pg, cmd)
    finally:
        k.stop()
        pg.stop()
        slapd.stop()


# What kairand sets for each search's transaction (search_settings in
# schema/db_search.c), so that the plans below are the ones it gets: no JIT,
# and for a search of BODY or TEXT parallel costs of 0.
SEARCH_SETTINGS = "SET jit = off; "
TEXT_SETTINGS = "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "


def backlog(pg):
    """Messages whose search text waits for kairand's indexer."""
    return int(pg.psql("SELECT count(*) FROM messages WHERE NOT search_ready").strip())


def text_cond(*conds):
    """schema/db_search.c's sql_text_cond: each condition for the indexed
    messages, all of them for those still waiting for the indexer."""
    return ("(" + "".join(f"(m.search_ready AND {c}) OR " for c in conds) +
            "(NOT m.search_ready AND (" + " OR ".join(conds) + ")))")


def explain(pg, cmd):
    """EXPLAIN (ANALYZE, BUFFERS) of the statement db_search builds for the
    benchmark's searches (the same shape and settings; values inline)."""
    key = cmd.split()[1]
    name = SENDER[0].split()[1]
    from_cond = text_cond(f"m.header_text LIKE lower('%{name}%')")
    where = {
        "BODY": text_cond(f"m.body_text LIKE lower('%{RARE_WORD}%')"),
        "TEXT": text_cond(f"m.header_text LIKE lower('%{COMMON_WORD}%')",
                          f"m.body_text LIKE lower('%{COMMON_WORD}%')"),
        "FROM": (f"(({from_cond} AND EXISTS (SELECT 1 FROM unnest(m.header_fields) h "
                 f"WHERE h ILIKE 'from:%{name}%')) AND ((mm.internaldate AT TIME ZONE 'UTC')::date"
                 f" >= DATE '{SINCE.isoformat()}'))"),
        # The reader's \Seen (schema/db_seen_sql.h): its seen row in a
        # per-user mailbox, the stored bit otherwise.
        "UNSEEN": (f"((CASE WHEN (SELECT seen_per_user FROM mailboxes WHERE name = '{MAILBOX}')"
                   " THEN (mm.flags & 30) | coalesce(mm.uid <@ (SELECT uids + '{}'::int8multirange"
                   " FROM seen WHERE account_id = (SELECT id FROM accounts WHERE login = "
                   f"'{USER}') AND mailbox_id = (SELECT id FROM mailboxes WHERE name = '{MAILBOX}')),"
                   " false)::int ELSE mm.flags END) & 1::smallint = 0)"),
    }[key]
    sql = (SEARCH_SETTINGS + (TEXT_SETTINGS if key in ("BODY", "TEXT") else "") +
           "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT mm.uid, mm.modseq "
           "FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id "
           f"WHERE mm.mailbox_id = (SELECT id FROM mailboxes WHERE name = '{MAILBOX}') "
           f"AND mm.uid <= 2147483647 AND ({where}) ORDER BY mm.uid")
    try:
        return pg.psql(sql)
    except ke.HarnessError as e:
        return f"(EXPLAIN failed: {e})"


def dovecot_phase(args, root, report, dv, key="dovecot"):
    """Times the searches in one Dovecot (report[key]); with the Xapian
    plugin, its index is built and timed first (doveadm index), and the
    plugin's own log lines show that the searches went through it."""
    what = "Dovecot + Xapian" if dv.fts_xapian else "Dovecot"
    try:
        dv.chown_tree(dv.home(USER))
        if dv.fts_xapian:
            log(f"{what}: doveadm index (builds the Xapian index)")
            t0 = time.perf_counter()
            dv.index(USER, MAILBOX)
            report[key + "_index"] = time.perf_counter() - t0
            log(f"  {report[key + '_index']:.1f} s")
            report[key + "_index_size"] = du(dv.home(USER), "xapian")
        log(f"{what}: first SELECT (builds its index)")
        c = imap_fast.Conn("127.0.0.1", dv.port, timeout=600)
        c.login(USER, PASSWORD)
        _, data, t = c.ok(f"SELECT {MAILBOX}")
        if b"* %d EXISTS" % args.messages not in data:
            raise RuntimeError(f"Dovecot SELECT: {data[:300]!r}")
        report[key + "_first_select"] = t
        c.logout()
        log(f"  {t:.1f} s")
        log(f"searching in {what}")
        # No separate warm-up: the maildir was just written and is in the
        # page cache, and each of Dovecot's BODY/TEXT runs reads all of it.
        report[key] = {}
        report[key + "_select"] = run_searches(dv.port, args.dovecot_runs, report[key],
                                               warmup=False)
        if dv.fts_xapian:
            queries = dv.log_lines("FTS Xapian: Query")
            report[key + "_log"] = [len(queries)] + queries[:4]
            log(f"  {len(queries)} Xapian queries in dovecot.log")
    finally:
        dv.stop()


def du(path, needle=""):
    """Bytes of the files under path whose path contains needle."""
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            p = os.path.join(d, f)
            if needle in p:
                try:
                    total += os.lstat(p).st_size
                except OSError:
                    pass
    return total


# --------------------------------------------------------------------------
# The report


def ms(v):
    return f"{v * 1000:.0f} ms" if v >= 1 else f"{v * 1000:.1f} ms"


def render(args, r):
    out = [f"# SEARCH benchmark ({args.corpus} corpus)", "",
           f"`{' '.join(r['argv'])}` — {r['machine']}, load average {r['load'][0]} at start, "
           f"{r['load'][1]} at the end; git {r['git']}", ""]
    f = r.get("fill")
    if f:
        out.append(f"Mailbox: {args.messages:,} distinct messages, {f['bytes'] / 1e6:,.0f} MB "
                   f"(mean {f['bytes'] / args.messages / 1024:.1f} KiB), APPENDed in "
                   f"{f['seconds']:.0f} s ({f['rate']:.0f} msg/s, {args.clients} connections, "
                   f"MULTIAPPEND of {args.batch}"
                   + ("; the same pass wrote Dovecot's maildir" if "dovecot" in r else "")
                   + f"); VACUUM ANALYZE + CHECKPOINT {r['vacuum']:.0f} s.")
        w = r.get("index_wait")
        if w:
            out.append(f"The search text is indexed after delivery (migrations/0008): "
                       f"{w['waiting']:,} messages still waited for kairand's indexer when the "
                       f"fill ended, and the searches were timed after the backlog was empty, "
                       f"{w['seconds']:.0f} s later.")
        out.append("")
    kv, dv, xv = r.get("kairan", {}), r.get("dovecot", {}), r.get("xapian", {})
    if xv:
        out.append("| search | matches (kairand / Dovecot+Xapian / Dovecot) | kairand median "
                   "(min–max) | Dovecot+Xapian median (min–max) | Dovecot median | "
                   "kairand / Xapian | target ≤ 0.8× Xapian, exact |")
    else:
        out.append("| search | matches (kairand / Dovecot) | kairand median (min–max) | "
                   "Dovecot median (min–max) | speed-up | target |")
    out.append("|---|---|---|---|---|---|" + ("|" if xv else ""))
    verdicts = []
    for key, cmd, label in searches():
        k, d, x = kv.get(key), dv.get(key), xv.get(key)
        if not k:
            continue
        if xv:
            ratio = k["median"] / x["median"] if x else float("inf")
            exact = d is None or k["n"] == d["n"]
            ok = ratio <= 0.8 and exact
            verdicts.append(ok)
            out.append(f"| `{cmd}` | {k['n']:,} / " + (f"{x['n']:,}" if x else "–") + " / " +
                       (f"{d['n']:,}" if d else "–") + f" | {ms(k['median'])} "
                       f"({ms(k['min'])}–{ms(k['max'])}) | " +
                       (f"{ms(x['median'])} ({ms(x['min'])}–{ms(x['max'])})" if x else "–") +
                       " | " + (ms(d["median"]) if d else "–") +
                       f" | {ratio:.2f}× | {'met' if ok else 'MISSED'}"
                       f"{'' if exact else ' (count differs from Dovecot)'} |")
            continue
        tgt = f"< {TARGET_MS} ms"
        ok = k["median"] * 1000 < TARGET_MS
        sp = ""
        if d:
            ratio = d["median"] / k["median"]
            sp = f"{ratio:.1f}×"
            if key in ("body", "text"):
                tgt += f", ≥ {TARGET_SPEEDUP}× Dovecot"
                ok = ok and ratio >= TARGET_SPEEDUP
        verdicts.append(ok)
        out.append(f"| `{cmd}` | {k['n']:,} / {d['n']:,} | " if d else f"| `{cmd}` | {k['n']:,} / – | ")
        out[-1] += (f"{ms(k['median'])} ({ms(k['min'])}–{ms(k['max'])}) | " +
                    (f"{ms(d['median'])} ({ms(d['min'])}–{ms(d['max'])}) | " if d else "– | ") +
                    f"{sp or '–'} | {tgt}: {'met' if ok else 'MISSED'} |")
    out.append("")
    out.append(f"kairand: median of {args.runs} runs after one warm-up; Dovecot: median of "
               f"{args.dovecot_runs} runs (no separate warm-up: the maildir files were just "
               f"written and are in the page cache). Wall time from sending the command to its "
               f"tagged OK, on one connection, 127.0.0.1.")
    if "dovecot_select" in r:
        out.append(f"Dovecot's first SELECT (index build over the maildir): "
                   f"{r['dovecot_first_select']:.1f} s; later SELECT {ms(r['dovecot_select'])}. "
                   f"kairand SELECT {ms(r['kairan_select'])}.")
    if "xapian_index" in r:
        log_ = r.get("xapian_log", [0])
        out.append(f"Dovecot + Xapian ({XAPIAN_NOTE}): `doveadm index` built the Xapian index "
                   f"in {r['xapian_index']:.1f} s before the searches "
                   f"({r['xapian_index_size'] / 2**20:,.1f} MiB of xapian-indexes); "
                   f"dovecot.log shows {log_[0]} Xapian queries during the searches, e.g. "
                   + "; ".join(f"`{line.split(': ', 1)[-1][:120]}`" for line in log_[1:3]) + ".")
    rss = kv.get("rss")
    if rss:
        out.append("")
        out.append(f"kairand RSS during the searches ({rss['n']} samples, 20 ms apart): before "
                   f"{rss['before'] / 1024:.1f} MiB, max {rss['max'] / 1024:.1f} MiB, after "
                   f"{rss['after'] / 1024:.1f} MiB (growth {(rss['max'] - rss['before']) / 1024:.1f} "
                   f"MiB).")
    s = r.get("sizes")
    if s:
        trgm = s["body_trgm"] + s["header_trgm"]
        out.append("")
        out.append(f"Index size: `messages_body_text_trgm` {s['body_trgm'] / 2**20:,.0f} MiB + "
                   f"`messages_header_text_trgm` {s['header_trgm'] / 2**20:,.0f} MiB = "
                   f"{trgm / 2**20:,.0f} MiB for {s['raw'] / 2**20:,.0f} MiB of raw mail "
                   f"(sum of RFC822.SIZE, {s['count']:,} rows): {100 * trgm / s['raw']:.0f} % of "
                   f"the raw mail; decoded text indexed {s['body_text'] / 2**20:,.0f} MiB body + "
                   f"{s['header_text'] / 2**20:,.0f} MiB header "
                   f"({trgm / max(1, s['body_text'] + s['header_text']):.1f}× the text). "
                   f"`messages` with TOAST and all its indexes "
                   f"{s['messages_total'] / 2**20:,.0f} MiB ({s['messages_total'] / s['raw']:.2f}× "
                   f"the raw mail); `mailbox_messages` {s['mailbox_messages_total'] / 2**20:,.0f} MiB.")
        out.append(f"PostgreSQL settings (defaults): {r.get('pg_settings', '')}; kairand sets "
                   f"jit=off for each search, and parallel_setup_cost=0 and "
                   f"parallel_tuple_cost=0 for BODY and TEXT.")
    if r.get("plans"):
        out.append("")
        out.append("## Plans (EXPLAIN ANALYZE of the same statements, after the timed runs)")
        for key, plan in r["plans"].items():
            out.append("")
            out.append(f"### {key}")
            out.append("```")
            out.append(plan.rstrip())
            out.append("```")
    out.append("")
    r["verdict"] = all(verdicts) if verdicts else False
    return "\n".join(out) + "\n"


def git_describe():
    try:
        return subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   help="directory with kairand and kairanctl (default: build/)")
    p.add_argument("--with-dovecot", action="store_true",
                   help="also measure a private Dovecot (apt-get install dovecot-imapd if missing)")
    p.add_argument("--with-dovecot-xapian", action="store_true",
                   help="also measure Dovecot with its Xapian FTS plugin (dovecot-fts-xapian), "
                        "index built and timed first; implies --with-dovecot (the exact answer)")
    p.add_argument("--corpus", choices=sorted(CORPORA), default="default",
                   help="default: the mixed realistic mail above; zipf: long plain-text bodies "
                        "over a 40,000-word Zipf vocabulary, some Japanese")
    p.add_argument("--messages", type=int, default=100000, help="messages in the mailbox (100000)")
    p.add_argument("--clients", type=int, default=8, help="APPEND connections (8)")
    p.add_argument("--batch", type=int, default=25, help="messages per MULTIAPPEND (25)")
    p.add_argument("--workers", type=int, default=4, help="kairand worker threads (4, the default)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per search in kairand (5)")
    p.add_argument("--dovecot-runs", type=int, default=5, help="timed runs per search in Dovecot (5)")
    p.add_argument("--max-seconds", type=int, default=900,
                   help="abort (and stop everything) after this long (900)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--out", default="-", help="also write the report to this file")
    args = p.parse_args()
    global GENERATE
    GENERATE = CORPORA[args.corpus]
    args.with_dovecot = args.with_dovecot or args.with_dovecot_xapian

    if args.with_dovecot and not de.available():
        log("dovecot-imapd is not installed: apt-get install -y dovecot-imapd")
        de.install()
    if args.with_dovecot_xapian and not de.xapian_available():
        log("dovecot-fts-xapian is not installed: apt-get install -y dovecot-fts-xapian")
        de.install(("dovecot-imapd", "dovecot-fts-xapian"))
    ke.install_signal_handlers()

    def on_alarm(signum, frame):
        raise Watchdog(f"benchmark exceeded --max-seconds {args.max_seconds}")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.max_seconds)

    root = tempfile.mkdtemp(prefix="kairan-bench-search-", dir="/tmp")
    os.chmod(root, 0o755)
    report = {"argv": ["bench_search.py"] + sys.argv[1:], "git": git_describe(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                         f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
              "load": [machine_load()]}
    t_start = time.perf_counter()
    ok = False
    dv = None
    try:
        dovecot_cur = None
        if args.with_dovecot:
            dv = de.Dovecot(os.path.join(root, "dovecot"), PASSWORD)
            log(f"starting Dovecot ({de.version()})")
            dv.start()
            dv.prepare_user(USER)
            md = os.path.join(dv.maildir(USER), "." + MAILBOX)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub), exist_ok=True)
            dovecot_cur = os.path.join(md, "cur")
        kairan_phase(args, os.path.join(root, "kairan"), report, dovecot_cur)
        if dv is not None:
            dovecot_phase(args, root, report, dv)
        if args.with_dovecot_xapian:
            xv = de.Dovecot(os.path.join(root, "dovecot-xapian"), PASSWORD, fts_xapian=True)
            log(f"starting Dovecot + Xapian on a hard-linked copy of the maildir")
            xv.start()
            xv.prepare_user(USER)
            xcur = os.path.join(xv.maildir(USER), "." + MAILBOX, "cur")
            os.makedirs(xcur, exist_ok=True)
            for name in os.listdir(dovecot_cur):
                os.link(os.path.join(dovecot_cur, name), os.path.join(xcur, name))
            for sub in ("new", "tmp"):
                os.makedirs(os.path.join(os.path.dirname(xcur), sub), exist_ok=True)
            dovecot_phase(args, root, report, xv, key="xapian")
        ok = True
    except (Watchdog, KeyboardInterrupt) as e:
        log(f"aborted: {e!r}")
    finally:
        signal.alarm(0)
        ke.stop_all()
        report["load"].append(machine_load())
        if args.keep:
            log(f"files kept in {root}")
        elif not ok:
            shutil.rmtree(os.path.join(root, "kairan", "pg", "data"), ignore_errors=True)
            shutil.rmtree(os.path.join(root, "dovecot", "home"), ignore_errors=True)
            shutil.rmtree(os.path.join(root, "dovecot-xapian", "home"), ignore_errors=True)
            log(f"logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    text = render(args, report)
    sys.stdout.write(text)
    if ok and args.out != "-":
        with open(args.out, "w") as f:
            f.write(text)
        log(f"report written to {args.out}")
    log(f"total {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
