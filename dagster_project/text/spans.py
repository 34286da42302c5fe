"""Regex matches with character offsets, computed as polars expressions.

polars exposes regex matches as strings (`extract_all`) but not their positions.
`find_spans` gets them in one vectorized pass: `replace_all` wraps every match in
two sentinel characters, a literal `split` cuts the text at the first sentinel, and
a cumulative sum of piece lengths (in characters) gives each match's offsets. The
regex runs once over the full text, so word boundaries see their real context and
the regex engine keeps its literal prefilters (a `(?s).*?` prefix would not).

Texts must not contain \\x00 or \\x01; `normalize.clean_text` removes all C0 controls.
"""

from __future__ import annotations

import hashlib
import re

import polars as pl

_OPEN = "\x00"
_CLOSE = "\x01"


def find_spans(frame: pl.LazyFrame | pl.DataFrame, pattern: str, *, id_col: str = "document_id",
               text_col: str = "body_text") -> pl.LazyFrame:
    """All non-overlapping matches of `pattern`, leftmost-first, as
    (id_col, match, char_start, char_end, match_no). Offsets are 0-based, end-exclusive,
    in characters."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    pieces = (
        lf.select(
            id_col,
            # (?:...) keeps polars from treating a metacharacter-free pattern as a literal
            pl.col(text_col).str.replace_all(f"(?:{pattern})", f"{_OPEN}${{0}}{_CLOSE}").str.split(_OPEN).alias("piece"),
        )
        .explode("piece")
        .with_columns(piece_no=pl.int_range(pl.len()).over(id_col))
        .with_columns(
            # piece 0 is the text before the first match; piece k>0 is "match\x01gap".
            piece_len=pl.col("piece").str.len_chars() - (pl.col("piece_no") > 0).cast(pl.UInt32),
        )
        .with_columns(piece_start=pl.col("piece_len").cum_sum().over(id_col) - pl.col("piece_len"))
        .filter(pl.col("piece_no") > 0)
        .with_columns(match=pl.col("piece").str.split_exact(_CLOSE, 1).struct.field("field_0"))
    )
    return pieces.select(
        id_col,
        "match",
        pl.col("piece_start").cast(pl.Int64).alias("char_start"),
        (pl.col("piece_start") + pl.col("match").str.len_chars()).cast(pl.Int64).alias("char_end"),
        (pl.col("piece_no") - 1).alias("match_no"),
    )


def unnamed(pattern: str) -> str:
    """The pattern without group names, for use inside a larger alternation."""
    return re.sub(r"\?P<\w+>", "", pattern)


def form_of(forms: list[tuple[str, str]], flags: str = "", default: str | None = None) -> pl.Expr:
    """Name of the first form whose pattern matches the whole `match` column, else `default`."""
    form = pl.lit(default, dtype=pl.String)
    for name, pattern in reversed(forms):
        form = pl.when(pl.col("match").str.contains(f"^(?{flags}:{unnamed(pattern)})$")).then(pl.lit(name)).otherwise(form)
    return form


def stable_id(*cols: str | pl.Expr) -> pl.Expr:
    """Deterministic id from columns: sha256 hex (32 chars) of their values joined by '|'.

    Hash ids are stable across runs and machines (unlike polars' `hash`, whose seed
    and algorithm may change between versions)."""
    parts = [pl.col(c) if isinstance(c, str) else c for c in cols]
    joined = pl.concat_str([p.cast(pl.String).fill_null("") for p in parts], separator="|")
    return joined.map_batches(
        lambda s: pl.Series([hashlib.sha256(v.encode()).hexdigest()[:32] for v in s], dtype=pl.String),
        return_dtype=pl.String,
    )
