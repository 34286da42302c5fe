"""The dbt project, built once per process."""

import os
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.paths import DBT_PROJECT_DIR, export_duckdb_path


@cache
def dbt_project() -> DbtProject:
    """Parse dbt once per process. `prepare_if_dev` re-parses under `dagster dev`; outside
    it (CLI materialization, tests, CI) a missing manifest is generated here, so a fresh
    clone works without a separate `dbt parse` step."""
    export_duckdb_path()
    # dbt is installed next to this interpreter; make it findable without an activated venv.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    if not project.manifest_path.exists():
        project.preparer.prepare(project)
    return project
