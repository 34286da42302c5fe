"""dbt models as Dagster assets, and the atomic publication of the analysts' warehouse."""


import os
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb as duck
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dagster_project.paths import pipeline_db_path, warehouse_path
from dagster_project.project import dbt_project
from dagster_project.resources import DUCKDB_CONFIG

# DuckDB 1.x clients (Evidence, duckdb-cli, most BI drivers) cannot open files written
# in DuckDB 2.0's format; pin the published file to a format they all read.
PUBLISHED_STORAGE_VERSION = "v1.4.0"
PUBLISHED_SCHEMA = "marts"
# Publishing fails when the new snapshot has lost more than this share of the previous one's
# documents (an empty folder, a wrong mount), unless the run config says it is intended.
MAX_DOCUMENT_LOSS = 0.5
# dbt run folders kept under dbt/target
_KEEP_DBT_RUNS = 3


class WarehouseTranslator(DagsterDbtTranslator):
    """Models get keys by layer (`marts/dim_document`), so a mart can share a name with the
    Python asset it reports on; sources keep the key of the Python asset that writes them
    (set in `_sources.yml` meta), which joins both into one lineage graph."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] not in ("model", "seed", "snapshot"):
            return spec
        layer = props["fqn"][1] if len(props["fqn"]) > 2 else "models"
        return spec.replace_attributes(
            key=dg.AssetKey([layer, props["name"]]),
            group_name=f"dbt_{layer}",
        ).merge_attributes(kinds={"duckdb"})


TRANSLATOR = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project().manifest_path, project=dbt_project(), dagster_dbt_translator=TRANSLATOR)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build`: staging views, intermediate models and marts, with their tests as asset checks."""
    invocation = dbt.cli(["build"], context=context)
    yield from invocation.stream()
    prune_dbt_runs(invocation.target_path)


def prune_dbt_runs(current: os.PathLike, keep: int = _KEEP_DBT_RUNS) -> None:
    """Each dbt invocation writes its artifacts to its own folder under dbt/target (5-9 MB each):
    keep the `keep` newest, so the folder does not grow by every run."""
    import shutil
    from pathlib import Path

    current = Path(current)
    runs = sorted((p for p in current.parent.glob("warehouse_models-*") if p.is_dir()),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


MART_KEYS = [
    dg.AssetKey(["marts", name]) for name in (
        "dim_document", "dim_actor", "dim_date", "fct_actor_mention", "fct_statistic", "fct_date_mention",
        "bridge_document_actor", "quarantined_documents", "dim_sentence", "fct_event", "fct_event_report",
        "fct_claim", "bridge_event_document", "bridge_event_actor")
]




class PublishConfig(dg.Config):
    allow_document_loss: bool = False
    """Publish even when the new snapshot has lost more than MAX_DOCUMENT_LOSS of the documents
    of the one it replaces (set it when a smaller collection is intended)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(target: os.PathLike) -> list[str]:
    """`<target>.tmp-<pid>-<ns>` files left by a publish that crashed: those of processes that
    are no longer running are removed. Returns their names."""
    target = os.fspath(target)
    folder, base = os.path.dirname(target) or ".", os.path.basename(target)
    removed = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if not name.startswith(base + ".tmp-"):
            continue
        try:
            pid = int(name[len(base) + 5:].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            try:
                os.remove(os.path.join(folder, name))
                removed.append(name)
            except OSError:
                pass
    return removed


def previous_document_count(target: os.PathLike) -> int | None:
    """Documents in the snapshot about to be replaced (None when there is none or it cannot be
    read: then there is nothing to compare with)."""
    if not os.path.exists(target):
        return None
    try:
        con = duck.connect(os.fspath(target), read_only=True, config=DUCKDB_CONFIG)
    except duck.Error:
        return None
    try:
        return con.execute(f"select count(*) from {PUBLISHED_SCHEMA}.dim_document").fetchone()[0]
    except duck.Error:
        return None
    finally:
        con.close()


def publish_snapshot(source: os.PathLike, target: os.PathLike, schema: str = PUBLISHED_SCHEMA) -> dict[str, int]:
    """Copy `schema` from the pipeline database into a new file and atomically move it
    over `target`. Readers that hold the old file keep reading it; new readers get the
    new one; nobody ever sees a half-written file or blocks the pipeline. A write-ahead log
    left beside the target by a client that opened it read-write is removed first: DuckDB
    would replay it into the new file ("WAL does not match database file")."""
    target = os.fspath(target)
    remove_stale_temporaries(target)
    tmp = f"{target}.tmp-{os.getpid()}-{time.time_ns()}"
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    con = duck.connect(config=DUCKDB_CONFIG)
    counts: dict[str, int] = {}
    try:
        src_path, dst_path = (str(p).replace("'", "''") for p in (os.fspath(source), tmp))
        con.execute(f"attach '{src_path}' as src (read_only)")
        con.execute(f"attach '{dst_path}' as dst (storage_version '{PUBLISHED_STORAGE_VERSION}')")
        con.execute(f"create schema dst.{schema}")
        tables = con.execute(
            "select table_name, comment from duckdb_tables() where database_name = 'src' and schema_name = ? "
            "order by table_name", [schema]).fetchall()
        for name, comment in tables:
            con.execute(f"create table dst.{schema}.{name} as select * from src.{schema}.{name}")
            if comment:
                quoted = comment.replace("'", "''")
                con.execute(f"comment on table dst.{schema}.{name} is '{quoted}'")
            counts[name] = con.execute(f"select count(*) from dst.{schema}.{name}").fetchone()[0]
        con.execute("detach dst")
    except BaseException:
        con.close()
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    con.close()
    if os.path.exists(target + ".wal"):
        os.remove(target + ".wal")
    os.replace(tmp, target)
    return counts


@dg.asset(deps=MART_KEYS, group_name="publish", kinds={"duckdb"})
def published_warehouse(context: dg.AssetExecutionContext, config: PublishConfig) -> dg.MaterializeResult:
    """The file analysts and BI tools open (`WAREHOUSE_PATH`, default data/warehouse.duckdb):
    the `marts` schema, written in DuckDB 1.4 storage format and swapped in atomically.
    It refuses to replace a snapshot with one that lost more than MAX_DOCUMENT_LOSS of its
    documents, unless run config allow_document_loss is true."""
    target = warehouse_path()
    before = previous_document_count(target)
    with duck.connect(os.fspath(pipeline_db_path()), read_only=True, config=DUCKDB_CONFIG) as con:
        now = con.execute(f"select count(*) from {PUBLISHED_SCHEMA}.dim_document").fetchone()[0]
    if before and now < (1 - MAX_DOCUMENT_LOSS) * before and not config.allow_document_loss:
        raise dg.Failure(description=(
            f"Not publishing: the new warehouse has {now} documents, the published one {before} (more than "
            f"{MAX_DOCUMENT_LOSS:.0%} lost: an empty or wrong input folder?). {target} is unchanged. If the smaller "
            f"collection is intended, run with config ops.published_warehouse.config.allow_document_loss: true"))
    counts = publish_snapshot(pipeline_db_path(), target)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(target)),
        "storage_version": PUBLISHED_STORAGE_VERSION,
        "tables": dg.MetadataValue.json(counts),
        "dagster/row_count": sum(counts.values()),
        "open_with": f"duckdb -readonly {target}",
    })
