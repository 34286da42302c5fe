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
    yield from dbt.cli(["build"], context=context).stream()


MART_KEYS = [
    dg.AssetKey(["marts", name]) for name in (
        "dim_document", "dim_actor", "dim_date", "fct_actor_mention", "fct_statistic", "fct_date_mention",
        "bridge_document_actor", "quarantined_documents")
]


def publish_snapshot(source: os.PathLike, target: os.PathLike, schema: str = PUBLISHED_SCHEMA) -> dict[str, int]:
    """Copy `schema` from the pipeline database into a new file and atomically move it
    over `target`. Readers that hold the old file keep reading it; new readers get the
    new one; nobody ever sees a half-written file or blocks the pipeline."""
    target = os.fspath(target)
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
    os.replace(tmp, target)
    return counts


@dg.asset(deps=MART_KEYS, group_name="publish", kinds={"duckdb"})
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The file analysts and BI tools open (`WAREHOUSE_PATH`, default data/warehouse.duckdb):
    the `marts` schema, written in DuckDB 1.4 storage format and swapped in atomically."""
    target = warehouse_path()
    counts = publish_snapshot(pipeline_db_path(), target)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(target)),
        "storage_version": PUBLISHED_STORAGE_VERSION,
        "tables": dg.MetadataValue.json(counts),
        "dagster/row_count": sum(counts.values()),
        "open_with": f"duckdb -readonly {target}",
    })
