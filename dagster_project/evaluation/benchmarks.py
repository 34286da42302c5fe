"""Scores on the external benchmarks in ../shared/benchmarks (see its README).

- terror_incidents_wiki.csv: exact match of total killed / wounded per row, overall
  and on the rows whose coded figure is written in the text.
- ucdp_ged_pakistan_headlines.csv: share of rows whose extracted killed figure lies
  within UCDP's low..high (and exact match with `best`).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from dagster_project.documents.normalize import normalize_documents
from dagster_project.extract.numbers import NUM, parse_number
from dagster_project.extract.statistics import casualty_totals, extract_statistics


def _totals(texts: pl.DataFrame, victims_only: bool) -> tuple[pl.DataFrame, int]:
    """Killed / injured totals per row, through the pipeline's own documents stage: each text
    is a file (normalize_documents, then statistics on the body). Returns the totals and the
    number of rows that produced no article (the pipeline quarantines them with a reason: a
    dateline, a byline or a URL alone)."""
    raw = texts.select(
        pl.col("row_id").alias("file_id"), (pl.col("row_id") + ".txt").alias("source_file"),
        pl.col("text").alias("raw_text"), pl.lit("text").alias("content_type"))
    result = normalize_documents(raw)
    docs = result.articles.select("document_id", "file_id", "body_text")
    stats = extract_statistics(docs.select("document_id", "body_text"))
    tot = casualty_totals(stats, victims_only=victims_only).join(
        docs.select("document_id", "file_id"), on="document_id").group_by("file_id", "casualty_type").agg(
        pl.col("total").sum())
    wide = (
        texts.select(pl.col("row_id").alias("document_id"))
        .join(tot.filter(pl.col("casualty_type") == "killed").select(
            pl.col("file_id").alias("document_id"), pl.col("total").alias("pred_killed")), on="document_id", how="left")
        .join(tot.filter(pl.col("casualty_type") == "injured").select(
            pl.col("file_id").alias("document_id"), pl.col("total").alias("pred_injured")), on="document_id", how="left")
    )
    lost = texts.height - docs["file_id"].n_unique()
    return wide.with_columns(pl.col("pred_killed", "pred_injured").fill_null(0.0)), lost


def _numbers_in(text: str) -> set[float]:
    vals = set()
    for m in re.finditer(r"(?i)\b" + NUM + r"\b", text):
        v = parse_number(m.group(0))
        if v is not None:
            vals.add(v)
    return vals


def wiki_scores(path: Path) -> dict[str, float]:
    df = pl.read_csv(path, infer_schema_length=0).with_columns(
        pl.col("id").alias("row_id"),
        pl.col("fatalities").cast(pl.Float64, strict=False).fill_null(0),
        pl.col("wounded").cast(pl.Float64, strict=False).fill_null(0),
    )
    # Wikipedia's incident lists code victims: the attackers' own deaths are not counted.
    pred, lost = _totals(df.select("row_id", "text"), victims_only=True)
    df = df.join(pred, left_on="row_id", right_on="document_id")
    stated = [
        (f in _numbers_in(t), w in _numbers_in(t))
        for t, f, w in zip(df["text"], df["fatalities"], df["wounded"])
    ]
    df = df.with_columns(
        killed_stated=pl.Series([s[0] and f > 0 for s, f in zip(stated, df["fatalities"])]),
        wounded_stated=pl.Series([s[1] and w > 0 for s, w in zip(stated, df["wounded"])]),
        killed_ok=pl.col("pred_killed") == pl.col("fatalities"),
        wounded_ok=pl.col("pred_injured") == pl.col("wounded"),
    )
    return {
        "rows": df.height,
        "rows_quarantined": lost,
        "killed_exact_overall": df["killed_ok"].mean(),
        "killed_exact_stated": df.filter("killed_stated")["killed_ok"].mean(),
        "killed_stated_rows": df["killed_stated"].sum(),
        "wounded_exact_overall": df["wounded_ok"].mean(),
        "wounded_exact_stated": df.filter("wounded_stated")["wounded_ok"].mean(),
        "wounded_stated_rows": df["wounded_stated"].sum(),
    }, df


def ucdp_scores(path: Path) -> dict[str, float]:
    df = pl.read_csv(path, infer_schema_length=0).with_columns(
        pl.col("id").alias("row_id"),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in ("fatalities", "low", "high")],
    )
    # Headlines are joined by ';' - each is its own sentence for the extractor.
    # UCDP counts every death in the event, militants' included.
    pred, lost = _totals(df.select("row_id", pl.col("text").str.replace_all(";", ". ")), victims_only=False)
    df = df.join(pred, left_on="row_id", right_on="document_id")
    found = df.filter(pl.col("pred_killed") > 0)
    in_range = pl.col("pred_killed").is_between(pl.col("low"), pl.col("high"))
    return {
        "rows": df.height,
        "rows_quarantined": lost,
        "killed_within_low_high": df.select(in_range.mean()).item(),
        "killed_exact_best": df.select((pl.col("pred_killed") == pl.col("fatalities")).mean()).item(),
        "rows_with_a_figure": found.height,
        "within_low_high_when_found": found.select(in_range.mean()).item() if found.height else 0.0,
    }, df
