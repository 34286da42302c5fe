"""The Dagster code location: one asset graph from raw files to the published warehouse."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets import dashboard, documents, events, extraction, warehouse
from dagster_project.paths import export_duckdb_path
from dagster_project.resources import PipelineDuckDB, dbt_resource
from dagster_project.sensors import SCHEDULES, SENSORS

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([documents, extraction, events, warehouse, dashboard]),
    asset_checks=[documents.every_file_accounted_for, documents.every_document_normalized_or_quarantined,
                  warehouse.published_warehouse_reads_back_in_duckdb_1x],
    resources={
        "duckdb": PipelineDuckDB(path=str(export_duckdb_path())),
        "dbt": dbt_resource(),
    },
    # DuckDB allows one writer process at a time: run steps in one process, in order.
    executor=dg.in_process_executor,
    jobs=[dg.define_asset_job("build_warehouse", selection=dg.AssetSelection.all())],
    # both off by default (sensors.py): turn them on in the UI or with `dagster sensor start`
    sensors=SENSORS,
    schedules=SCHEDULES,
)
