"""Title, authors, publication date and publisher of an article in a plain-text scrape.

Flow: for each article, the lines of its *header zone* (the non-blank lines between the end
of the previous article, or the start of the file, and the article's first body line; at most
HEADER_LINES of them) and of its *trailer zone* (a few lines after its last body line) come in
as small lists of dicts; the values and the line numbers they were read from go out. The
caller (documents/normalize.py) selects those lines with polars; this module only looks at a
few dozen lines per article, which is why plain Python is fine here.

The rules are the conventions of news and blog pages, not of any one site:
- the headline is the first line of the header zone's last block that reads like a headline
  (4-40 words, not a sentence of the body, not navigation) and shares vocabulary with the
  article's lead; a deck (subtitle) comes after it, section labels and kickers before it;
- a byline is "By <names>" or a name line next to the date line, possibly glued to a role
  ("Political Correspondent") or to the date ("Jen MillsPublished Jul 17, 2024");
- the publication date is the first date of the header zone labelled "published"/"posted",
  else its first unlabelled date, read with or without weekday, time and time zone
  ("Sat 24 Feb 2024 12.42 CET", "11:48, Thu, Jul 18, 2024", "2025-03-29T11:36:01Z");
  "updated"/"modified" dates are used only when nothing else is there;
- signatures ("Jane Doe, Research Fellow at X"), closing bios ("Jane Doe is a professor
  ...") and "Jane Doe reports." name authors too.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from datetime import date

HEADER_LINES = 40
TRAILER_LINES = 12

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_MON = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_YEAR = r"(?:19[5-9]\d|20\d\d)"
_DATE_FORMS = [
    # 24 Feb 2024 / 3rd October 2024 / 22 APR 2024 / 03 November 2025
    (re.compile(rf"(?i)(?<![\w])({_DAY})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MON})\.?,?\s+({_YEAR})(?!\d)"), "dmy"),
    # April 25, 2023 / Jul. 19, 2026 / February 28 2024 / Thu, Jul 18, 2024
    (re.compile(rf"(?i)(?<![\w])({_MON})\.?\s+({_DAY})(?:st|nd|rd|th)?,?\s+({_YEAR})(?!\d)"), "mdy"),
    # 2025-03-29 / 2025-03-29T11:36:01Z / 2024/03/28
    (re.compile(rf"(?<!\d)({_YEAR})[-/](0[1-9]|1[0-2])[-/](0[1-9]|[12]\d|3[01])(?!\d)"), "ymd"),
    # 28.03.2024 / 28/03/2024 / 11/20/2019 (day and month told apart only when one exceeds 12)
    (re.compile(rf"(?<![\d.])(\d{{1,2}})[./](\d{{1,2}})[./]({_YEAR})(?!\d)"), "num"),
]
_LABEL = re.compile(r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))((?i:first published|published|posted|updated|last updated|modified|edited))\b")
DATE_LINE_REGEX = (
    rf"(?i:{_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON}\.?,?\s+{_YEAR}|{_MON}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}"
    rf"|{_YEAR}-[01]\d-[0-3]\d|\b\d{{1,2}}[./]\d{{1,2}}[./]{_YEAR}\b)"
)


TIME_REGEX = r"(?i:\b\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?|\b\d{1,2}\s*[ap]\.?m\.?)"
DATE_WORDS_REGEX = (
    r"(?i:\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\b|\b(?:first\s+)?published\b"
    r"|\b(?:last\s+)?updated\b|\bposted\b|\bmodified\b|\bon\b|\bat\b|\b[A-Z]{2,4}(?:[+-]\d{1,2})?\b)"
)
_RELATIVE_TIME = r"(?i:\b\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago\b)"


def _valid(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def dates_in(line: str) -> list[tuple[int, date, str | None]]:
    """(position, date, label) for every full date in a line; label is 'published' (also
    'posted', 'first published'), 'updated' (also 'last updated', 'modified', 'edited') or None,
    from the nearest label before the date in the same line."""
    found: list[tuple[int, date, str | None]] = []
    taken: list[tuple[int, int]] = []
    for pattern, form in _DATE_FORMS:
        for m in pattern.finditer(line):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            a, b, c = m.groups()
            if form == "dmy":
                d = _valid(int(c), _MONTHS.get(b.lower()[:3], 0), int(a))
            elif form == "mdy":
                d = _valid(int(c), _MONTHS.get(a.lower()[:3], 0), int(b))
            elif form == "ymd":
                d = _valid(int(a), int(b), int(c))
            else:
                x, y_ = int(a), int(b)
                if x > 12 >= y_:
                    d = _valid(int(c), y_, x)
                elif y_ > 12 >= x:
                    d = _valid(int(c), x, y_)
                else:
                    d = None  # 03/04/2024: ambiguous without the site's convention
            if d is None:
                continue
            taken.append((m.start(), m.end()))
            labels = [x for x in _LABEL.finditer(line[: m.start()])]
            label = None
            if labels:
                word = labels[-1].group(1).lower()
                label = "published" if word in ("published", "posted", "first published") else "updated"
            found.append((m.start(), d, label))
    return sorted(found, key=lambda t: t[0])


def parse_standalone_date(text: str) -> date | None:
    """The date of a line that holds one date and little else ("15 September 2022",
    "- January 15, 2018", "Posted on Monday, 5 September 2022"); None otherwise."""
    found = dates_in(text)
    if len(found) != 1 or len(re.findall(r"[A-Za-z]+", text)) > 8:
        return None
    return found[0][1]


def publication_date(zone: list[dict], title_at: int | None, body_at: int | None = None) -> tuple[date | None, int | None]:
    """(date, line_no) from header-zone lines ({'line_no', 'line'}).

    Preference, in this order: the lines between the headline and the article's first body line
    (body_at), then the few lines above the headline (a section date, a dateline), then the
    metadata lines among the article's first lines; within each, a date labelled 'published'
    beats an unlabelled one, which beats an 'updated' one; then the first one."""
    best: tuple[int, int, int, date, int] | None = None
    for order, r in enumerate(zone):
        if title_at is not None and r["line_no"] < title_at - 6:
            continue
        if body_at is not None and r["line_no"] > body_at:
            place = 2
        elif title_at is not None and r["line_no"] < title_at:
            place = 1
        else:
            place = 0
        for pos, d, label in dates_in(r["line"]):
            key = (place, {"published": 0, None: 1, "updated": 2}[label], order)
            if best is None or key < best[:3]:
                best = (*key, d, r["line_no"])
    return (best[3], best[4]) if best else (None, None)


# --- names -------------------------------------------------------------------------------------

_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "bin", "ibn", "al", "el", "ter", "dos", "del"}
# Words that make a capitalized phrase an organization or a role, not a person.
_NOT_PERSON = {
    "news", "press", "staff", "reporter", "reporters", "agency", "agencies", "media", "editor", "editors",
    "editorial", "desk", "team", "correspondent", "times", "post", "journal", "daily", "online", "network",
    "associated", "reuters", "afp", "bbc", "guardian", "institute", "university", "center", "centre",
    "foundation", "council", "committee", "ministry", "department", "office", "group", "service", "services",
    "published", "updated", "posted", "share", "comments", "read", "more", "view", "follow", "subscribe",
    "home", "world", "politics", "opinion", "analysis", "live", "video", "photo", "image", "getty", "images",
}
_ROLE_WORDS = (
    r"(?:senior|chief|deputy|political|foreign|diplomatic|security|defen[cs]e|white house|washington|china|"
    r"europe|middle east|economics?|business|health|science|technology|tech|sports?|world|news|legal|royal|"
    r"home affairs|environment|education|crime|investigations?|associate|contributing|managing|executive|travel|"
    r"entertainment|culture|lifestyle|celebrity|showbiz|money|consumer|property|motoring|food|fashion|digital|"
    r"staff|special|global|national|international|regional|local|assistant|research|visiting|non-resident)"
)
_ROLE_TITLE = (
    r"(?:correspondent|editor|reporter|writer|contributor|columnist|journalist|analyst|producer|fellow|director"
    r"|researcher|intern|professor|author|commentator|chief|bureau chief)"
)
_NAME_TOKEN = r"(?:[A-Z][\w'’-]*\.?|[A-Z]\.)"
_NAME = rf"{_NAME_TOKEN}(?:\s+(?:(?:{'|'.join(sorted(_PARTICLES))})\s+)?{_NAME_TOKEN}){{1,3}}"
_BYLINE = re.compile(r"(?i:^(?:[*•·-]\s*)?(?:(?:written|posted|words|reported|story)\s+)?by)[:\s]+(.+)$")
_SIGNATURE = re.compile(
    rf"^({_NAME}),\s+(?:(?i:senior|junior|non-resident|research|visiting|associate)\s+)*"
    r"(?i:fellow|editor|correspondent|reporter|director|analyst|contributor|researcher|intern|writer|professor)\b.{0,80}$"
)
_BIO = re.compile(
    rf"^({_NAME}) is (?:a|an|the)\s.{{0,200}}?\b(?i:candidate|fellow|professor|journalist|researcher|analyst|editor"
    r"|director|correspondent|writer|author|lecturer|student)\b"
)
_REPORTS = re.compile(r"(?:^|[.!?] )([A-Z][a-z]+(?: [A-Z][a-z]+){1,2}) reports\.(?:\n|$)")
SIGNATURE_REGEX = _SIGNATURE.pattern
BIO_REGEX = _BIO.pattern
BYLINE_REGEX = r"^(?i:(?:[*•·-]\s*)?(?:written\s+)?by)[:\s]+\p{Lu}"


def is_person_name(text: str) -> bool:
    """2-4 capitalized words (particles such as 'van' or 'bin' allowed), none of them a word
    that names an organization, a role or a page element, not all in capitals."""
    text = text.strip(" ,;|-")
    if not re.fullmatch(_NAME, text):
        return False
    words = re.findall(r"[\w'’-]+", text)
    if not 2 <= len([w for w in words if w.lower() not in _PARTICLES]) <= 4:
        return False
    if text.isupper() and len(text) > 3:
        return False
    lowered = {w.lower() for w in words}
    # a function word may end a name ("Xiaoying You") but not start or continue one ("An Inter...")
    leading = {w.lower() for w in words[:-1]}
    if lowered & _NOT_PERSON or leading & (_STOP - _PARTICLES) or any(w.lower() in _MONTHS for w in words):
        return False
    return True


def _cut_name_list(text: str) -> list[str]:
    """'Maya Gebeily and Anthony Deutsch | Fox News' -> the names at its start."""
    text = re.split(r"\s*[|•·]\s*|\s+[-–—]\s+|\s+(?i:published|updated|posted|on)\b", text)[0]
    text = re.split(DATE_LINE_REGEX + "|" + _RELATIVE_TIME, text)[0]
    text = re.sub(rf"(?i)(?:\s+{_ROLE_WORDS})*\s+{_ROLE_TITLE}\b.*$", "", text)
    names = []
    for part in re.split(r"\s*(?:,|;|\band\b|&)\s*", text):
        part = re.sub(r"\s*\d.*$", "", part).strip(" .,")  # trailing dates, superscript markers ("You0")
        m = re.match(_NAME, part)
        if m and is_person_name(m.group(0)):
            names.append(m.group(0))
        elif part:
            break
    return names


def byline_authors(zone: list[dict], date_at: int | None) -> tuple[list[str], list[int]]:
    """Authors from header-zone lines, and the line_nos they were read from."""
    rows = [r for r in zone if r["line"]]
    for i, r in enumerate(rows):
        line = r["line"]
        m = _BYLINE.match(line)
        if m:
            names = _cut_name_list(m.group(1))
            if names:
                return names, [r["line_no"]]
        if re.fullmatch(r"(?i)by:?", line):  # "By" on its own line, then a list of names
            names, used = [], [r["line_no"]]
            for nxt in rows[i + 1:i + 12]:
                got = _cut_name_list(nxt["line"].lstrip("*•·- "))
                if not got:
                    if names:
                        break
                    continue
                names += got
                used.append(nxt["line_no"])
            if names:
                return list(dict.fromkeys(names)), used
    # a name line (with a role, a relative time or a glued date) next to the date line
    anchors = {date_at} if date_at is not None else set()
    anchors |= {r["line_no"] for r in rows if re.search(_RELATIVE_TIME, r["line"])}
    for r in rows:
        if not any(abs(r["line_no"] - a) <= 3 for a in anchors):
            continue
        line = re.sub(r"(?<=[a-z])(?=(?:Published|Updated|Posted)\b)", " ", r["line"]).lstrip("*•·- ")
        names = _cut_name_list(line)
        if not names:
            continue
        # what follows the names is a role, a time or a date, not a sentence
        rest = re.split(DATE_LINE_REGEX + "|" + _RELATIVE_TIME, line)[0][len(" and ".join(names)):]
        if len(re.findall(r"\w+", rest)) <= 4:
            return names, [r["line_no"]]
    return [], []


def signature_author(line: str) -> str | None:
    m = _SIGNATURE.match(line) or _BIO.match(line)
    return m.group(1) if m else None


def reports_authors(body: str) -> list[str]:
    """'... Chantelle Davis reports.' closing a paragraph."""
    return [a for a in _REPORTS.findall(body) if is_person_name(a)]


# --- headline ------------------------------------------------------------------------------------

_STOP = frozenset(
    """the a an and or of to in on for with by as at from that this these those is are was were be been it its
    their they them he she his her we our you your not but also than more most into over after before about
    which who whom what when where why how has have had will would could should may might can there here
    such other some any all many much very only just while during between against because through says said""".split()
)


STOPWORDS = _STOP


def _stem(word: str) -> str:
    """A light stemmer: possessives and plural endings off ("spaceports" = "spaceport")."""
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> Counter:
    """Words of 3+ letters that are not function words, lightly stemmed."""
    return Counter(_stem(w) for w in re.findall(r"[^\W\d_][\w'-]{2,}", text.lower()) if w not in _STOP)


def title_overlap(title: str, lead: Counter) -> float:
    words = set(content_words(title))
    return len(words & set(lead)) / len(words) if words else 0.0


TITLE_MIN_WORDS = 3
TITLE_MAX_WORDS = 40
TITLE_MIN_OVERLAP = 0.25


def is_title_candidate(r: dict) -> bool:
    """A line that can be a headline: 3-40 words, not navigation, not metadata, not boilerplate
    that recurs across files, not a sentence ending with '.', ';' or ':' (unless another line of
    the file names it, as a breadcrumb or an image's alt text does)."""
    if not TITLE_MIN_WORDS <= r["n_words"] <= TITLE_MAX_WORDS:
        return False
    if r.get("named_heading"):
        return True
    if any(r.get(k) for k in ("bullet", "caption", "legal", "date_line", "byline", "signature", "breadcrumb")):
        return False
    if r.get("files_with_line", 1) >= 2:
        return False
    return not re.search(r"[.,;:]$", r["line"])


def title_support(title: str, lead: Counter) -> float:
    """How strongly the article's text supports a candidate headline: the weight of the
    candidate's content words found in it (a word of 5+ letters weighs 1, a shorter one 0.5:
    short words are the generic ones), times the share of its content words found. A
    three-word menu entry sharing one common word scores far below a headline sharing five."""
    words = set(content_words(title))
    if not words:
        return 0.0
    hits = words & set(lead)
    weight = sum(1.0 if len(w) >= 5 else 0.5 for w in hits)
    return weight * len(hits) / len(words)


def headline(zone: list[dict], lead: Counter) -> dict | None:
    """The headline row of a header zone (None when no line qualifies).

    Candidates named by another line of the file (an image's alt text, a breadcrumb) win.
    Otherwise the candidate best supported by the lead (`title_support`, at least
    TITLE_MIN_OVERLAP of its words in the lead); when a candidate a few lines above it is
    almost as well supported, that one is the headline and the best one its deck (a deck
    repeats the story's words and follows its headline)."""
    named = [r for r in zone if r.get("named_heading") and is_title_candidate(r)]
    if named:
        return named[-1]
    scored = [(title_support(r["line"], lead), r) for r in zone if is_title_candidate(r)
              and title_overlap(r["line"], lead) >= TITLE_MIN_OVERLAP]
    scored = [(v, r) for v, r in scored if v >= 0.5]
    if not scored:
        return None
    best_value, best = max(scored, key=lambda t: (t[0], t[1]["line_no"]))
    for value, r in sorted(scored, key=lambda t: -t[1]["line_no"]):
        if 0 < best["line_no"] - r["line_no"] <= 6 and not any(
                x.get("prose") and r["line_no"] < x["line_no"] < best["line_no"] for x in zone):
            return r
    return best


# --- publisher ----------------------------------------------------------------------------------

def publisher_from_lines(rows: list[dict]) -> str | None:
    """'© 2018 EER - Copyright © European Eye on Radicalization.', '© 2024 Brookings', or a
    masthead in capitals opening the file ('BROOKINGS')."""
    for r in rows:
        m = re.search(r"(?i)copyright\s*©?\s*(?:\d{4}\s*)?(?:by\s+)?([A-Z][\w&.' -]{2,80}?)\.?\s*(?:all rights reserved.*)?$",
                      r["line"])
        if r.get("legal") and m:
            return m.group(1).strip(" .-")
    for r in rows:
        m = re.search(r"©\s*(?:\d{4}(?:-\d{4})?\s+)?([A-Z][\w&.' -]{2,60}?)\.?$", r["line"])
        if r.get("legal") and m:
            return m.group(1).strip(" .-")
    head = [r for r in rows[:5] if r["line"]]
    if head and re.fullmatch(r"[A-Z][A-Z\d&.' -]+", head[0]["line"]) and head[0]["n_words"] <= 3:
        return head[0]["line"]
    return None


def publisher_from_links(raw_text: str, domains: dict[str, str]) -> str | None:
    hosts = Counter(h.lower().removeprefix("www.") for h in re.findall(r"https?://([\w.-]+)", raw_text))
    for host, _ in hosts.most_common():
        if host in domains:
            return domains[host]
    return None


def trailing_site_name(rows: list[dict]) -> str | None:
    """A short Title Case line that closes the file is the site's own name ("Rise to Peace")."""
    tail = [r for r in rows if r["line"]]
    if not tail:
        return None
    last = tail[-1]
    line = last["line"]
    if 2 <= last["n_words"] <= 5 and not re.search(r"[.!?:,;]$", line) and not last.get("bullet"):
        sig_orgs = {m.group(1) for r in rows if (m := re.search(r"\bat ([A-Z][\w ]+)$", r["line"]))}
        if line in sig_orgs or re.fullmatch(r"[A-Z][\w'&-]*(?: (?:[A-Z][\w'&-]*|of|to|the|for|and|on))*", line):
            return line
    return None
