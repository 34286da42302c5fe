"""The dbt project, built once per process."""

import hashlib
import json
import os
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from dagster_project.paths import DBT_PROJECT_DIR, export_duckdb_path

# written beside the manifest by `parse`: the vars it parsed with
_PARSE_STAMP = "geo_warehouse_parse.json"


def macros_checksum() -> str:
    """A checksum of the project's macros (dbt's graph holds none of their code): the
    incremental marts (dbt/macros/incremental_documents.sql) redo every article when it changes."""
    macros = Path(DBT_PROJECT_DIR) / "macros"
    digest = hashlib.md5()
    for path in sorted(macros.rglob("*.sql")):
        digest.update(path.relative_to(macros).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def dbt_vars() -> dict[str, str]:
    """The vars of every dbt invocation of the pipeline. The parse that writes the manifest uses
    the same ones: dbt re-parses the whole project (about 10 s) when a run's vars differ from
    those its saved partial parse was made with."""
    return {"macros_checksum": macros_checksum()}


def target_dir() -> Path:
    """Where dbt's artifacts go: DBT_TARGET_PATH when set (as dbt and dagster-dbt read it),
    else dbt/target. dagster-dbt copies `partial_parse.msgpack` from this folder into each run's
    own folder under it, so the parse must write here."""
    value = os.environ.get("DBT_TARGET_PATH")
    if not value:
        return Path(DBT_PROJECT_DIR) / "target"
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(DBT_PROJECT_DIR) / path


@cache
def dbt_project() -> DbtProject:
    """Parse dbt once per process, when the manifest is missing, older than any dbt source file,
    or parsed with other vars than the runs use (`dbt_vars`): a fresh clone works without a
    separate `dbt parse` step, an edited model or test never runs against a stale manifest
    (Dagster would not know the new tests' asset checks), and every `dbt build` can reuse the
    saved partial parse. This also covers `dagster dev`, where Dagster's own `prepare_if_dev`
    would parse without the vars and so make every run parse the project again."""
    export_duckdb_path()
    # dbt is installed next to this interpreter; make it findable without an activated venv.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target_dir())
    wanted = dbt_vars()
    if _manifest_is_stale(project.manifest_path) or _parsed_vars(project.manifest_path) != wanted:
        parse(project, wanted)
    return project


def parse(project: DbtProject, vars_: dict[str, str]) -> None:
    """`dbt parse` with the runs' vars, into the project's target folder."""
    target = Path(project.manifest_path).parent
    target.mkdir(parents=True, exist_ok=True)
    DbtCliResource(project_dir=project).cli(
        ["--quiet", "parse", "--vars", json.dumps(vars_)], target_path=target).wait()
    (target / _PARSE_STAMP).write_text(json.dumps(vars_, sort_keys=True))


def _parsed_vars(manifest: Path) -> dict | None:
    try:
        return json.loads((Path(manifest).parent / _PARSE_STAMP).read_text())
    except (OSError, ValueError):
        return None


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = (p for p in Path(DBT_PROJECT_DIR).rglob("*")
               if p.suffix in (".sql", ".yml", ".yaml", ".csv") and "target" not in p.parts
               and "dbt_packages" not in p.parts and "logs" not in p.parts)
    return any(p.stat().st_mtime > built for p in sources)
