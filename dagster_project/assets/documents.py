"""Ingest and normalize: files in a folder -> raw, quarantined and normalized documents."""


from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb as duckdb_lib
import polars as pl

from dagster_project.assets.stages import rows_by_position
from dagster_project.assets.table_metadata import table_metadata
from dagster_project.paths import (
    DATA_DIR,
    DocumentsDirError,
    OutputPathError,
    check_documents_dir,
    check_output_paths,
    documents_dir,
)
from dagster_project.parallel import WorkersSettingError, map_by_key, worker_count
from dagster_project.parallel import shutdown as shutdown_workers
from dagster_project.resources import PipelineDuckDB
from dagster_project.documents.incremental import (
    batches,
    entry_batches,
    index_rows,
    plan_files,
    plan_keys,
)
from dagster_project.documents.ingest import (
    DEFAULT_MAX_BYTES,
    RAW_SCHEMA,
    STAGE,
    Walk,
    ingest_folder,
    walk_folder,
)
from dagster_project.documents.normalize import combine_normalized, line_keys, load_publisher_domains, normalize_documents

GROUP = "documents"

# raw.ingest_runs: one row per run, the folder it read and what it found (every_file_accounted_for
# walks the latest run's folder again).
INGEST_RUNS_SCHEMA = {
    "run_id": pl.String,
    "folder": pl.String,
    "files": pl.Int64,
    "new_files": pl.Int64,
    "changed_files": pl.Int64,
    "deleted_files": pl.Int64,
    "unchanged_files": pl.Int64,
    "raw_documents": pl.Int64,
    "quarantined_documents": pl.Int64,
    "skipped_symlinked_folders": pl.Int64,
    "max_bytes": pl.Int64,
    "full_refresh": pl.Boolean,
    "ingested_at": pl.Datetime("us"),
}
_LISTED = 50  # file names listed in the check's metadata
# Files are read, decoded and written in batches of at most this many bytes: memory does not
# grow with the collection, and a crash loses at most one batch (the next run reads it again).
INGEST_BATCH_BYTES = 64 * 1024 * 1024
NORMALIZE_BATCH_BYTES = 32 * 1024 * 1024
# Kept by a full refresh: the gazetteer (its own asset) and the history of runs.
KEPT_BY_FULL_REFRESH = ("actor_gazetteer", "ingest_runs")


