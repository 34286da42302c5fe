"""Ingest and normalize: files in a folder -> raw, quarantined and normalized documents."""


from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb as duckdb_lib
import polars as pl

from dagster_project.paths import (
    DATA_DIR,
    DocumentsDirError,
    OutputPathError,
    check_documents_dir,
    check_output_paths,
    documents_dir,
)
from dagster_project.resources import PipelineDuckDB
from dagster_project.documents.ingest import DEFAULT_MAX_BYTES, STAGE, ingest_folder, walk_folder
from dagster_project.documents.normalize import load_publisher_domains, normalize_documents

GROUP = "documents"

# raw.ingest_runs: one row, the folder the last ingest read (every_file_accounted_for walks it again).
INGEST_RUNS_SCHEMA = {
    "folder": pl.String,
    "files": pl.Int64,
    "raw_documents": pl.Int64,
    "quarantined_documents": pl.Int64,
    "skipped_symlinked_folders": pl.Int64,
    "max_bytes": pl.Int64,
    "ingested_at": pl.Datetime("us"),
}
_LISTED = 50  # file names listed in the check's metadata


class IngestConfig(dg.Config):
    documents_dir: str | None = None
    """Folder to read; defaults to $DOCUMENTS_DIR, else the repository's seeds/."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """Files larger than this are quarantined as too_large, never read."""


def input_folder(config: IngestConfig) -> Path:
    """The folder to read (run config, else $DOCUMENTS_DIR, else seeds/) or a dg.Failure saying what to set."""
    try:
        if config.documents_dir is not None:
            return check_documents_dir(config.documents_dir, "run config ops.ingest_documents.config.documents_dir",
                                       unset_means="$DOCUMENTS_DIR, else the repository's seeds/")
        return documents_dir()
    except DocumentsDirError as exc:
        raise dg.Failure(description=str(exc)) from None


@dg.multi_asset(
    outs={
        "raw_documents": dg.AssetOut(
            group_name=GROUP, kinds={"python", "duckdb"},
            description="One row per input file that decoded to text: name, size, sha256, encoding, decode errors, "
                        "content type, modification time, text. file_id is the sha256 of the normalized text."),
        "quarantined_documents": dg.AssetOut(
            group_name=GROUP, kinds={"python", "duckdb"},
            description="One row per input file that was rejected (empty, binary, undecodable, too large, unreadable, "
                        "no text, duplicate, hidden, symlink outside the folder, broken symlink), with the reason and "
                        "stage. Nothing is dropped silently."),
    },
    can_subset=False,
)
def ingest_documents(context: dg.AssetExecutionContext, config: IngestConfig, duckdb: PipelineDuckDB):
    """Read every file in the input folder; decode it or quarantine it with a reason. Also writes
    raw.ingest_runs (the folder read and the counts), which every_file_accounted_for checks against."""
    folder = input_folder(config)
    try:  # before any work: where the run will write
        check_output_paths()
    except OutputPathError as exc:
        raise dg.Failure(description=str(exc)) from None
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        walk = walk_folder(folder)
    except OSError as exc:  # the folder itself cannot be listed; anything inside never raises
        raise dg.Failure(description=f"Cannot list the input folder {folder}: {exc.strerror or exc}") from None
    if not walk.entries:
        raise dg.Failure(description=(
            f"The input folder {walk.root} holds no files: put the documents there, or set DOCUMENTS_DIR (or run "
            f"config documents_dir) to the folder that holds them"))
    raw, quarantined = ingest_folder(folder, max_bytes=config.max_bytes, now=now, walk=walk)
    duckdb.replace_table("raw_documents", raw)
    duckdb.replace_table("quarantined_documents", quarantined)
    duckdb.replace_table("ingest_runs", pl.DataFrame([{
        "folder": str(walk.root), "files": len(walk.entries), "raw_documents": raw.height,
        "quarantined_documents": quarantined.height, "skipped_symlinked_folders": len(walk.skipped),
        "max_bytes": config.max_bytes, "ingested_at": now}], schema=INGEST_RUNS_SCHEMA))
    reasons = dict(quarantined.group_by("reason").len().sort("reason").iter_rows()) if quarantined.height else {}
    types = dict(raw.group_by("content_type").len().sort("content_type").iter_rows()) if raw.height else {}
    yield dg.Output(None, "raw_documents", metadata={
        "dagster/row_count": raw.height, "folder": str(walk.root), "files": len(walk.entries),
        "total_bytes": int(raw["size_bytes"].sum() or 0),
        "decode_errors": int(raw["decode_errors"].sum() or 0),
        "content_types": dg.MetadataValue.json(types),
        "skipped_symlinked_folders": dg.MetadataValue.json(walk.skipped[:_LISTED])})
    yield dg.Output(None, "quarantined_documents", metadata={
        "dagster/row_count": quarantined.height, "reasons": dg.MetadataValue.json(reasons)})


@dg.multi_asset(
    outs={
        "normalized_documents": dg.AssetOut(
            group_name=GROUP, kinds={"python", "polars", "duckdb"},
            description="One row per article: the headline as the first paragraph of body_text, boilerplate "
                        "removed and counted by reason (removed_lines), title / authors / publisher / publication "
                        "date, language. HTML pages through trafilatura, text scrapes through the line model."),
        "normalize_quarantine": dg.AssetOut(
            group_name=GROUP, kinds={"python", "duckdb"},
            description="One row per decoded file that yields no article (boilerplate only, or HTML without "
                        "article text), with the reason: the normalize stage of the quarantine."),
    },
    deps=["raw_documents"],
    can_subset=False,
)
def normalize(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB):
    """Turn every raw document into its articles, or into a quarantine row saying why it has none."""
    raw = duckdb.read_table("raw_documents")
    result = normalize_documents(raw, load_publisher_domains(DATA_DIR / "publisher_domains.csv"))
    docs = result.articles
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    sizes = raw.select("file_id", "size_bytes", "content_sha256")
    rejected = result.rejected.join(sizes, on="file_id", how="left").select(
        "file_id", "source_file", "size_bytes", "content_sha256", "reason", "detail",
        pl.lit("normalize").alias("stage"), pl.lit(now).alias("quarantined_at"))
    duckdb.replace_table("normalized_documents", docs)
    duckdb.replace_table("normalize_quarantine", rejected)
    removed = (docs.select(pl.col("removed_lines").explode()).unnest("removed_lines")
               .group_by("reason").agg(pl.col("lines").sum()).sort("reason") if docs.height else None)
    yield dg.Output(None, "normalized_documents", metadata={
        "dagster/row_count": docs.height,
        "files": raw.height,
        "with_title": int(docs["title"].is_not_null().sum()),
        "with_published_date": int(docs["published_date"].is_not_null().sum()),
        "with_authors": int(docs["authors"].is_not_null().sum()),
        "languages": dg.MetadataValue.json(dict(docs.group_by("language").len().sort("language").iter_rows())),
        "removed_lines": dg.MetadataValue.json(dict(removed.iter_rows()) if removed is not None else {}),
        "words": int(docs["word_count"].sum() or 0),
    })
    yield dg.Output(None, "normalize_quarantine", metadata={
        "dagster/row_count": rejected.height,
        "reasons": dg.MetadataValue.json(dict(rejected.group_by("reason").len().sort("reason").iter_rows())),
    })


@dg.asset_check(asset="normalized_documents", description=(
    "Every raw document yields at least one article or one normalize_quarantine row, never both."))
def every_document_normalized_or_quarantined(duckdb: PipelineDuckDB) -> dg.AssetCheckResult:
    with duckdb.connect(read_only=True) as con:
        missing, both = con.sql("""
            with files as (select file_id, source_file from raw.raw_documents),
            articles as (select distinct file_id from raw.normalized_documents),
            rejected as (select distinct file_id from raw.normalize_quarantine)
            select
                list(source_file) filter (where file_id not in (select file_id from articles)
                                          and file_id not in (select file_id from rejected)),
                list(source_file) filter (where file_id in (select file_id from articles)
                                          and file_id in (select file_id from rejected))
            from files
        """).fetchone()
    missing, both = missing or [], both or []
    return dg.AssetCheckResult(passed=not missing and not both, metadata={
        "missing": dg.MetadataValue.json(missing[:_LISTED]), "in_both": dg.MetadataValue.json(both[:_LISTED])})


@dg.asset_check(asset="raw_documents", description=(
    "Every file in the folder the last ingest read (raw.ingest_runs) is in exactly one of raw_documents "
    "and quarantined_documents (stage 'ingest'), and every row names a file of that folder."))
def every_file_accounted_for(duckdb: PipelineDuckDB) -> dg.AssetCheckResult:
    with duckdb.connect(read_only=True) as con:
        try:
            (folder,) = con.sql("select folder from raw.ingest_runs").fetchone()
        except (duckdb_lib.CatalogException, TypeError):
            return dg.AssetCheckResult(passed=False, metadata={
                "error": "raw.ingest_runs is missing or empty: materialize ingest_documents again"})
        raw = [r[0] for r in con.sql("select source_file from raw.raw_documents").fetchall()]
        bad = [r[0] for r in con.sql(
            "select source_file from raw.quarantined_documents where coalesce(stage, ?) = ?", params=[STAGE, STAGE]
        ).fetchall()]
    if not Path(folder).is_dir():
        return dg.AssetCheckResult(passed=False, metadata={
            "folder": folder, "error": f"{folder}, the folder the last ingest read, is no longer a folder"})
    walked = {e.name for e in walk_folder(folder).entries}
    rows = Counter(raw) + Counter(bad)
    missing = sorted(walked - rows.keys())
    in_both = sorted(set(raw) & set(bad))
    repeated = sorted(name for name, n in rows.items() if n > 1 and name not in in_both)
    unexpected = sorted(rows.keys() - walked)
    return dg.AssetCheckResult(
        passed=not (missing or in_both or repeated or unexpected),
        metadata={
            "folder": folder, "files": len(walked), "raw": len(raw), "quarantined": len(bad),
            "missing": dg.MetadataValue.json(missing[:_LISTED]),
            "in_both": dg.MetadataValue.json(in_both[:_LISTED]),
            "repeated": dg.MetadataValue.json(repeated[:_LISTED]),
            "unexpected": dg.MetadataValue.json(unexpected[:_LISTED]),
        },
    )
