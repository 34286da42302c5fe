"""Linked reports -> one row per event with its toll: killed_low / best / high and
injured_low / best / high across every article that reports it.

Per article, the figure for an event is the largest total any of its reports of that event
gives (an article restating "six killed ... the six victims" reports one toll). Across
articles, following UCDP's low / best / high:
- low: the lowest figure reported;
- high: the highest figure reported;
- best: the median of the articles' figures (the lower median when their number is even):
  one outlier does not move it, and with two sources it keeps the more conservative one, as
  UCDP's best does when sources disagree without one being more credible.
A vague figure ("dozens of people were killed") counts with the value ACLED's codebook gives
such words (VAGUE_VALUES), and its qualifier says it was vague. Events with no figure have
null tolls, never 0.
"""

from __future__ import annotations

import polars as pl

from dagster_project.events.taxonomy import RANK

# ACLED codebook (2023), fatality counts for reports without a number: 'several'/'many'/
# 'multiple' are coded as 10 and 'dozens' as 12, 'hundreds' as 100; 'scores' (20+) and
# 'thousands' follow the same reading of the lowest number the word implies.
VAGUE_VALUES = {"a few": 3, "few": 3, "several": 10, "many": 10, "multiple": 10, "numerous": 10, "dozens": 12,
                "scores": 20, "hundreds": 100, "thousands": 1000}

EVENT_SCHEMA = {
    "event_key": pl.String,
    "event_type": pl.String,
    "acled_event_type": pl.String,
    "acled_sub_event_type": pl.String,
    "plover_event_type": pl.String,
    "event_clarity": pl.String,
    "status": pl.String,
    "event_date_start": pl.Date,
    "event_date_end": pl.Date,
    "date_precision": pl.String,
    "location_actor_id": pl.String,
    "location_text": pl.String,
    "country_code": pl.String,
    "killed_low": pl.Float64,
    "killed_best": pl.Float64,
    "killed_high": pl.Float64,
    "injured_low": pl.Float64,
    "injured_best": pl.Float64,
    "injured_high": pl.Float64,
    "n_documents": pl.Int32,
    "n_reports": pl.Int32,
    "first_document_id": pl.String,
    "first_sentence_index": pl.Int32,
    "description": pl.String,
}
_PRECISION_RANK = {"day": 0, "range": 1, "partial": 1, "week": 1, "month": 2, "season": 3, "quarter": 3, "year": 4,
                   "decade": 5, "century": 6}


def _lower_median(values: pl.Expr) -> pl.Expr:
    """The lower median of the non-null values (null when there are none)."""
    v = values.drop_nulls().sort()
    return pl.when(v.len() > 0).then(v.get(pl.max_horizontal(v.len() - 1, pl.lit(0)) // 2, null_on_oob=True))


def event_table(reports: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    """One row per event_key (EVENT_SCHEMA) from the linked reports."""
    linked = reports.filter(pl.col("event_key").is_not_null())
    if linked.height == 0:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    per_doc = linked.group_by("event_key", "document_id").agg(
        killed=pl.col("killed").max(), injured=pl.col("injured").max())
    tolls = per_doc.group_by("event_key").agg(
        killed_low=pl.col("killed").min(), killed_high=pl.col("killed").max(),
        killed_best=_lower_median(pl.col("killed")),
        injured_low=pl.col("injured").min(), injured_high=pl.col("injured").max(),
        injured_best=_lower_median(pl.col("injured")),
        n_documents=pl.len().cast(pl.Int32),
    )
    text = sentences.select("document_id", "sentence_index", "sentence_text")
    ordered = linked.join(text, on=["document_id", "sentence_index"], how="left").with_columns(
        precision_rank=pl.col("date_precision").replace_strict(_PRECISION_RANK, default=9, return_dtype=pl.Int32),
        # the most specific place: a named place before a state, a state before nothing
        place_rank=pl.when(pl.col("location_actor_id").is_null()).then(2)
        .when(pl.col("location_type") == "place").then(0).otherwise(1),
        type_rank=pl.col("event_type").replace_strict(RANK, return_dtype=pl.Int32),
    ).sort("document_id", "trigger_char_start")
    facts = ordered.group_by("event_key", maintain_order=True).agg(
        # the most specific type among the reports (a "blast" in one, a "suicide bombing" in another)
        pl.col("event_type").sort_by("type_rank").first(), pl.col("acled_event_type").sort_by("type_rank").first(),
        pl.col("acled_sub_event_type").sort_by("type_rank").first(), pl.col("plover_event_type").sort_by("type_rank").first(),
        pl.col("event_clarity").first(),
        pl.col("date_start").min().alias("_union_start"), pl.col("date_end").max().alias("_union_end"),
        pl.col("date_start").max().alias("_meet_start"), pl.col("date_end").min().alias("_meet_end"),
        pl.col("date_precision").sort_by("precision_rank").first(),
        pl.col("location_actor_id").sort_by("place_rank").first(), pl.col("location_text").sort_by("place_rank").first(),
        pl.col("country_code").drop_nulls().first(),
        pl.len().cast(pl.Int32).alias("n_reports"),
        pl.col("document_id").first().alias("first_document_id"),
        pl.col("sentence_index").first().alias("first_sentence_index"),
        pl.col("sentence_text").first().alias("description"),
    )
    # UCDP's earliest and latest possible date: where the reports' ranges share days ("in
    # September 2022" and "on 5 September"), the event lies in the days they share and the most
    # precise report's precision holds; where they do not, the union, as a range
    agree = pl.col("_meet_start") <= pl.col("_meet_end")
    facts = facts.with_columns(
        event_date_start=pl.when(agree).then(pl.col("_meet_start")).otherwise(pl.col("_union_start")),
        event_date_end=pl.when(agree).then(pl.col("_meet_end")).otherwise(pl.col("_union_end")),
        date_precision=pl.when(agree | pl.col("_union_start").is_null()).then(pl.col("date_precision"))
        .otherwise(pl.lit("range")),
    )
    return (
        facts.join(tolls, on="event_key").with_columns(status=pl.lit("occurred"))
        .select(list(EVENT_SCHEMA)).cast(EVENT_SCHEMA).sort("event_key")
    )
