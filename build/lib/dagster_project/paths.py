"""Where things live. Every path can be overridden by one environment variable.

`DUCKDB_PATH` is shared by the Dagster resource and dbt's `profiles.yml`, so both
always write the same pipeline database. Analysts and BI tools never open that file:
they open the snapshot at `WAREHOUSE_PATH`, which is replaced atomically after dbt.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
DBT_PROJECT_DIR = REPO_ROOT / "dbt"


def documents_dir() -> Path:
    return Path(os.environ.get("DOCUMENTS_DIR", REPO_ROOT / "seeds")).resolve()


def pipeline_db_path() -> Path:
    return Path(os.environ.get("DUCKDB_PATH", REPO_ROOT / "data" / "pipeline.duckdb")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("WAREHOUSE_PATH", REPO_ROOT / "data" / "warehouse.duckdb")).resolve()


def export_duckdb_path() -> Path:
    """Make sure dbt (a subprocess) sees the same absolute DUCKDB_PATH as Python."""
    path = pipeline_db_path()
    os.environ["DUCKDB_PATH"] = str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def dbt_executable() -> str:
    """dbt from this interpreter's environment, so an un-activated venv still works."""
    import shutil
    import sys

    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")
