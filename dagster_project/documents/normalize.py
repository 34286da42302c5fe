"""Raw documents -> articles: one row per article with its metadata, and one rejection row per
file that yields no article.

In: `raw_documents` (file_id, source_file, raw_text, and content_type when ingest gave it).
Out (`normalize_documents`):
- `articles` (NORMALIZED_SCHEMA, grain: one row per article; a file holding several posts
  gives several). `body_text` opens with the headline as its first paragraph, so that
  extraction sees the facts headlines carry ("Suicide bomber kills 20 in Peshawar");
  `body_char_start` is the offset where the article text after the headline starts (0 when
  there is no headline). Every offset of every extracted row is an offset into this text.
  `removed_lines` counts, by reason, the non-blank lines of the file that are not in the
  body (each line is counted for exactly one article of its file), so no text disappears
  without a trace.
- `rejected` (file_id, source_file, reason, detail): files that normalization empties
  (boilerplate only, markup without article text); the asset writes them to quarantine.

HTML pages go through trafilatura (documents/html.py); text scrapes through the line model of
documents/scrape.py and the header rules of documents/metadata.py. Article boundaries inside
a text scrape are sequential decisions on a few candidate lines per file (headings and the
gaps between content runs), taken in Python on those lines only.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass

import polars as pl

from dagster_project.documents import metadata as meta
from dagster_project.documents.language import detect_language
from dagster_project.documents.scrape import (
    clean_text,
    content_segments,
    fold_text,
    line_document_frequency,
    line_features,
    score_lines,
    select_body_lines,
    split_lines,
)

__all__ = ["NORMALIZED_SCHEMA", "REJECTED_SCHEMA", "Normalized", "assemble_articles", "clean_text", "fold_text",
           "load_publisher_domains", "normalize_documents"]

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
    "body_char_start": pl.Int32,
    "word_count": pl.Int32,
    "content_sha256": pl.String,
    "language": pl.String,
    "content_type": pl.String,
    "extraction_method": pl.String,
    "removed_lines": pl.List(pl.Struct({"reason": pl.String, "lines": pl.Int32})),
}
REJECTED_SCHEMA = {"file_id": pl.String, "source_file": pl.String, "reason": pl.String, "detail": pl.String}

# A heading starts a new article when the text after it shares less vocabulary with the text
# before it than this (TextTiling-style lexical cohesion, Hearst 1997) and both sides are long
# enough to judge; subheadings of one article score well above it.
NEW_ARTICLE_COHESION = 0.10
_WINDOW_WORDS = 250
_MIN_WORDS_EACH_SIDE = 150
_HEADING_MAX_WORDS = 20
_EARLY_METADATA_LINES = 15
_DEBUG: list | None = None  # set to a list to record every candidate boundary (diagnostics)


@dataclass
class Normalized:
    articles: pl.DataFrame
    rejected: pl.DataFrame


def load_publisher_domains(path) -> dict[str, str]:
    """domain -> publisher name, from a CSV with columns domain, publisher."""
    df = pl.read_csv(path)
    return dict(zip(df["domain"], df["publisher"]))


def _doc_id(file_id: str, article_index: int) -> str:
    return hashlib.sha256(f"{file_id}:{article_index}".encode()).hexdigest()[:32]


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


# --- text scrapes ---------------------------------------------------------------------------

_META_COLUMNS = ["file_id", "line_no", "line", "n_words", "bullet", "caption", "legal", "breadcrumb", "prose",
                 "files_with_line",
                 "repeats", "date_line", "byline", "signature", "bio", "named_heading", "in_body", "segment",
                 "segment_score", "removed_reason"]


def _with_metadata_kinds(features: pl.LazyFrame) -> pl.LazyFrame:
    """Line kinds that carry metadata: date lines, bylines, signatures and bios, and lines that
    another line of the file names as its last part (a breadcrumb "Home > News > <headline>",
    an image's alt text "<file name> - <headline>")."""
    line = pl.col("line")
    short = pl.col("n_words") <= 20
    suffixes = (
        features.select(
            "file_id",
            pl.concat_list(
                line.str.extract(r"^.{2,160}? - (.{10,300})$", 1),
                line.str.extract(r"(?:^|\s)[»>›|/]\s*([^»>›|/]{10,300})$", 1).str.strip_chars(),
            ).alias("named"),
        )
        .explode("named", empty_as_null=True)
        .drop_nulls("named")
        .unique()
        .rename({"named": "line"})
        .with_columns(named_heading=pl.lit(True))
    )
    # and the naming line itself, "<file name> - <headline>", is an image's alt text: a caption
    alt_of = line.str.extract(r"^.{2,160}? - (.{10,300})$", 1)
    alt_lines = (
        features.select("file_id", "line_no", alt_of.alias("named"))
        .drop_nulls("named")
        .join(features.select("file_id", pl.col("line").alias("named")).unique(), on=["file_id", "named"])
        .select("file_id", "line_no", pl.lit(True).alias("alt_text"))
    )
    return (
        features.join(suffixes, on=["file_id", "line"], how="left")
        .join(alt_lines, on=["file_id", "line_no"], how="left")
        .with_columns(caption=pl.col("caption") | pl.col("alt_text").fill_null(False))
        .drop("alt_text")
        .with_columns(
            named_heading=pl.col("named_heading").fill_null(False),
            # a date with little else: a time, a weekday, a label, a time zone, a name or two
            date_line=short & line.str.contains(meta.DATE_LINE_REGEX) & (
                line.str.replace_all(meta.DATE_LINE_REGEX, " ").str.replace_all(meta.TIME_REGEX, " ")
                .str.replace_all(meta.DATE_WORDS_REGEX, " ").str.count_matches(r"\p{L}{2,}") <= 5),
            byline=short & line.str.contains(meta.BYLINE_REGEX),
            signature=(pl.col("n_words") <= 30) & line.str.contains(meta.SIGNATURE_REGEX),
            bio=(pl.col("n_words") <= 80) & line.str.contains(meta.BIO_REGEX),
        )
        # metadata lines never count as prose or body
        .with_columns(caption=pl.col("caption") & ~pl.col("date_line"))
    )


def _text_lines(raw: pl.DataFrame) -> pl.DataFrame:
    lines = split_lines(raw.select("file_id", "raw_text"))
    frequency = line_document_frequency(lines)
    feats = _with_metadata_kinds(line_features(lines, frequency))
    scored = score_lines(feats).with_columns(
        prose=pl.col("prose") & ~pl.col("date_line") & ~pl.col("byline") & ~pl.col("signature"),
    ).with_columns(
        score=pl.when(pl.col("line") == "").then(0).when(pl.col("prose")).then(pl.col("n_words"))
        .otherwise(-(pl.min_horizontal(pl.col("n_words"), pl.lit(8)) + 2)).cast(pl.Int32)
    )
    body = select_body_lines(content_segments(scored))
    metadata_line = pl.col("date_line") | pl.col("byline") | pl.col("signature")
    body = body.with_columns(
        in_body=pl.col("in_body") & ~metadata_line,
        removed_reason=pl.when(pl.col("line") == "").then(None)
        .when(pl.col("in_body") & ~metadata_line).then(None)
        .when(pl.col("date_line")).then(pl.lit("date"))
        .when(pl.col("byline") | pl.col("signature")).then(pl.lit("byline"))
        .otherwise(pl.col("removed_reason")),
    )
    return _short_file_fallback(body)


def _short_file_fallback(lines: pl.DataFrame) -> pl.DataFrame:
    """A file with no content run at all (a short note, a one-paragraph incident report, a
    headline): its lines of at least 4 words that are not navigation or boilerplate are the
    body, if they hold at least 6 words in all."""
    keepable = (
        (pl.col("n_words") >= 4) & ~pl.col("bullet") & ~pl.col("legal") & ~pl.col("recurring")
        & ~pl.col("caption") & ~pl.col("date_line") & ~pl.col("byline")
    )
    no_body = ~pl.col("in_body").any().over("file_id")
    enough = pl.col("n_words").filter(keepable).sum().over("file_id") >= meta.TITLE_MIN_WORDS * 2
    fallback = no_body & enough & keepable
    return lines.with_columns(
        in_body=pl.col("in_body") | fallback,
        segment=pl.when(fallback).then(pl.lit(0, dtype=pl.Int32)).otherwise(pl.col("segment")),
        removed_reason=pl.when(fallback).then(None).otherwise(pl.col("removed_reason")),
    )


def _lead(body_rows: list[dict], start: int, words: int = 1000) -> Counter:
    out: list[str] = []
    n = 0
    for r in body_rows[start:]:
        out.append(r["line"])
        n += r["n_words"]
        if n >= words:
            break
    return meta.content_words(" ".join(out))


def _window(body_rows: list[dict], at: int, forward: bool) -> tuple[Counter, int]:
    seq = body_rows[at:] if forward else list(reversed(body_rows[:at]))
    out, n = [], 0
    for r in seq:
        if not r["prose"]:
            continue
        out.append(r["line"])
        n += r["n_words"]
        if n >= _WINDOW_WORDS:
            break
    return meta.content_words(" ".join(out)), n


def _evidence(nonblank: list[dict], position: dict[int, int], heading: dict) -> bool:
    """Strong evidence that a heading opens a post: an image's alt text or a breadcrumb names
    it, the line before it is the previous post's signature or author bio, or a byline or date
    line follows it."""
    k = position[heading["line_no"]]
    before = nonblank[k - 1] if k > 0 else None
    return bool(heading["named_heading"] or (before is not None and (before["signature"] or before["bio"]))
                or any(x["byline"] or x["date_line"] for x in nonblank[k + 1:k + 3]))


def _named_title_nearby(body_rows: list[dict], i: int, heading: dict) -> tuple[int, dict, list[int]]:
    """A post opens at `heading`; when one of the next short lines before its first long
    paragraph is named by an image's alt text, that one is the headline and the lines before
    it (a screenshot's caption) are not body."""
    if heading["named_heading"] or heading is not body_rows[i]:
        return i, heading, []
    for j in range(i + 1, min(i + 4, len(body_rows))):
        r = body_rows[j]
        if r["n_words"] > _HEADING_MAX_WORDS:
            break
        if r["named_heading"] and meta.is_title_candidate(r):
            return j, r, list(range(i, j))
    return i, heading, []


def _chunks(rows: list[dict], body_rows: list[dict]) -> list[tuple[int, int, dict | None]]:
    """The articles of a file as (start, end, headline row) over body_rows.

    Left to right, a candidate boundary is a heading inside a content run or the headline in
    the gap before a new content run (a run with no headline before it continues the article:
    an inline box had split it). A boundary starts a new article on strong evidence
    (`_evidence`) or when the text on its two sides, each at least _MIN_WORDS_EACH_SIDE words,
    shares less vocabulary than NEW_ARTICLE_COHESION (TextTiling). Then the article holding
    the file's best content run is the main one; a text before it is kept as an article of its
    own only when it has a headline backed by strong evidence or enough words (a post of a
    listing), otherwise it is page furniture before the main headline (a promotion, a teaser)."""
    nonblank = [r for r in rows if r["line"]]
    position = {r["line_no"]: i for i, r in enumerate(nonblank)}
    first = position[body_rows[0]["line_no"]]
    zone = nonblank[max(0, first - meta.HEADER_LINES):first]
    # the headline may itself read as prose ("'I sell holidays - booking early saves thousands'")
    # and open the first content run
    opener = body_rows[0]
    if len(body_rows) > 1 and opener["n_words"] <= _HEADING_MAX_WORDS and meta.is_title_candidate(opener):
        zone = zone + [opener]
    head0 = meta.headline(zone, _lead(body_rows, 1 if zone and zone[-1] is opener else 0))
    bounds: list[tuple[int, dict | None, bool]] = [(0, head0, head0 is not None and _evidence(nonblank, position, head0))]
    last_start = 0
    for i in range(1, len(body_rows)):
        r, prev = body_rows[i], body_rows[i - 1]
        if meta.TITLE_MIN_WORDS <= r["n_words"] <= _HEADING_MAX_WORDS and meta.is_title_candidate(r):
            heading = r  # a heading inside a content run (a question mark does not make it prose)
        elif r["segment"] != prev["segment"]:
            gap = nonblank[position[prev["line_no"]] + 1:position[r["line_no"]]][-meta.HEADER_LINES:]
            heading = meta.headline(gap, _lead(body_rows, i))
            if heading is None:
                continue
        else:
            continue
        strong = _evidence(nonblank, position, heading)
        left, n_left = _window(body_rows[last_start:i], i - last_start, forward=False)
        right, n_right = _window(body_rows, i, forward=True)
        weak = n_left >= _MIN_WORDS_EACH_SIDE and n_right >= _MIN_WORDS_EACH_SIDE and \
            _cosine(left, right) < NEW_ARTICLE_COHESION
        if _DEBUG is not None:
            _DEBUG.append(dict(i=i, heading=heading["line"], strong=strong, n_left=n_left, n_right=n_right,
                               cos=_cosine(left, right), split=bool(strong or weak)))
        if strong or weak:
            i, heading, skipped = _named_title_nearby(body_rows, i, heading)
            for j in skipped:
                body_rows[j] = {**body_rows[j], "skip": True}
            bounds.append((i, heading, strong))
            last_start = i
    chunks = [(b[0], bounds[k + 1][0] if k + 1 < len(bounds) else len(body_rows), b[1], b[2])
              for k, b in enumerate(bounds)]
    words = [sum(x["n_words"] for x in body_rows[s:e] if x["prose"]) for s, e, _, _ in chunks]
    # A listing of posts has at least two posts opened with strong evidence and long enough to
    # be articles; anything else is one article, however its sections read.
    listing = sum(1 for (s, e, h, strong), w in zip(chunks[1:], words[1:])
                  if strong and w >= _MIN_WORDS_EACH_SIDE) >= 2
    main = max(range(len(chunks)), key=lambda k: words[k])
    if not listing:
        # one article: the main chunk, under the page's headline when that one (read before the
        # first body line) is better supported by the main text than the main chunk's own heading
        start, end, heading, _ = chunks[main]
        lead = _lead(body_rows[start:end], 0)
        if chunks[0][2] is not None and (heading is None or meta.title_support(chunks[0][2]["line"], lead)
                                         >= meta.title_support(heading["line"], lead)):
            heading = chunks[0][2]
        return [(start, end, heading)]
    kept = []
    for k, (start, end, heading, strong) in enumerate(chunks):
        if k < main and not (heading is not None and (strong or words[k] >= _MIN_WORDS_EACH_SIDE)):
            continue
        kept.append((start, end, heading))
    return kept


def _assemble_file(file_id: str, rows: list[dict], raw_text: str, domains: dict[str, str]) -> list[dict]:
    """The articles of one text scrape from its lines (all columns of _META_COLUMNS)."""
    body_rows = [r for r in rows if r["in_body"]]
    if not body_rows:
        return []
    nonblank = [r for r in rows if r["line"]]
    publisher = (meta.publisher_from_lines(nonblank) or meta.publisher_from_links(raw_text, domains)
                 or meta.trailing_site_name(nonblank))
    chunks = _chunks(rows, body_rows)
    articles = []
    prev_end = -1
    for a, (start, end, heading) in enumerate(chunks):
        own = [r for r in body_rows[start:end] if not r.get("skip")]
        if own and heading is own[0]:
            own = own[1:]
        if not own:
            continue
        title_at = heading["line_no"] if heading else None
        head_from = title_at - 6 if title_at is not None else own[0]["line_no"] - meta.HEADER_LINES
        # the header zone, and the metadata lines among the article's first lines (a byline and
        # a date often sit under the standfirst or the lead photo)
        k0 = next(k for k, r in enumerate(nonblank) if r["line_no"] == own[0]["line_no"])
        early = {r["line_no"] for r in nonblank[k0:k0 + _EARLY_METADATA_LINES] if not r["in_body"]}
        head = [r for r in nonblank if (max(head_from, prev_end) < r["line_no"] < own[0]["line_no"]
                                        or r["line_no"] in early) and not r["in_body"]]
        if heading is not None and heading not in head:
            head = sorted(head + [heading], key=lambda x: x["line_no"])
        published, date_at = meta.publication_date(head, title_at, own[0]["line_no"])
        authors, author_lines = meta.byline_authors([r for r in head if title_at is None or r["line_no"] >= title_at],
                                                    date_at)
        last_no = own[-1]["line_no"]
        next_start = body_rows[chunks[a + 1][0]]["line_no"] if a + 1 < len(chunks) else math.inf
        trailer = [r for r in nonblank if last_no < r["line_no"] < next_start and not r["in_body"]][:meta.TRAILER_LINES]
        closing = [r for r in own[-3:] + trailer if r["signature"] or r["bio"]]
        body_lines = [r for r in own if r not in closing]
        if not authors:
            authors = [n for r in closing if (n := meta.signature_author(r["line"]))]
        if not authors:
            authors = _trailer_author_block(trailer)
        text = "\n\n".join(r["line"] for r in body_lines)
        if not authors:
            authors = meta.reports_authors(text)
        if published is None:
            published, date_at = meta.publication_date(
                [r for r in trailer if re.search(r"(?i)\b(?:posted|published)\b", r["line"])], None)
        authors = [x for x in dict.fromkeys(authors) if x != publisher]
        if not text.strip():
            continue
        # every non-blank line from the previous article's end to this one's end (to the end of
        # the file for the last article) is counted once, by reason
        upto = last_no if a + 1 < len(chunks) else math.inf
        body_nos = {r["line_no"] for r in body_lines}
        used = {date_at, *author_lines} - {None}
        removed: Counter = Counter()
        for r in nonblank:
            if not prev_end < r["line_no"] <= upto or r["line_no"] in body_nos:
                continue
            if r["line_no"] == title_at:
                removed["title"] += 1
            elif r in closing:
                removed["byline"] += 1
            elif r["in_body"]:  # a line of a run that belongs to no kept article, or a caption above a headline
                removed["prose_outside_article" if r["prose"] else "short_line"] += 1
            elif r["line_no"] in used and not r["removed_reason"]:
                removed["metadata"] += 1
            else:
                removed[r["removed_reason"] or "short_line"] += 1
        prev_end = last_no
        articles.append(dict(
            file_id=file_id, article_index=len(articles), title=heading["line"] if heading else None,
            authors="; ".join(authors) if authors else None, publisher=publisher, published_date=published,
            text=text, removed=[{"reason": k, "lines": v} for k, v in sorted(removed.items())],
        ))
    return articles


def _trailer_author_block(trailer: list[dict]) -> list[str]:
    """'AUTHORS' (or 'About the author') followed by name lines, after the article."""
    for i, r in enumerate(trailer):
        if re.fullmatch(r"(?i)(?:the\s+)?authors?:?|about the authors?:?", r["line"]):
            return [x["line"] for x in trailer[i + 1:i + 6] if meta.is_person_name(x["line"])]
    return []


def _text_articles(raw: pl.DataFrame, domains: dict[str, str]) -> list[dict]:
    lines = _text_lines(raw)
    # only files with body lines need their lines in Python; a bounded set of columns
    by_file: dict[str, list[dict]] = {}
    for key, group in lines.select(_META_COLUMNS).group_by("file_id", maintain_order=True):
        by_file[key[0]] = group.sort("line_no").to_dicts()
    raw_texts = dict(zip(raw["file_id"], raw["raw_text"]))
    out = []
    for file_id in raw["file_id"]:
        out.extend(_assemble_file(file_id, by_file.get(file_id, []), raw_texts[file_id], domains))
    return out


# --- HTML pages -------------------------------------------------------------------------------

def _html_articles(raw: pl.DataFrame) -> list[dict]:
    from dagster_project.documents.html import extract_html_frame

    pages = extract_html_frame(raw.select("file_id", "raw_text"))
    out = []
    for r in pages.iter_rows(named=True):
        out.append(dict(
            file_id=r["file_id"], article_index=0, title=r["title"],
            authors="; ".join(r["authors"]) if r["authors"] else None,
            publisher=r["publisher"], published_date=r["published_date"], text=r["body_text"],
            removed=[], language_declared=r.get("language"),
        ))
    return out


def _is_html(raw: pl.DataFrame) -> pl.Series:
    if "content_type" in raw.columns:
        return raw["content_type"] == "html"
    try:
        from dagster_project.documents.html import looks_like_html
    except ImportError:  # pragma: no cover - html.py ships with the package
        return pl.Series([False] * raw.height)
    return pl.Series([looks_like_html(t) for t in raw["raw_text"]], dtype=pl.Boolean)


# --- both ------------------------------------------------------------------------------------

def normalize_documents(raw_documents: pl.DataFrame, publisher_domains: dict[str, str] | None = None) -> Normalized:
    """raw_documents -> Normalized(articles, rejected); see the module docstring."""
    domains = publisher_domains or {}
    raw = raw_documents.with_columns(_html=_is_html(raw_documents))
    rows = _text_articles(raw.filter(~pl.col("_html")), domains)
    for r in rows:
        r["content_type"], r["extraction_method"] = "text", "text_scrape"
    if raw["_html"].any():
        html_rows = _html_articles(raw.filter(pl.col("_html")))
        for r in html_rows:
            r["content_type"], r["extraction_method"] = "html", "trafilatura"
        rows.extend(html_rows)
    sources = dict(zip(raw["file_id"], raw["source_file"]))
    frame = pl.DataFrame(
        [{k: r.get(k) for k in ("file_id", "article_index", "title", "authors", "publisher", "published_date",
                                "text", "removed", "content_type", "extraction_method")} for r in rows],
        schema={"file_id": pl.String, "article_index": pl.Int32, "title": pl.String, "authors": pl.String,
                "publisher": pl.String, "published_date": pl.Date, "text": pl.String,
                "removed": NORMALIZED_SCHEMA["removed_lines"], "content_type": pl.String,
                "extraction_method": pl.String},
    )
    frame = frame.with_columns(
        source_file=pl.col("file_id").replace_strict(sources, return_dtype=pl.String),
        title=clean_text(pl.col("title")).str.replace_all(r"\s*\n\s*", " "),
        text=clean_text(pl.col("text")).str.replace_all(r"\n{3,}", "\n\n").str.strip_chars(),
    ).with_columns(
        title=pl.when(pl.col("title") == "").then(None).otherwise(pl.col("title")),
    ).with_columns(
        # the headline opens the body, so extraction sees it; body_char_start says where the
        # article text after it begins
        body_text=pl.when(pl.col("title").is_not_null())
        .then(pl.col("title") + "\n\n" + pl.col("text")).otherwise(pl.col("text")),
        body_char_start=pl.when(pl.col("title").is_not_null())
        .then(pl.col("title").str.len_chars() + 2).otherwise(0).cast(pl.Int32),
    ).filter(pl.col("text") != "")
    frame = frame.with_columns(
        document_id=pl.struct("file_id", "article_index").map_elements(
            lambda s: _doc_id(s["file_id"], s["article_index"]), return_dtype=pl.String),
        word_count=pl.col("body_text").str.count_matches(r"\S+").cast(pl.Int32),
        content_sha256=pl.col("body_text").map_elements(
            lambda t: hashlib.sha256(t.encode()).hexdigest(), return_dtype=pl.String),
        language=detect_language(frame["text"]),
        removed_lines=pl.col("removed"),
    ).select(list(NORMALIZED_SCHEMA))
    produced = set(frame["file_id"])
    rejected = raw.filter(~pl.col("file_id").is_in(list(produced))).select(
        "file_id", "source_file",
        reason=pl.when(pl.col("_html")).then(pl.lit("no_article_html")).otherwise(pl.lit("boilerplate_only")),
        detail=pl.when(pl.col("_html")).then(pl.lit("HTML page with no article text (trafilatura found none)"))
        .otherwise(pl.lit("every line of the file is navigation, boilerplate or too short to be an article")),
    )
    return Normalized(frame, rejected)


def assemble_articles(raw_documents: pl.DataFrame, publisher_domains: dict[str, str] | None = None) -> pl.DataFrame:
    """The articles of `normalize_documents` (for callers that do not quarantine)."""
    return normalize_documents(raw_documents, publisher_domains).articles
