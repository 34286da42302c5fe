"""Turn raw decoded web text into clean articles with metadata.

Three stages:
1. `clean_text` (vectorized): Unicode NFKC, ASCII quotes, no control or zero-width
   characters, `[interstitial_link ...]` markup removed, spaces collapsed.
2. `classify_lines` (vectorized): every line gets a kind (blank, nav, boilerplate,
   caption, date, byline, signature, heading, prose, ...) from regexes and from
   facts about the whole file (repeated short lines are menus; a line quoted in
   an image's alt text is a headline).
3. `assemble_articles` (per file): split a file into articles, read title,
   authors, publisher and publication date from the header and trailer zones,
   and join the body paragraphs. This stage walks the lines of one file in
   order because article boundaries and header zones are sequential decisions;
   it touches only the already-classified lines, and the benchmark measures it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

import polars as pl

from dagster_project.extract.dates import parse_standalone_date

NORMALIZED_SCHEMA = {
    "document_id": pl.String,
    "file_id": pl.String,
    "source_file": pl.String,
    "article_index": pl.Int32,
    "title": pl.String,
    "authors": pl.String,
    "publisher": pl.String,
    "published_date": pl.Date,
    "body_text": pl.String,
    "word_count": pl.Int32,
    "content_sha256": pl.String,
}

QUOTE_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
}


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Vectorized character-level normalization of a text column."""
    return (
        expr.str.replace_all("\r\n?", "\n")
        .str.normalize("NFKC")
        .str.replace_many(list(QUOTE_FOLD), list(QUOTE_FOLD.values()))
        # soft hyphens, zero-width characters and BOMs join words: remove them;
        # C0/C1 controls other than \n separate words: make them spaces
        .str.replace_all(r"[\u00ad\u200b-\u200d\u2060\ufeff]", "")
        .str.replace_all(r"[\u200e\u200f\x00-\x09\x0b-\x1f\x7f-\x9f]", " ")
        .str.replace_all(r"(?s)\[interstitial_link[^\]]*\].*?\[/interstitial_link\]", "")
        .str.replace_all(r"\[/?interstitial_link[^\]]*\]", "")
        .str.replace_all(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ")
        .str.replace_all(r"(?m)^ +| +$", "")
    )


def fold_text(text: str) -> str:
    """The same normalization for one Python string (used for gold anchors and tests)."""
    return pl.select(clean_text(pl.lit(text, dtype=pl.String))).item()


# ---------------------------------------------------------------------------
# Line classification
# ---------------------------------------------------------------------------

_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_LINE = (
    r"(?i)^(?:[-–—•|]\s*)?(?:(?:published|posted|updated|date)\s*:?\s*)?(?:on\s+)?"
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
    r"\s*$"
)
_BOILERPLATE_LINE = (
    r"(?i)^(?:no results?|view all results?|share on (?:facebook|twitter|linkedin|whatsapp).*|share(?: this)?:?"
    r"|tweet|email|print|\d+\s*views?|views?|\d+\s*min(?:ute)?s?\s+read|\d+\s+views?\s+\d+\s+min\s+\d+\s+comments?"
    r"|\d+ comments?|leave a (?:comment|reply)|comments?|no comments:?|post a comment|read more|advertisement"
    r"|subscribe.*|sign up.*|skip to (?:main )?content|menu|search|login|log in|home|load more|tags?:.*"
    r"|facebook|twitter|linkedin|instagram|youtube|telegram)$"
)
_TRAILER_START = (
    r"(?i)^(?:related posts?|related articles?|you may also like|popular(?: posts)?|latest from twitter|more from .{1,40}"
    r"|read next|recommended|leave a (?:comment|reply)|no comments:?|post a comment|authors?:?)$"
)
_LEGAL = r"(?i)(?:©|\bcopyright\b|\ball rights reserved\b|\bcookies?\b|\bakismet\b|\badblock|\bprivacy policy\b)"
_CAPTION = (
    r"(?i)(?:\b(?:photo|image|picture|credit)s?\s*:|\(\s*[A-Z][^()/]{1,40}/[^()]{2,60}\)\s*$|\b[A-Z]{2,}/[A-Z][a-z]+"
    r"|^source:|\bposes? for a (?:picture|photo)\b|\b(?:picture|photo) sent to\b|\bpictured\b|\b\d{2,4}x\d{2,4}\b)"
)
_BYLINE = r"^(?i:by)\s+([A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}(?:\s*(?:,|and|&)\s*[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3})*)(?:\s*[-–—|,].*)?$"
_SIGNATURE = (
    r"^([A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]*){1,3}),\s+(?:(?i:senior|junior|non-resident|research|visiting|associate)\s+)*"
    r"(?i:fellow|editor|correspondent|reporter|director|analyst|contributor|researcher|intern|writer|professor)\b.{0,80}$"
)
_BIO = (
    r"^([A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){1,2}) is (?:a|an|the)\s.{0,200}?\b(?i:candidate|fellow|professor|journalist"
    r"|researcher|analyst|editor|director|correspondent|writer|author|lecturer|student)\b"
)
_NAME_LINE = r"^[A-Z][a-z]+(?:[- ][A-Z][a-z]+|\s+[A-Z]\.){1,3}$"
_NAV_BULLET = r"^[•·▪►*-]\s*\S"


def classify_lines(docs: pl.DataFrame) -> pl.DataFrame:
    """Explode documents (file_id, text) into lines and classify each one.

    Returns columns: file_id, line_no, line, kind, n_words, repeats.
    """
    lines = (
        docs.lazy()
        .select("file_id", pl.col("text").str.split("\n").alias("line"))
        .explode("line", empty_as_null=True)
        .with_columns(
            pl.int_range(pl.len()).over("file_id").alias("line_no"),
            pl.col("line").fill_null(""),
        )
        .with_columns(
            n_words=pl.col("line").str.count_matches(r"\S+"),
            repeats=pl.len().over("file_id", "line"),
            # `... - Headline`: image alt text that names the post it belongs to.
            alt_suffix=pl.col("line").str.extract(r"^.{2,120}? - (.{10,200})$", 1),
        )
    )
    headings = lines.select("file_id", pl.col("line").alias("alt_suffix"), pl.lit(True).alias("alt_of_heading"))
    lines = lines.join(headings.unique(), on=["file_id", "alt_suffix"], how="left")
    line = pl.col("line")
    short = pl.col("n_words") <= 14
    kind = (
        pl.when(line == "")
        .then(pl.lit("blank"))
        .when(line.str.contains(_TRAILER_START) & short)
        .then(pl.lit("trailer_start"))
        .when(line.str.contains(_DATE_LINE))
        .then(pl.lit("date"))
        .when(line.str.contains(r"(?i)^home\s*[»>›/|]"))
        .then(pl.lit("breadcrumb"))
        .when(line.str.contains(_BOILERPLATE_LINE))
        .then(pl.lit("boilerplate"))
        .when(line.str.contains(_LEGAL) & (pl.col("n_words") <= 40))
        .then(pl.lit("legal"))
        .when(pl.col("alt_of_heading").fill_null(False))
        .then(pl.lit("alt_text"))
        .when(line.str.contains(_CAPTION) & (pl.col("n_words") <= 60))
        .then(pl.lit("caption"))
        .when(line.str.contains(_NAV_BULLET) & (pl.col("n_words") <= 5))
        .then(pl.lit("nav"))
        .when(line.str.contains(_BYLINE) & short)
        .then(pl.lit("byline"))
        .when(line.str.contains(_SIGNATURE))
        .then(pl.lit("signature"))
        .when(line.str.contains(_BIO) & (pl.col("n_words") <= 80))
        .then(pl.lit("bio"))
        .when(line.str.contains(_NAME_LINE) & (pl.col("n_words") <= 4))
        .then(pl.lit("name"))
        .when((pl.col("repeats") >= 2) & (pl.col("n_words") <= 4))
        .then(pl.lit("nav"))
        .when(line.str.contains(r"^[\p{Lu}\d\s&.'-]+$") & (pl.col("n_words") <= 3))
        .then(pl.lit("label"))
        .when(short & ~line.str.contains(r"[.!:;,]\s*$") | (line.str.contains(r"\?$") & short))
        .then(pl.lit("heading"))
        .otherwise(pl.lit("prose"))
    )
    return (
        lines.with_columns(kind=kind)
        .select("file_id", "line_no", "line", "kind", "n_words", "repeats")
        .sort("file_id", "line_no")
        .collect()
    )


# ---------------------------------------------------------------------------
# Assembly: articles and metadata
# ---------------------------------------------------------------------------

_STOP = frozenset(
    """the a an and or of to in on for with by as at from that this these those is are was were be been it its
    their they them he she his her we our you your not but also than more most into over after before about
    which who whom what when where why how has have had will would could should may might can there here
    such other some any all many much very only just while during between against because through""".split()
)


def _content_words(text: str) -> Counter:
    return Counter(w for w in re.findall(r"[a-z][a-z'-]{3,}", text.lower()) if w not in _STOP)


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


# A heading starts a new article when the prose after it shares less vocabulary with the
# prose before it than this (TextTiling-style lexical cohesion, Hearst 1997). Subheadings
# inside one article score well above it; the seeds' headings
# and subheadings in tests/test_text_normalize.py are split (or not) by it.
NEW_ARTICLE_COHESION = 0.12
_WINDOW_WORDS = 250
# Lexical cohesion needs enough text on the left to mean anything: a short intro
# followed by a subheading is not a new article.
_MIN_WORDS_BEFORE_SPLIT = 150


def _window(paragraphs: list[str], forward: bool) -> Counter:
    out: list[str] = []
    n = 0
    seq = paragraphs if forward else reversed(paragraphs)
    for p in seq:
        out.append(p)
        n += p.count(" ") + 1
        if n >= _WINDOW_WORDS:
            break
    return _content_words(" ".join(out))


def _title_case_publisher(text: str) -> str:
    return text.title() if text.isupper() else text


def _publisher_from_file(rows: list[dict]) -> str | None:
    for r in rows:  # "© 2018 EER - Copyright © European Eye on Radicalization."
        m = re.search(r"(?i)copyright\s*©?\s*(?:\d{4}\s*)?(?:by\s+)?([A-Z][\w&.' -]{2,80}?)\.?\s*(?:all rights reserved.*)?$", r["line"])
        if r["kind"] == "legal" and m:
            return m.group(1).strip(" .-")
    for r in rows:
        m = re.search(r"©\s*(?:\d{4}(?:-\d{4})?\s+)?([A-Z][\w&.' -]{2,60}?)\.?$", r["line"])
        if r["kind"] == "legal" and m:
            return m.group(1).strip(" .-")
    head = [r for r in rows[:5] if r["kind"] != "blank"]
    if head and head[0]["kind"] == "label":  # masthead such as "BROOKINGS"
        return _title_case_publisher(head[0]["line"])
    return None


def _publisher_from_links(raw_text: str, domains: dict[str, str]) -> str | None:
    hosts = Counter(
        h.lower().removeprefix("www.") for h in re.findall(r"https?://([\w.-]+)", raw_text)
    )
    for host, _ in hosts.most_common():
        if host in domains:
            return domains[host]
    return None


def _trailing_site_name(rows: list[dict]) -> str | None:
    """A short Title Case line that closes the file is the site's own name ("Rise to Peace")."""
    tail = [r for r in rows if r["kind"] != "blank"]
    if tail and tail[-1]["kind"] in ("heading", "name", "nav") and 2 <= tail[-1]["n_words"] <= 5:
        line = tail[-1]["line"]
        sig_orgs = {m.group(1) for r in rows if (m := re.search(r"\bat ([A-Z][\w ]+)$", r["line"]))}
        if line in sig_orgs or re.fullmatch(r"[A-Z][\w'&-]*(?: (?:[A-Z][\w'&-]*|of|to|the|for|and|on))*", line):
            return line
    return None


def _doc_id(file_id: str, article_index: int) -> str:
    return hashlib.sha256(f"{file_id}:{article_index}".encode()).hexdigest()[:32]


def _split_names(text: str) -> list[str]:
    parts = re.split(r"\s*(?:,|\band\b|&)\s*", text)
    return [p.strip() for p in parts if p.strip()]


def _is_title_candidate(r: dict) -> bool:
    return r["kind"] in ("heading", "name") and r["n_words"] >= 2


def _refine(rows: list[dict]) -> list[dict]:
    """Sequential corrections that need a line's neighbours."""
    crumbs = {re.split(r"\s*[»>›/|]\s*", r["line"])[-1].strip() for r in rows if r["kind"] == "breadcrumb"}
    nonblank = [r for r in rows if r["kind"] != "blank"]
    for cur, nxt in zip(nonblank, nonblank[1:]):
        # A caption printed twice, the second time with its photo credit.
        if nxt["kind"] == "caption" and cur["kind"] in ("prose", "heading") and nxt["line"].startswith(cur["line"]):
            cur["kind"] = "caption"
    for r in nonblank:
        # The headline a breadcrumb names is a heading even when it ends with a full stop.
        if r["line"] in crumbs and r["kind"] == "prose":
            r["kind"] = "heading"
    return rows


def _assemble_file(file_id: str, rows: list[dict], raw_text: str, domains: dict[str, str]) -> list[dict]:
    rows = _refine(rows)
    # 1. Cut the trailer ("Related Posts", "You may also like", "AUTHORS", comments).
    trailer_at = next((i for i, r in enumerate(rows) if r["kind"] == "trailer_start"), len(rows))
    body_rows, trailer = rows[:trailer_at], rows[trailer_at:]
    publisher = (
        _publisher_from_file(rows) or _publisher_from_links(raw_text, domains) or _trailing_site_name(rows)
    )
    if publisher:  # the site's closing name line is not body text
        body_rows = [r for r in body_rows if r["line"] != publisher or r["kind"] == "prose"]

    # Trailer authors: "AUTHORS" followed by name lines.
    trailer_authors = [
        r["line"] for i, r in enumerate(trailer)
        if r["kind"] == "name" and i > 0 and re.fullmatch(r"(?i)authors?:?", trailer[0]["line"])
    ][:5]

    # 2. Header zone: everything before the first prose paragraph.
    first_prose = next((i for i, r in enumerate(body_rows) if r["kind"] == "prose"), len(body_rows))
    header, content = body_rows[:first_prose], body_rows[first_prose:]

    # Headlines named by image alt text ("Picture 1 300x293 - <headline>") start articles.
    alt_titles = {
        m.group(1) for r in rows if r["kind"] == "alt_text" and (m := re.search(r" - (.+)$", r["line"]))
    }

    # 3. Split the content into articles at headings that start a new topic.
    paragraphs_before: list[str] = []
    segments: list[list[dict]] = [[]]
    for i, r in enumerate(content):
        if r["kind"] in ("heading", "name") and paragraphs_before and r["line"] != publisher:
            after = [x["line"] for x in content[i + 1:] if x["kind"] == "prose"]
            prev_real = [x for x in segments[-1] if x["kind"] != "blank"]
            strong = r["line"] in alt_titles or (prev_real and prev_real[-1]["kind"] in ("signature", "bio"))
            cohesion = _cosine(_window(paragraphs_before, forward=False), _window(after, forward=True))
            enough = sum(p.count(" ") + 1 for p in paragraphs_before) >= _MIN_WORDS_BEFORE_SPLIT
            if strong or (after and enough and cohesion < NEW_ARTICLE_COHESION):
                segments.append([])
                paragraphs_before = []
        segments[-1].append(r)
        if r["kind"] == "prose":
            paragraphs_before.append(r["line"])

    # 4. File-level header metadata.
    head_date = next((parse_standalone_date(r["line"]) for r in header if r["kind"] == "date"), None)
    head_authors: list[str] = []
    for i, r in enumerate(header):
        if r["kind"] == "byline":
            m = re.match(_BYLINE, r["line"])
            head_authors = _split_names(m.group(1)) if m else []
            break
        if r["kind"] == "name" and any(x["kind"] == "date" for x in header[i + 1:i + 3]):
            head_authors = [r["line"]]
            break
    title = _header_title(header, publisher, head_authors)

    articles = []
    for idx, seg in enumerate(segments):
        if idx > 0:  # the segment opens with its headline: the one an image names, else the first line
            lead = next((i for i, r in enumerate(seg) if r["kind"] == "prose"), len(seg))
            named = [i for i, r in enumerate(seg[:lead]) if r["line"] in alt_titles]
            cut = named[0] if named else 0
            seg_title, seg = seg[cut]["line"], seg[cut + 1:]
        else:
            seg_title = title
        authors = list(head_authors) if idx == 0 else []
        body_lines = []
        for r in seg:
            if r["kind"] in ("signature", "bio"):
                name = re.match(_SIGNATURE if r["kind"] == "signature" else _BIO, r["line"])
                if name:
                    authors.append(name.group(1))
            elif r["kind"] in ("prose", "heading", "name", "date", "label") and r["line"] != seg_title:
                body_lines.append(r["line"])  # (a headline repeated inside the body is dropped)
        if idx == 0 and not authors:
            authors = trailer_authors
        joined = "\n\n".join(body_lines)
        if not authors:  # "... Chantelle Davis reports." closing an intro paragraph
            authors = re.findall(r"(?:^|[.!?] )([A-Z][a-z]+(?: [A-Z][a-z]+){1,2}) reports\.(?:\n|$)", joined)
        if not joined.strip():
            continue
        authors = list(dict.fromkeys(a for a in authors if a and a != publisher)) or (
            [publisher] if idx == 0 and publisher and any(
                r["kind"] == "nav" and r["line"] == publisher for r in header[-3:]) else []
        )
        articles.append(
            dict(
                file_id=file_id,
                article_index=len(articles),
                title=seg_title,
                authors="; ".join(authors) if authors else None,
                publisher=publisher,
                published_date=head_date if idx == 0 else None,
                body_text=joined,
            )
        )
    return articles


def _header_title(header: list[dict], publisher: str | None, authors: list[str]) -> str | None:
    cands = [r for r in header if _is_title_candidate(r) and r["line"] != publisher and r["line"] not in authors]
    # The headline is the line right before the date or byline; else a breadcrumb's last part.
    for i, r in enumerate(header):
        if r["kind"] in ("date", "byline") or (r["kind"] == "name" and r["line"] in authors):
            before = [x for x in header[:i] if _is_title_candidate(x) and x["line"] != publisher and x["line"] not in authors]
            if before:
                return before[-1]["line"]
    for r in header:
        if r["kind"] == "breadcrumb":
            last = re.split(r"\s*[»>›/|]\s*", r["line"])[-1].strip()
            if last:
                return last
    return cands[0]["line"] if cands else None


def assemble_articles(raw_documents: pl.DataFrame, publisher_domains: dict[str, str] | None = None) -> pl.DataFrame:
    """raw_documents (file_id, source_file, raw_text) -> one row per article (NORMALIZED_SCHEMA)."""
    domains = publisher_domains or {}
    cleaned = raw_documents.select("file_id", "source_file", "raw_text", clean_text(pl.col("raw_text")).alias("text"))
    lines = classify_lines(cleaned.select("file_id", "text"))
    by_file = {k[0]: g.to_dicts() for k, g in lines.group_by("file_id", maintain_order=True)}
    out: list[dict] = []
    for row in cleaned.iter_rows(named=True):
        for art in _assemble_file(row["file_id"], by_file.get(row["file_id"], []), row["raw_text"], domains):
            art["source_file"] = row["source_file"]
            out.append(art)
    df = pl.DataFrame(out, schema={k: v for k, v in NORMALIZED_SCHEMA.items()
                                   if k not in ("document_id", "word_count", "content_sha256")})
    return df.with_columns(
        document_id=pl.struct("file_id", "article_index").map_elements(
            lambda s: _doc_id(s["file_id"], s["article_index"]), return_dtype=pl.String),
        word_count=pl.col("body_text").str.count_matches(r"\S+").cast(pl.Int32),
        content_sha256=pl.col("body_text").map_elements(
            lambda t: hashlib.sha256(t.encode()).hexdigest(), return_dtype=pl.String),
    ).select(list(NORMALIZED_SCHEMA))


def load_publisher_domains(path) -> dict[str, str]:
    """domain -> publisher name, from a CSV with columns domain, publisher."""
    df = pl.read_csv(path)
    return dict(zip(df["domain"], df["publisher"]))
