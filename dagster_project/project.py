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
    it (CLI materialization, tests, CI) the manifest is generated here when it is missing
    or older than any dbt source file, so a fresh clone works without a separate
    `dbt parse` step and an edited model or test never runs against a stale manifest
    (Dagster would not know the new tests' asset checks)."""
    export_duckdb_path()
    # dbt is installed next to this interpreter; make it findable without an activated venv.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    if _manifest_is_stale(project.manifest_path):
        project.preparer.prepare(project)
    return project


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = (p for p in Path(DBT_PROJECT_DIR).rglob("*")
               if p.suffix in (".sql", ".yml", ".yaml", ".csv") and "target" not in p.parts
               and "dbt_packages" not in p.parts and "logs" not in p.parts)
    return any(p.stat().st_mtime > built for p in sources)
