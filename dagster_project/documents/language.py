"""Language of each article: ISO 639-1 code, from py3langid (langid.py's model, shipped inside the
wheel: no download).

Flow: a String column of article texts in, a String column of codes out ('und' when the text has
too few letters to tell). Extraction runs on English; the marts say which documents are not.

Why the pre-filter: py3langid costs about 0.4 ms per 500 characters here (measured with
`python -m dagster_project.documents.language`), 7 s per 100 MB of seed-like articles on one
core, more than the whole normalization budget. English news text is recognised exactly by one
vectorized count: the share of its words that are among the most frequent English function
words ("the", "of", "and", "to", ...) is 0.25-0.45, while in other languages written in Latin
script it is below 0.05 (they share at most "a", "in", "on" with English, which are not in the
list). Only texts under the threshold go through py3langid, on a 600-character sample.
"""

from __future__ import annotations

import polars as pl

# High-frequency English function words that are not (frequent) words of other Latin-script
# languages: no "a", "in", "on", "die", "de", "se", "per".
_ENGLISH_MARKERS = (
    "the of and to is that for with was as by are this be from have has which were it its their they "
    "been not but would will said who his her she he also than after when there"
).split()
ENGLISH_SHARE = 0.15
_SAMPLE_CHARS = 600
_MIN_LETTERS = 20


def _langid_codes(texts: list[str]) -> list[str]:
    import py3langid

    return [py3langid.classify(t)[0] for t in texts]


def detect_language(texts: pl.Series) -> pl.Series:
    """One ISO 639-1 code per text ('und' for texts with fewer than 20 letters)."""
    frame = pl.DataFrame({"text": texts.cast(pl.String).fill_null("")}).with_row_index("i")
    sample = pl.col("text").str.slice(0, _SAMPLE_CHARS)
    marker = r"(?i)(?-u:\b)(?:" + "|".join(_ENGLISH_MARKERS) + r")(?-u:\b)"
    frame = frame.with_columns(
        letters=sample.str.count_matches(r"\p{L}"),
        words=sample.str.count_matches(r"\w+"),
        markers=sample.str.count_matches(marker),
        sample=sample,
    )
    english = (pl.col("markers") >= ENGLISH_SHARE * pl.col("words")) & (pl.col("words") >= 8)
    frame = frame.with_columns(
        code=pl.when(pl.col("letters") < _MIN_LETTERS).then(pl.lit("und"))
        .when(english).then(pl.lit("en"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    todo = frame.filter(pl.col("code").is_null())
    if todo.height:
        guessed = pl.DataFrame({"i": todo["i"], "guess": _langid_codes(todo["sample"].to_list())})
        frame = frame.join(guessed, on="i", how="left").with_columns(pl.coalesce("code", "guess").alias("code"))
    return frame.sort("i")["code"].alias("language")


if __name__ == "__main__":  # timing of the two paths, for the docstring's figures
    import time

    from dagster_project.paths import REPO_ROOT

    text = (REPO_ROOT / "seeds" / "001_c0c906e45ef5adaf.txt").read_text(encoding="utf-8")[3000:3500]
    _langid_codes(["warm up"])
    n = 500
    t0 = time.perf_counter()
    _langid_codes([text] * n)
    t1 = time.perf_counter()
    detect_language(pl.Series([text] * n))
    t2 = time.perf_counter()
    print(f"py3langid: {(t1 - t0) / n * 1000:.3f} ms per 500 chars; "
          f"detect_language (English pre-filter): {(t2 - t1) / n * 1000:.3f} ms per text")
