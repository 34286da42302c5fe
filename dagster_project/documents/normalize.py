"""Raw documents -> articles: one row per article with its metadata, and one rejection row per
file that yields no article.

In: `raw_documents` (file_id, source_file, raw_text, and content_type when ingest gave it).
Out (`normalize_documents`):
- `articles` (NORMALIZED_SCHEMA, grain: one row per article; a file holding several posts
  gives several). `body_text` opens with the headline as its first paragraph, so that
  extraction sees the facts headlines carry ("Suicide bomber kills 20 in Peshawar");
  `body_char_start` is the offset where the article text after the headline starts (0 when
  there is no headline). Every offset of every extracted row is an offset into this text.
  `removed_lines` counts, by reason, the non-blank lines of the file that are not in the body
  (each counted for exactly one article of its file), so no text disappears without a trace.
- `rejected` (file_id, source_file, reason, detail): files that normalization empties
  (boilerplate only, markup without article text); the asset writes them to quarantine.

HTML pages go through trafilatura (documents/html.py); text scrapes through the line model of
documents/scrape.py and the article rules of documents/articles.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from dagster_project.documents import articles, metadata
from dagster_project.documents.language import detect_language
from dagster_project.documents.scrape import clean_text, fold_text, text_lines

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


@dataclass
class Normalized:
    articles: pl.DataFrame
    rejected: pl.DataFrame


def combine_normalized(parts: list[Normalized]) -> Normalized:
    """The results of consecutive runs of files, as one (parallel.map_by_key)."""
    return Normalized(articles=pl.concat([p.articles for p in parts], how="vertical_relaxed"),
                      rejected=pl.concat([p.rejected for p in parts], how="vertical_relaxed"))


def load_publisher_domains(path) -> dict[str, str]:
    """domain -> publisher name, from a CSV with columns domain, publisher."""
    df = pl.read_csv(path)
    return dict(zip(df["domain"], df["publisher"]))


def _text_articles(raw: pl.DataFrame, domains: dict[str, str],
                   document_frequency: pl.DataFrame | None = None) -> pl.DataFrame:
    """The line model and the article rules run with an integer in place of file_id: every
    window and join is keyed by the file, and hashing a 64-character id in each cost a third
    of the time."""
    if raw.height == 0:
        return pl.DataFrame(schema=articles.ARTICLE_SCHEMA)
    ids = raw.select(pl.col("file_id").alias("_id")).with_row_index("file_id")
    numbered = raw.with_columns(file_id=pl.int_range(pl.len(), dtype=pl.UInt32))
    lines = text_lines(numbered, metadata.SIGNATURE_REGEX, metadata.BIO_REGEX, document_frequency)
    out = articles.assemble(lines, numbered, domains, file_id_dtype=pl.UInt32)
    return out.join(ids, on="file_id").drop("file_id").rename({"_id": "file_id"}).select(list(articles.ARTICLE_SCHEMA))


def _html_articles(raw: pl.DataFrame) -> pl.DataFrame:
    from dagster_project.documents.html import extract_html_frame

    pages = extract_html_frame(raw.select("file_id", "raw_text"))
    return pages.select(
        "file_id", pl.lit(0, dtype=pl.Int32).alias("article_index"), "title",
        pl.col("authors").list.join("; ").replace("", None).alias("authors"), "publisher", "published_date",
        pl.col("body_text").alias("text"),
        pl.lit([], dtype=articles.ARTICLE_SCHEMA["removed"]).alias("removed"),
    ).cast(articles.ARTICLE_SCHEMA)


def _is_html(raw: pl.DataFrame) -> pl.Series:
    if "content_type" in raw.columns:
        return (raw["content_type"] == "html").fill_null(False)
    from dagster_project.documents.html import looks_like_html

    return pl.Series([looks_like_html(t) for t in raw["raw_text"]], dtype=pl.Boolean)


def _doc_ids(frame: pl.DataFrame) -> pl.Series:
    keys = (frame["file_id"] + ":" + frame["article_index"].cast(pl.String)).to_list()
    return pl.Series([hashlib.sha256(k.encode()).hexdigest()[:32] for k in keys], dtype=pl.String)


def is_text_scrape(raw_documents: pl.DataFrame) -> pl.Series:
    """The rows that go through the line model (not HTML)."""
    return ~_is_html(raw_documents)


def line_keys(raw_documents: pl.DataFrame) -> pl.DataFrame:
    """(file_id, key) of every distinct line of the text scrapes among `raw_documents`: the
    input of the collection's line statistics (see normalize_documents)."""
    from dagster_project.documents.scrape import file_line_keys

    text = raw_documents.filter(is_text_scrape(raw_documents))
    if text.height == 0:
        return pl.DataFrame(schema={"file_id": pl.String, "key": pl.UInt64})
    return file_line_keys(text)


