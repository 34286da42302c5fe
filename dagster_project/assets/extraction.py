"""Extraction: actor mentions, statistics and date mentions from normalized articles."""


import dagster as dg
import polars as pl

from dagster_project.assets.table_metadata import table_metadata
from dagster_project.assets.stages import frame_hash, run_document_stage, stage_metadata
from dagster_project.extract.actors import (
    GAZETTEER_PATH,
    MENTION_SCHEMA,
    build_matcher,
    extract_actor_mentions,
    load_gazetteer,
    validate_gazetteer,
)
from dagster_project.extract.dates import DATE_SCHEMA, extract_dates
from dagster_project.extract.sentences import SENTENCE_SCHEMA, split_sentences
from dagster_project.extract.statistics import STAT_SCHEMA, extract_statistics
from dagster_project.resources import PipelineDuckDB

GROUP = "extraction"
# Figures and dates are read with English patterns: other languages would give noise, not facts
# (dim_document.language says which articles these are). Actor names are the same in any language.
EXTRACTION_LANGUAGES = ("en", "und")
ENGLISH = "language in (" + ", ".join(f"'{code}'" for code in EXTRACTION_LANGUAGES) + ")"


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
        **table_metadata(duckdb, "actor_gazetteer"), "dagster/row_count": gaz.height,
        "aliases": int(gaz["aliases"].list.len().sum()),
        "by_type": dg.MetadataValue.json(dict(gaz.group_by("actor_type").len().sort("actor_type").iter_rows())),
    })


def gazetteer_version(duckdb: PipelineDuckDB) -> str:
    """The version of the gazetteer the stages that read it were run with: a changed gazetteer
    redoes them on every article."""
    return frame_hash(duckdb.read_table("actor_gazetteer").with_columns(pl.col("aliases").list.join("|")))


@dg.asset(deps=["normalized_documents", "actor_gazetteer"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def actor_mentions(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per mention of a gazetteer actor, with character offsets into the article body
    (new articles only: assets/stages.py)."""
    gaz = duckdb.read_table("actor_gazetteer")
    matcher = build_matcher(gaz)
    run = run_document_stage(
        context, duckdb, "actor_mentions", {"actor_mentions": MENTION_SCHEMA},
        lambda docs: {"actor_mentions": extract_actor_mentions(docs, gaz, matcher)},
        version=gazetteer_version(duckdb))
    meta = stage_metadata(run, duckdb, "actor_mentions")
    meta["distinct_actors"] = int(duckdb.query("select count(distinct actor_id) as n from raw.actor_mentions")["n"][0])
    return dg.MaterializeResult(metadata=meta)


@dg.asset(deps=["normalized_documents"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def statistics(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per figure: casualties (killed / injured), percentages, money and counts."""
    run = run_document_stage(context, duckdb, "statistics", {"statistics": STAT_SCHEMA},
                             lambda docs: {"statistics": extract_statistics(docs)}, where=ENGLISH)
    meta = stage_metadata(run, duckdb, "statistics")
    meta["by_type"] = dg.MetadataValue.json(dict(duckdb.query(
        "select statistic_type, count(*) from raw.statistics group by 1 order by 1").iter_rows()))
    return dg.MaterializeResult(metadata=meta)


@dg.asset(deps=["normalized_documents"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def date_mentions(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per date expression, resolved to date_start / date_end with a granularity."""
    run = run_document_stage(context, duckdb, "date_mentions", {"date_mentions": DATE_SCHEMA},
                             lambda docs: {"date_mentions": extract_dates(docs)},
                             columns=("document_id", "body_text", "published_date"), where=ENGLISH)
    meta = stage_metadata(run, duckdb, "date_mentions")
    counts = duckdb.query("select count(*) filter (where granularity = 'unresolved') as unresolved, "
                          "count(*) filter (where year_inferred) as year_inferred from raw.date_mentions").row(0)
    meta.update(unresolved=int(counts[0]), year_inferred=int(counts[1]))
    return dg.MaterializeResult(metadata=meta)


@dg.asset(deps=["normalized_documents"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def sentences(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per sentence of every article (the headline is sentence 0), with its character
    offsets: every fact is placed in its sentence in dbt (dim_sentence, sentence_id)."""
    run = run_document_stage(context, duckdb, "sentences", {"sentences": SENTENCE_SCHEMA},
                             lambda docs: {"sentences": split_sentences(docs)})
    meta = stage_metadata(run, duckdb, "sentences")
    meta["documents"] = int(duckdb.query("select count(distinct document_id) as n from raw.sentences")["n"][0])
    return dg.MaterializeResult(metadata=meta)
