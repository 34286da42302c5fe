"""Ingest and normalize: files in a folder -> raw, quarantined and normalized documents."""


from pathlib import Path

import dagster as dg

from dagster_project.paths import DATA_DIR, documents_dir
from dagster_project.resources import PipelineDuckDB
from dagster_project.documents.ingest import DEFAULT_MAX_BYTES, ingest_folder
from dagster_project.documents.normalize import assemble_articles, load_publisher_domains

GROUP = "documents"


class IngestConfig(dg.Config):
    documents_dir: str | None = None
    """Folder to read; defaults to $DOCUMENTS_DIR, else the repository's seeds/."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """Files larger than this are quarantined as too_large, never read."""


@dg.multi_asset(
    outs={
        "raw_documents": dg.AssetOut(
            group_name=GROUP, kinds={"python", "duckdb"},
            description="One row per input file that decoded to text: name, size, sha256, encoding, text."),
        "quarantined_documents": dg.AssetOut(
            group_name=GROUP, kinds={"python", "duckdb"},
            description="One row per input file that was rejected (empty, binary, undecodable, too large, "
                        "duplicate), with the reason. Nothing is dropped silently."),
    },
    can_subset=False,
)
def ingest_documents(context: dg.AssetExecutionContext, config: IngestConfig, duckdb: PipelineDuckDB):
    """Read every file in the input folder; decode it or quarantine it with a reason."""
    folder = Path(config.documents_dir).resolve() if config.documents_dir else documents_dir()
    if not folder.is_dir():
        raise dg.Failure(f"Input folder {folder} does not exist (set DOCUMENTS_DIR or run config documents_dir).")
    raw, quarantined = ingest_folder(folder, max_bytes=config.max_bytes)
    duckdb.replace_table("raw_documents", raw)
    duckdb.replace_table("quarantined_documents", quarantined)
    reasons = dict(quarantined.group_by("reason").len().iter_rows()) if quarantined.height else {}
    yield dg.Output(None, "raw_documents", metadata={
        "dagster/row_count": raw.height, "folder": str(folder),
        "total_bytes": int(raw["size_bytes"].sum() or 0)})
    yield dg.Output(None, "quarantined_documents", metadata={
        "dagster/row_count": quarantined.height, "reasons": dg.MetadataValue.json(reasons)})


@dg.asset(deps=["raw_documents"], group_name=GROUP, kinds={"python", "polars", "duckdb"})
def normalized_documents(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per article: boilerplate removed, text normalized, title / authors /
    publisher / publication date read from the document. Files that hold several
    posts become several articles."""
    raw = duckdb.read_table("raw_documents")
    docs = assemble_articles(raw, load_publisher_domains(DATA_DIR / "publisher_domains.csv"))
    duckdb.replace_table("normalized_documents", docs)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": docs.height,
        "files": raw.height,
        "with_published_date": docs["published_date"].is_not_null().sum(),
        "words": int(docs["word_count"].sum() or 0),
    })


@dg.asset_check(asset="raw_documents", description="Every input file is either a raw document or quarantined.")
def every_file_accounted_for(duckdb: PipelineDuckDB) -> dg.AssetCheckResult:
    with duckdb.connect(read_only=True) as con:
        raw, bad = con.sql(
            "select (select count(*) from raw.raw_documents), (select count(*) from raw.quarantined_documents)"
        ).fetchone()
    folder = documents_dir()
    files = sum(1 for p in folder.rglob("*") if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(folder).parts)) if folder.is_dir() else 0
    return dg.AssetCheckResult(passed=raw + bad == files, metadata={"files": files, "raw": raw, "quarantined": bad})
