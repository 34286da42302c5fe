"""Extraction: actor mentions, statistics and date mentions from normalized articles."""


import dagster as dg

from dagster_project.resources import PipelineDuckDB
from dagster_project.extract.actors import GAZETTEER_PATH, extract_actor_mentions, load_gazetteer, validate_gazetteer
from dagster_project.extract.dates import extract_dates
from dagster_project.extract.statistics import extract_statistics

GROUP = "extraction"
# Figures and dates are read with English patterns: other languages would give noise, not facts
# (dim_document.language says which articles these are). Actor names are the same in any language.
EXTRACTION_LANGUAGES = ("en", "und")


def _english(docs):
    import polars as pl

    return docs.filter(pl.col("language").is_in(EXTRACTION_LANGUAGES))


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"})
def actor_gazetteer(duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """The actor gazetteer (canonical name, type, country, aliases), loaded from
    `dagster_project/data/actor_gazetteer.csv`: data, not code."""
    gaz = load_gazetteer(GAZETTEER_PATH)
    problems = validate_gazetteer(gaz)
    if problems:
        raise dg.Failure(f"Gazetteer is inconsistent: {problems}")
    duckdb.replace_table("actor_gazetteer", gaz)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": gaz.height,
        "aliases": int(gaz["aliases"].list.len().sum()),
        "by_type": dg.MetadataValue.json(dict(gaz.group_by("actor_type").len().sort("actor_type").iter_rows())),
    })


@dg.asset(deps=["normalized_documents", "actor_gazetteer"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def actor_mentions(duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per mention of a gazetteer actor, with character offsets into the article body."""
    docs = duckdb.read_table("normalized_documents")
    gaz = duckdb.read_table("actor_gazetteer")
    mentions = extract_actor_mentions(docs, gaz)
    duckdb.replace_table("actor_mentions", mentions)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": mentions.height, "distinct_actors": mentions["actor_id"].n_unique()})


@dg.asset(deps=["normalized_documents"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def statistics(duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per figure: casualties (killed / injured), percentages, money and counts."""
    docs = _english(duckdb.read_table("normalized_documents"))
    stats = extract_statistics(docs)
    duckdb.replace_table("statistics", stats)
    by_type = dict(stats.group_by("statistic_type").len().sort("statistic_type").iter_rows())
    return dg.MaterializeResult(metadata={"dagster/row_count": stats.height, "by_type": dg.MetadataValue.json(by_type)})


@dg.asset(deps=["normalized_documents"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def date_mentions(duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per date expression, resolved to date_start / date_end with a granularity."""
    docs = _english(duckdb.read_table("normalized_documents"))
    dates = extract_dates(docs)
    duckdb.replace_table("date_mentions", dates)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dates.height,
        "unresolved": int((dates["granularity"] == "unresolved").sum()),
        "year_inferred": int(dates["year_inferred"].sum()),
    })


@dg.asset(deps=["normalized_documents"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def sentences(duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per sentence of every article (the headline is sentence 0), with its character
    offsets: every fact is placed in its sentence in dbt (dim_sentence, sentence_id)."""
    from dagster_project.extract.sentences import split_sentences

    docs = duckdb.read_table("normalized_documents")
    rows = split_sentences(docs)
    duckdb.replace_table("sentences", rows)
    per_doc = rows.group_by("document_id").len()["len"] if rows.height else None
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows.height,
        "documents": int(rows["document_id"].n_unique()) if rows.height else 0,
        "median_per_document": float(per_doc.median()) if per_doc is not None else 0.0,
    })