class IngestConfig(dg.Config):
    documents_dir: str | None = None
    """Folder to read; defaults to $DOCUMENTS_DIR, else the repository's seeds/."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """Files larger than this are quarantined as too_large, never read."""
    full_refresh: bool = False
    """Read every file again and redo every stage (after upgrading the pipeline, or to start over);
    by default a run reads only new and changed files."""


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
    """Read the new and changed files of the input folder (documents/incremental.py: the file
    index says which), decode them or quarantine them with a reason, and remove the rows of the
    files that are gone. Also appends to raw.ingest_runs (the folder read and the counts), which
    every_file_accounted_for checks against."""
    folder = input_folder(config)
    try:  # before any work: where the run will write, and how many processes it may use
        check_output_paths()
        worker_count()
    except (OutputPathError, WorkersSettingError) as exc:
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
    with duckdb.connect() as con:
        con.execute("create schema if not exists raw")
        tables = {r[0]: r[1] for r in con.execute(
            "select table_name, list(column_name) from duckdb_columns() where schema_name = 'raw' group by 1").fetchall()}
        # a pipeline database of an older layout: the history table starts again
        if "ingest_runs" in tables and set(INGEST_RUNS_SCHEMA) - set(tables["ingest_runs"]):
            con.execute("drop table raw.ingest_runs")
        if config.full_refresh:  # every stage then sees all of its input as new
            for table in tables:
                if table not in KEPT_BY_FULL_REFRESH:
                    con.execute(f"drop table if exists raw.{table}")
    index = duckdb.read_table("file_index") if duckdb.has_table("file_index") else None
    plan = plan_files(walk.entries, index, config.max_bytes, full=config.full_refresh)
    context.log.info(f"ingest: {len(walk.entries)} entries in {walk.root}: {len(plan.new)} new, {len(plan.changed)} "
                     f"changed, {len(plan.requeued)} duplicates to judge again, {len(plan.deleted)} deleted, "
                     f"{len(plan.unchanged)} unchanged")
    originals = dict(plan.originals)
    duplicate_of: dict[str, str] = {}
    new_raw = new_bad = 0
    reasons: Counter = Counter()
    types: Counter = Counter()
    read_bytes = decode_errors = 0
    first = True
    for batch in entry_batches(plan.read, INGEST_BATCH_BYTES) if plan.read else iter([[]]):
        raw, bad = ingest_folder(folder, max_bytes=config.max_bytes, now=now, walk=Walk(walk.root, batch),
                                 originals=originals, duplicate_of=duplicate_of)
        gone = [e.name for e in batch] + (plan.deleted if first else [])
        duckdb.apply(
            deletes={"raw_documents": ("source_file", gone), "quarantined_documents": ("source_file", gone),
                     "file_index": ("source_file", gone)},
            inserts={"raw_documents": raw, "quarantined_documents": bad,
                     "file_index": index_rows(batch, raw, bad, duplicate_of, config.max_bytes)},
        )
        first = False
        new_raw += raw.height
        new_bad += bad.height
        reasons.update(bad["reason"].to_list())
        types.update(raw["content_type"].to_list())
        read_bytes += int(raw["size_bytes"].sum() or 0)
        decode_errors += int(raw["decode_errors"].sum() or 0)
        if len(plan.read) > len(batch):
            context.log.info(f"ingest: {new_raw + new_bad} of {len(plan.read)} files read")
    totals = duckdb.query("select (select count(*) from raw.raw_documents) as raw, "
                          "(select count(*) from raw.quarantined_documents) as bad").row(0, named=True)
    duckdb.apply(inserts={"ingest_runs": pl.DataFrame([{
        "run_id": context.run.run_id, "folder": str(walk.root), "files": len(walk.entries), "new_files": len(plan.new),
        "changed_files": len(plan.changed) + len(plan.requeued), "deleted_files": len(plan.deleted),
        "unchanged_files": len(plan.unchanged), "raw_documents": totals["raw"], "quarantined_documents": totals["bad"],
        "skipped_symlinked_folders": len(walk.skipped), "max_bytes": config.max_bytes,
        "full_refresh": config.full_refresh, "ingested_at": now}], schema=INGEST_RUNS_SCHEMA)})
    all_reasons = dict(duckdb.query("select reason, count(*) as n from raw.quarantined_documents group by reason "
                                    "order by reason").iter_rows())
    yield dg.Output(None, "raw_documents", metadata={
        **table_metadata(duckdb, "raw_documents"), "dagster/row_count": totals["raw"], "folder": str(walk.root), "files": len(walk.entries),
        "new_files": len(plan.new), "changed_files": len(plan.changed) + len(plan.requeued),
        "deleted_files": len(plan.deleted), "unchanged_files": len(plan.unchanged),
        "read_this_run": new_raw, "bytes_read_this_run": read_bytes, "decode_errors_this_run": decode_errors,
        "content_types_this_run": dg.MetadataValue.json(dict(sorted(types.items()))),
        "skipped_symlinked_folders": dg.MetadataValue.json(walk.skipped[:_LISTED])})
    yield dg.Output(None, "quarantined_documents", metadata={
        **table_metadata(duckdb, "quarantined_documents"), "dagster/row_count": totals["bad"], "quarantined_this_run": new_bad,
        "reasons_this_run": dg.MetadataValue.json(dict(sorted(reasons.items()))),
        "reasons": dg.MetadataValue.json(all_reasons)})


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
    """Turn every raw document not yet normalized into its articles, or into a quarantine row
    saying why it has none; remove what came from files that are gone. The line statistics
    (in how many files a line occurs: recurring lines are boilerplate) are those of the whole
    collection, kept per file in raw.file_line_keys, so a batch or an incremental run reads each
    line as a full build would. A file whose line becomes common (or rare again) because files
    arrived or went is normalized again, so an incremental run gives what a full build gives."""
    domains = load_publisher_domains(DATA_DIR / "publisher_domains.csv")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    files = duckdb.query("select rowid as position, file_id, size_bytes, coalesce(content_type, '') = 'html' as html "
                         "from raw.raw_documents")
    sizes = dict(zip(files["file_id"], files["size_bytes"]))
    # batches are cut in the table's order, so that each batch's files lie together (rows_by_position)
    positions = dict(zip(files["file_id"], files["position"]))

    def in_order(keys: list[str]) -> list[str]:
        return sorted(keys, key=positions.__getitem__)

    # the collection's line statistics first (every text scrape's distinct lines): a file that
    # arrives or goes can make a line of an older file common or rare again, and that file is
    # then normalized again, as a full build would read it
    keyed = (set(duckdb.query("select distinct file_id from raw.file_line_keys")["file_id"])
             if duckdb.has_table("file_line_keys") else set())
    key_plan = plan_keys(files.filter(~pl.col("html"))["file_id"], keyed)
    redone = _update_line_keys(duckdb, key_plan.remove, pl.DataFrame(schema=LINE_KEYS_SCHEMA))
    for batch in batches(in_order(key_plan.add), sizes, NORMALIZE_BATCH_BYTES):
        redone += _update_line_keys(duckdb, [], line_keys(_raw_batch(duckdb, batch, positions)).cast(LINE_KEYS_SCHEMA))
    done = set()
    for table in ("normalized_documents", "normalize_quarantine"):
        if duckdb.has_table(table):
            done |= set(duckdb.query(f"select distinct file_id from raw.{table}")["file_id"])
    plan = plan_keys(files["file_id"], done)
    duckdb.apply(deletes={"normalized_documents": ("file_id", plan.remove),
                          "normalize_quarantine": ("file_id", plan.remove)})
    empty = normalize_documents(pl.DataFrame(schema=RAW_SCHEMA))
    duckdb.apply(inserts={"normalized_documents": empty.articles,
                          "normalize_quarantine": _rejected_rows(empty.rejected, pl.DataFrame(schema=RAW_SCHEMA), now)})
    n_done = 0
    for batch in batches(in_order(plan.add), sizes, NORMALIZE_BATCH_BYTES):
        raw = _raw_batch(duckdb, batch, positions)
        frequency = duckdb.query("""
            select key, count(*) as files_with_line from raw.file_line_keys
            where key in (select key from raw.file_line_keys where file_id in (select unnest(?)))
            group by key""", [batch])
        # both cores: the files of a large batch are cut into runs normalized in worker processes
        # (dagster_project/parallel.py; the line statistics come whole, so the result is the same)
        result = map_by_key(normalize_documents, {"raw_documents": raw}, "file_id", main="raw_documents",
                            weight="raw_text", shared={"publisher_domains": domains, "document_frequency": frequency},
                            combine=combine_normalized)
        duckdb.apply(deletes={"normalized_documents": ("file_id", batch), "normalize_quarantine": ("file_id", batch)},
                     inserts={"normalized_documents": result.articles,
                              "normalize_quarantine": _rejected_rows(result.rejected, raw, now)})
        n_done += len(batch)
        if len(plan.add) > len(batch):
            context.log.info(f"normalize: {n_done} of {len(plan.add)} files")
    # the workers' memory (about 300 MB each) goes back before the next stages run
    shutdown_workers()
    # a file renamed (same text, another path) keeps its articles under its new name
    with duckdb.connect() as con:
        for table in ("normalized_documents", "normalize_quarantine"):
            con.execute(f"""update raw.{table} t set source_file = r.source_file from raw.raw_documents r
                            where t.file_id = r.file_id and t.source_file <> r.source_file""")
    docs = duckdb.query("""
        select count(*) as articles, count(title) as with_title, count(published_date) as with_published_date,
               count(authors) as with_authors, coalesce(sum(word_count), 0) as words
        from raw.normalized_documents""").row(0, named=True)
    languages = dict(duckdb.query("select language, count(*) from raw.normalized_documents group by 1 order by 1")
                     .iter_rows())
    removed = dict(duckdb.query("""
        select r.reason, sum(r.lines)::bigint from (select unnest(removed_lines) as r from raw.normalized_documents)
        group by 1 order by 1""").iter_rows())
    rejected = dict(duckdb.query("select reason, count(*) from raw.normalize_quarantine group by 1 order by 1")
                    .iter_rows())
    yield dg.Output(None, "normalized_documents", metadata={
        **table_metadata(duckdb, "normalized_documents"), "dagster/row_count": docs["articles"], "files": files.height,
        "files_normalized_this_run": len(plan.add), "files_removed_this_run": len(plan.remove),
        "files_renormalized_for_line_statistics": redone,
        "with_title": docs["with_title"], "with_published_date": docs["with_published_date"],
        "with_authors": docs["with_authors"], "languages": dg.MetadataValue.json(languages),
        "removed_lines": dg.MetadataValue.json(removed), "words": int(docs["words"]),
    })
    yield dg.Output(None, "normalize_quarantine", metadata={
        **table_metadata(duckdb, "normalize_quarantine"), "dagster/row_count": sum(rejected.values()), "reasons": dg.MetadataValue.json(rejected),
    })


LINE_KEYS_SCHEMA = {"file_id": pl.String, "key": pl.UInt64}


def _update_line_keys(duckdb: PipelineDuckDB, removed: list[str], incoming: pl.DataFrame) -> int:
    """In one transaction: drop the line keys of `removed` and of the files in `incoming`, add
    `incoming`, and remove the articles (or quarantine rows) of every other file holding a line
    whose class of collection frequency changed (1, 2, 3 or more files: the thresholds of
    scrape.score_lines), so that the next step normalizes them again. Returns how many files
    that was. Done in the transaction so that a crash cannot lose the files to redo."""
    files = sorted(set(removed) | set(incoming["file_id"].unique().to_list()))
    if not files:
        return 0
    with duckdb.connect() as con:
        con.execute("create schema if not exists raw")
        con.execute("create table if not exists raw.file_line_keys (file_id varchar, key ubigint)")
        con.execute("begin")
        try:
            con.register("_files", pl.DataFrame({"file_id": files}).to_arrow())
            con.register("_incoming", incoming.to_arrow())
            con.execute("""
                create temp table _touched as
                select distinct key from raw.file_line_keys where file_id in (select file_id from _files)
                union select distinct key from _incoming""")
            con.execute("""
                create temp table _before as
                select key, least(greatest(count(f.file_id), 1), 3) as bucket
                from _touched left join raw.file_line_keys f using (key) group by key""")
            con.execute("delete from raw.file_line_keys where file_id in (select file_id from _files)")
            con.execute("insert into raw.file_line_keys by name select file_id, key from _incoming")
            con.execute("""
                create temp table _redo as
                select distinct f.file_id from raw.file_line_keys f
                where f.key in (
                    select b.key from _before b
                    left join (select key, least(count(*), 3) as bucket from raw.file_line_keys
                               where key in (select key from _touched) group by key) a using (key)
                    where coalesce(a.bucket, 1) <> b.bucket)
                and f.file_id not in (select file_id from _files)""")
            redo = con.execute("select count(*) from _redo").fetchone()[0]
            for table in ("normalized_documents", "normalize_quarantine"):
                if _table_exists(con, table):
                    con.execute(f"delete from raw.{table} where file_id in (select file_id from _redo)")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            for name in ("_touched", "_before", "_redo"):
                con.execute(f"drop table if exists {name}")
    return int(redo)


def _table_exists(con, table: str, schema: str = "raw") -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


def _raw_batch(duckdb: PipelineDuckDB, file_ids: list[str], positions: dict[str, int]) -> pl.DataFrame:
    return rows_by_position(duckdb, "raw_documents", "file_id", file_ids, positions).cast(RAW_SCHEMA)


def _rejected_rows(rejected: pl.DataFrame, raw: pl.DataFrame, now: datetime) -> pl.DataFrame:
    return rejected.join(raw.select("file_id", "size_bytes", "content_sha256"), on="file_id", how="left").select(
        "file_id", "source_file", pl.col("size_bytes").cast(pl.Int64), "content_sha256", "reason", "detail",
        pl.lit("normalize").alias("stage"), pl.lit(now, dtype=pl.Datetime("us")).alias("quarantined_at"))


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
            (folder,) = con.sql("select folder from raw.ingest_runs order by ingested_at desc limit 1").fetchone()
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
