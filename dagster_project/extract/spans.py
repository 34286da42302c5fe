"""Regex and literal matches with character offsets, computed as polars expressions.

polars exposes regex matches as strings (`extract_all`) but not their positions.
`find_spans` gets them in one vectorized pass: `replace_all` wraps every match in
two sentinel characters, a literal `split` cuts the text at the first sentinel, and
a cumulative sum of piece lengths (in characters) gives each match's offsets. The
regex runs once over the full text, so word boundaries see their real context and
the regex engine keeps its literal prefilters (a `(?s).*?` prefix would not).
`find_literals` does the same with polars' Aho-Corasick `replace_many` for a large
list of literal strings (a gazetteer), which is several times faster than a regex
alternation of the same strings.

Both can scan a lowercased copy of the text (`fold_case`): it has exactly as many
characters as the original, so offsets carry over, and a case-sensitive pattern
over lowercase text runs much faster than `(?i)` (Unicode case folding multiplies the
regex automaton's states). The `match` column then holds the original text, sliced
from the body by offset.

Every function here works per document, so `in_parallel` can split the documents
into slices and run them on all cores: a polars `select` over one text column runs
on one core.

Texts must not contain \\x00 or \\x01; `normalize.clean_text` removes all C0 controls.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import polars as pl

_OPEN = "\x00"
_CLOSE = "\x01"
# ASCII letters, digits and underscore: the word characters of an ASCII word boundary
# ((?-u:\b)). Non-ASCII letters are not word characters for (?-u:\b) either.
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def fold_case(text: pl.Expr) -> pl.Expr:
    """Lowercase `text` keeping its length in characters.

    "İ" (U+0130) is the only character whose lowercase is two characters (i + U+0307);
    it is folded to "I" first. Checked over every Unicode scalar in tests."""
    return text.str.replace_all("İ", "I", literal=True).str.to_lowercase()


def lowercase_pattern(pattern: str) -> str:
    """`pattern` rewritten for `fold_case` text, to be used without `(?i)`: literal letters
    lowercased, and \\d / \\w as ASCII classes ([0-9], [a-z0-9_]).

    ASCII classes keep the regex automaton small: a Unicode `[^\\w./-]` alone made one
    scan 3x slower. Only digits 0-9 count as digits then, and non-ASCII letters are not
    word characters, as for `(?-u:\\b)`. Escapes other than \\d and \\w are kept as
    written; the pattern must not contain `(?i)`, \\p{..}, \\D or \\W."""
    if re.search(r"\(\?[a-z-]*i|\\[pPDW]", pattern):
        raise ValueError("lowercase_pattern: unsupported construct")
    pattern = unnamed(pattern)
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1]
            ascii_class = {"d": "0-9", "w": "a-z0-9_"}.get(nxt)
            if ascii_class is None:
                out.append(ch + nxt)
            else:
                out.append(ascii_class if in_class else f"[{ascii_class}]")
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            # a "]" right after "[" or "[^" is a literal
            j = i + 1
            if pattern[j:j + 1] == "^":
                out.append("^")
                j += 1
            if pattern[j:j + 1] == "]":
                out.append("]")
                j += 1
            i = j
            continue
        if ch == "]" and in_class:
            in_class = False
        out.append(ch.lower())
        i += 1
    return "".join(out)


def _pieces(lf: pl.LazyFrame, id_col: str, wrapped: pl.Expr) -> pl.LazyFrame:
    """(id_col, _doc, match, char_start, match_no, prev_char, next_char) from a text whose
    matches are wrapped in _OPEN ... _CLOSE. prev/next_char are the characters around
    the match ("" at the text's edges); _doc is the row number of the document in `lf`.

    Pieces stay in document order after `explode`, so offsets come from one running sum
    over all pieces minus the sum at the document's first piece, and neighbours from a
    plain `shift`: no window (`over`) group-by, which cost as much as the scan itself."""
    pieces = (
        lf.select(id_col, wrapped.str.split(_OPEN).alias("piece"))
        .with_row_index("_doc")
        .explode("piece", empty_as_null=True)
        .with_columns(first=pl.col("_doc") != pl.col("_doc").shift(1, fill_value=-1))
        # piece 0 is the text before the first match; piece k>0 is "match\x01gap". Nothing
        # below copies a gap: that would copy the whole text again.
        .with_columns(match=pl.when(~pl.col("first")).then(pl.col("piece").str.extract(f"^([^{_CLOSE}]*){_CLOSE}", 1)))
        .with_columns(
            piece_len=(pl.col("piece").str.len_chars() - (~pl.col("first")).cast(pl.UInt32)).cast(pl.Int64),
            match_len=pl.col("match").str.len_chars().cast(pl.Int64),
            last_char=pl.when(pl.col("piece").str.ends_with(_CLOSE)).then(pl.col("match").str.slice(-1))
            .otherwise(pl.col("piece").str.slice(-1)),
        )
        .with_columns(running=pl.col("piece_len").cum_sum() - pl.col("piece_len"))
        .with_columns(
            piece_start=pl.col("running") - pl.when("first").then(pl.col("running")).forward_fill(),
            piece_no=pl.int_range(pl.len()) - pl.when("first").then(pl.int_range(pl.len())).forward_fill(),
            prev_char=pl.when(~pl.col("first")).then(pl.col("last_char").shift(1)),
            next_first=pl.when(pl.col("first").shift(-1).not_()).then(pl.col("piece").str.slice(0, 1).shift(-1)),
        )
        .filter(~pl.col("first"))
        .with_columns(gap_first=pl.col("piece").str.slice(pl.col("match_len") + 1, 1))
    )
    return pieces.select(
        id_col,
        "match",
        pl.col("piece_start").alias("char_start"),
        (pl.col("piece_no") - 1).alias("match_no"),
        pl.col("prev_char").fill_null(""),
        # an empty gap: the next match starts right away (or the text ends)
        pl.when(pl.col("gap_first") != "").then(pl.col("gap_first"))
        .otherwise(pl.col("next_first")).fill_null("").alias("next_char"),
        "_doc",
    )


def _finish(spans: pl.LazyFrame, lf: pl.LazyFrame, id_col: str, text_col: str, original: bool) -> pl.LazyFrame:
    spans = spans.with_columns(char_end=pl.col("char_start") + pl.col("match").str.len_chars())
    if original:
        # the scanned text was not the original: take the match from the original text
        texts = lf.select(pl.col(text_col).alias("_text")).with_row_index("_doc")
        spans = spans.join(texts, on="_doc", how="left").with_columns(
            pl.col("_text").str.slice(pl.col("char_start"), pl.col("char_end") - pl.col("char_start")).alias("match")
        )
    return spans.select(id_col, "match", "char_start", "char_end", "match_no", "prev_char", "next_char")


def find_spans(frame: pl.LazyFrame | pl.DataFrame, pattern: str, *, id_col: str = "document_id",
               text_col: str = "body_text", lowercase: bool = False) -> pl.LazyFrame:
    """All non-overlapping matches of `pattern`, leftmost-first, as
    (id_col, match, char_start, char_end, match_no, prev_char, next_char). Offsets are
    0-based, end-exclusive, in characters. With `lowercase`, the pattern runs over
    `fold_case(text)` (so it must be written for lowercase text, without `(?i)`)."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    text = fold_case(pl.col(text_col)) if lowercase else pl.col(text_col)
    # (?:...) keeps polars from treating a metacharacter-free pattern as a literal
    wrapped = text.str.replace_all(f"(?:{pattern})", f"{_OPEN}${{0}}{_CLOSE}")
    return _finish(_pieces(lf, id_col, wrapped), lf, id_col, text_col, lowercase)


def _word_char(ch: str) -> bool:
    return ch in _WORD_CHARS


def _literal_table(patterns: list[str]) -> pl.DataFrame:
    """Per literal: does it start / end with an ASCII word character (then it needs a
    word boundary there), and its longest proper prefix that is also a literal and ends
    at a word boundary inside it ("benue state" -> "benue"): what a regex would
    backtrack to when the longer literal fails its right boundary ("Benue States")."""
    known = set(patterns)
    rows = []
    for p in patterns:
        fallback = None
        for cut in range(len(p) - 1, 0, -1):
            prefix = p[:cut]
            if prefix in known and not (_word_char(prefix[-1]) and _word_char(p[cut])):
                fallback = prefix
                break
        rows.append((p, _word_char(p[0]), _word_char(p[-1]), fallback))
    return pl.DataFrame(rows, schema={"match": pl.String, "word_start": pl.Boolean, "word_end": pl.Boolean,
                                      "fallback": pl.String}, orient="row")


def find_literals(frame: pl.LazyFrame | pl.DataFrame, literals: list[str], *, id_col: str = "document_id",
                  text_col: str = "body_text") -> pl.LazyFrame:
    """Every occurrence of the literals that stands between ASCII word boundaries where it
    starts or ends with a word character, like `(?-u:\\b)` (so "Taliban's" and
    "U.S.-led" match "Taliban" and "U.S.", "Iranian" does not match "Iran"). Matching
    ignores ASCII case; leftmost-first, and at one position the longest literal wins.
    Same columns as `find_spans`, `match` in the text's own case.

    One Aho-Corasick pass finds the matches without looking at boundaries. A match that
    fails its right boundary falls back to its longest prefix literal that ends at a word
    boundary ("Benue States" -> "Benue"); any other failing match is dropped. That
    differs from a regex only when a dropped match hides a valid one that starts inside
    it, which the benchmark corpus shows to be negligible (docs/benchmark.md)."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    patterns = sorted(set(literals), key=lambda s: (-len(s.encode()), s))
    wrapped = pl.col(text_col).str.replace_many(
        patterns, [f"{_OPEN}{p}{_CLOSE}" for p in patterns], ascii_case_insensitive=True, leftmost=True)
    word = list(_WORD_CHARS)
    spans = (
        _pieces(lf, id_col, wrapped)
        .join(_literal_table(patterns).lazy(), on="match", how="left")
        .filter(~(pl.col("word_start") & pl.col("prev_char").is_in(word)))
        .with_columns(match=pl.when(pl.col("word_end") & pl.col("next_char").is_in(word))
                      .then(pl.col("fallback")).otherwise(pl.col("match")))
        .filter(pl.col("match").is_not_null())
    )
    return _finish(spans, lf, id_col, text_col, original=True)


def in_parallel(frame: pl.DataFrame, plan: Callable[[pl.LazyFrame], pl.LazyFrame], *,
                text_col: str = "body_text", min_bytes: int = 2_000_000) -> pl.DataFrame:
    """`plan` run over slices of `frame` (whole rows, about equal text bytes) in parallel,
    results concatenated in row order. For plans that work row by row (per document)."""
    sizes = frame.select(pl.col(text_col).str.len_bytes().fill_null(0).cum_sum()).to_series()
    total = int(sizes[-1]) if len(sizes) else 0
    n = max(1, min(frame.height, 2 * pl.thread_pool_size(), total // min_bytes))
    if n == 1:
        return plan(frame.lazy()).collect()
    cuts = [0, *(int(sizes.search_sorted(total * k / n)) for k in range(1, n)), frame.height]
    plans = [plan(frame.slice(a, b - a).lazy()) for a, b in zip(cuts, cuts[1:]) if b > a]
    return pl.concat(plans, parallel=True).collect()


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