def normalize_documents(raw_documents: pl.DataFrame, publisher_domains: dict[str, str] | None = None,
                        document_frequency: pl.DataFrame | None = None) -> Normalized:
    """raw_documents -> Normalized(articles, rejected); see the module docstring.

    The line statistics (in how many files of the collection a line occurs) are taken over
    `raw_documents`, unless `document_frequency` (key, files_with_line) gives them for a larger
    collection that includes these files: a batch of a large build, or an incremental run,
    then reads each line as the whole collection would."""
    domains = publisher_domains or {}
    raw = raw_documents.with_columns(_html=_is_html(raw_documents))
    text = _text_articles(raw.filter(~pl.col("_html")), domains, document_frequency).with_columns(
        content_type=pl.lit("text"), extraction_method=pl.lit("text_scrape"))
    parts = [text]
    if raw["_html"].any():
        # text-scrape lines are cleaned already (scrape.split_lines); the library's text is not
        parts.append(_html_articles(raw.filter(pl.col("_html"))).with_columns(
            content_type=pl.lit("html"), extraction_method=pl.lit("trafilatura"),
            title=clean_text(pl.col("title")), text=clean_text(pl.col("text"))))
    frame = pl.concat(parts).join(raw.select("file_id", "source_file"), on="file_id")
    frame = frame.with_columns(
        title=pl.col("title").str.replace_all(r"\s*\n\s*", " ").str.strip_chars(),
        text=pl.col("text").str.replace_all(r"\n{3,}", "\n\n").str.strip_chars(),
    ).with_columns(
        title=pl.when(pl.col("title") != "").then(pl.col("title")),
    ).filter(pl.col("text") != "").with_columns(
        # the headline opens the body, so that extraction sees it; body_char_start says where
        # the article text after it begins
        body_text=pl.when(pl.col("title").is_not_null())
        .then(pl.col("title") + "\n\n" + pl.col("text")).otherwise(pl.col("text")),
        body_char_start=pl.when(pl.col("title").is_not_null())
        .then(pl.col("title").str.len_chars() + 2).otherwise(0).cast(pl.Int32),
    ).sort("file_id", "article_index")
    frame = frame.with_columns(
        document_id=_doc_ids(frame),
        word_count=pl.col("body_text").str.count_matches(r"\S+").cast(pl.Int32),
        content_sha256=pl.Series([hashlib.sha256(t.encode()).hexdigest() for t in frame["body_text"]],
                                 dtype=pl.String),
        language=detect_language(frame["text"]),
        removed_lines=pl.col("removed"),
    ).select(list(NORMALIZED_SCHEMA))
    produced = frame["file_id"].unique().to_list()
    rejected = raw.filter(~pl.col("file_id").is_in(produced)).select(
        "file_id", "source_file",
        reason=pl.when(pl.col("_html")).then(pl.lit("no_article_html")).otherwise(pl.lit("boilerplate_only")),
        detail=pl.when(pl.col("_html")).then(pl.lit("HTML page in which trafilatura found no article text"))
        .otherwise(pl.lit("every line of the file is navigation, boilerplate or too short to be an article")),
    )
    return Normalized(frame, rejected)


def assemble_articles(raw_documents: pl.DataFrame, publisher_domains: dict[str, str] | None = None) -> pl.DataFrame:
    """The articles of `normalize_documents` (for callers that do not quarantine)."""
    return normalize_documents(raw_documents, publisher_domains).articles
