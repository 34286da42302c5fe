"""Articles -> sentences, with character offsets into body_text.

In: documents (document_id, body_text). Out: one row per sentence: document_id,
sentence_index (0-based, in reading order), char_start, char_end (0-based, end-exclusive,
no surrounding white space), sentence_text = body_text[char_start:char_end]. The headline,
the first paragraph of body_text, is sentence 0.

Rules (Kiss & Strunk's observations behind Punkt, as fixed rules rather than a trained
model, since no model may be downloaded here):
- a paragraph break (a newline) always ends a sentence;
- '.', '!', '?' or '…', with any closing quotes or brackets, followed by white space and then
  an upper-case letter, a digit or an opening quote or bracket, ends a sentence;
- unless the word before the period is a known abbreviation (titles, months, "U.S.", "No."),
  a single upper-case initial ("J. Smith") or a number in a list ("1."): those periods do
  not end a sentence.

Vectorized: candidate boundaries come from one `find_spans` pass; the abbreviation test is
a join against a small table; sentences are the gaps between boundaries.
"""

from __future__ import annotations

import polars as pl

from dagster_project.extract.spans import find_spans, in_parallel

SENTENCE_SCHEMA = {
    "document_id": pl.String,
    "sentence_index": pl.Int32,
    "char_start": pl.Int32,
    "char_end": pl.Int32,
    "sentence_text": pl.String,
}

# Words that end with a period without ending a sentence, lower-cased, without the period.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col maj capt cpt sgt cmdr adm brig cdr gov sen rep pres supt insp det
    st mt ft jr sr rev fr hon messrs mme mlle no nos vol vols pp para fig figs art ch sec
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    u.s u.k u.n u.s.a e.u u.a.e e.g i.e etc vs cf al approx est inc ltd co corp bros dept univ assn
    a.m p.m""".split()
)

# A terminator with the word before it and the white space after it. The word is matched
# so that the abbreviation test can see it; it never crosses a newline.
_BOUNDARY = r"[^\s]*[.!?…][\"')\]]*[ \t]+|\n+"


def split_sentences(documents: pl.DataFrame) -> pl.DataFrame:
    """documents (document_id, body_text) -> SENTENCE_SCHEMA rows."""
    if documents.height == 0:
        return pl.DataFrame(schema=SENTENCE_SCHEMA)
    return in_parallel(documents.select("document_id", "body_text"), _plan).select(list(SENTENCE_SCHEMA))


def _plan(docs: pl.LazyFrame) -> pl.LazyFrame:
    spans = find_spans(docs, _BOUNDARY)
    word = pl.col("match").str.extract(r"^(.*?)[.!?…]+[\"')\]]*\s*$", 1)
    stem = word.str.to_lowercase().str.strip_chars("\"'([")
    newline = pl.col("match").str.contains("\n")
    ends = (
        spans.with_columns(stem=stem, word=word)
        .with_columns(
            is_break=newline
            | (
                # the next sentence starts with a capital, a digit or an opening quote / bracket
                pl.col("next_char").str.contains(r"^[\p{Lu}\d\"'(\[]")
                & ~pl.col("stem").is_in(sorted(ABBREVIATIONS))
                & ~pl.col("word").str.contains(r"^[\"'(]?\p{Lu}$")  # an initial: "J. Smith"
                & ~pl.col("word").str.contains(r"^\d{1,2}$")  # a list number: "1. The ..."
                # "U.S.-style" abbreviations written with inner periods ("U.N.", "D.C.")
                & ~pl.col("word").str.contains(r"^(?:\p{Lu}\.)+\p{Lu}?$")
            )
        )
        .filter("is_break")
        # the boundary: where the next sentence starts (after the white space)
        .select("document_id", pl.col("char_end").alias("cut"))
    )
    lengths = docs.select("document_id", pl.col("body_text").str.len_chars().alias("cut"))
    cuts = (
        pl.concat([docs.select("document_id", pl.lit(0, dtype=pl.UInt32).alias("cut")),
                   ends.with_columns(pl.col("cut").cast(pl.UInt32)),
                   lengths.with_columns(pl.col("cut").cast(pl.UInt32))])
        .unique()
        .sort("document_id", "cut")
        .with_columns(next_cut=pl.col("cut").shift(-1).over("document_id"))
        .drop_nulls("next_cut")
        .join(docs.select("document_id", "body_text"), on="document_id")
        .with_columns(raw=pl.col("body_text").str.slice(pl.col("cut"), pl.col("next_cut") - pl.col("cut")))
        # trim white space on both sides, moving the offsets with it
        .with_columns(
            lead=pl.col("raw").str.len_chars() - pl.col("raw").str.strip_chars_start().str.len_chars(),
            sentence_text=pl.col("raw").str.strip_chars(),
        )
        .filter(pl.col("sentence_text") != "")
        .with_columns(char_start=(pl.col("cut") + pl.col("lead")).cast(pl.Int32))
        .with_columns(char_end=(pl.col("char_start") + pl.col("sentence_text").str.len_chars()).cast(pl.Int32))
        .with_columns(sentence_index=pl.int_range(pl.len()).over("document_id").cast(pl.Int32))
    )
    return cuts
