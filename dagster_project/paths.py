"""Where things live. Every path can be overridden by one environment variable.

`DUCKDB_PATH` is shared by the Dagster resource and dbt's `profiles.yml`, so both
always write the same pipeline database. Analysts and BI tools never open that file:
they open the snapshot at `WAREHOUSE_PATH`, which is replaced atomically after dbt.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
DBT_PROJECT_DIR = REPO_ROOT / "dbt"


class DocumentsDirError(ValueError):
    """The input folder is not usable: set to an empty string, missing, or not a folder."""


def check_documents_dir(value: str | os.PathLike, source: str = "DOCUMENTS_DIR", unset_means: str | None = None
                        ) -> Path:
    """`value` as an absolute, existing, readable folder, or DocumentsDirError with a one-line
    message naming `source` (the variable or run-config field the value came from) and what
    leaving it unset would read (`unset_means`, default the repository's seeds/)."""
    if not str(value).strip():
        raise DocumentsDirError(
            f"{source} is set but empty: set it to the folder of documents to read, or unset it to read "
            f"{unset_means or REPO_ROOT / 'seeds'}")
    folder = Path(value).expanduser().resolve()
    if not folder.exists():
        raise DocumentsDirError(f"{source}={value} does not exist: set {source} to an existing folder of documents")
    if not folder.is_dir():
        raise DocumentsDirError(f"{source}={value} is not a folder: set {source} to a folder of documents")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise DocumentsDirError(f"{source}={value} is not readable: set {source} to a folder you can read")
    return folder


def documents_dir() -> Path:
    """$DOCUMENTS_DIR as an existing folder; unset means the repository's seeds/.

    An empty DOCUMENTS_DIR used to resolve to the working directory (the repository itself was
    ingested as 899 "articles"); now it, a missing folder and a file are DocumentsDirError."""
    value = os.environ.get("DOCUMENTS_DIR")
    if value is None:
        return (REPO_ROOT / "seeds").resolve()
    return check_documents_dir(value, "DOCUMENTS_DIR")


def pipeline_db_path() -> Path:
    return Path(os.environ.get("DUCKDB_PATH", REPO_ROOT / "data" / "pipeline.duckdb")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("WAREHOUSE_PATH", REPO_ROOT / "data" / "warehouse.duckdb")).resolve()


class OutputPathError(ValueError):
    """WAREHOUSE_PATH or DUCKDB_PATH cannot be written, or they name the same file."""


# DuckDB's memory for the pipeline's own connections and dbt's (profiles.yml has the same
# default). DuckDB's own default is 80 % of the machine's memory: at 100,000 documents dbt's
# process reached 11 GiB, where 2 GB gave the same times with spilling to `<DUCKDB_PATH>.tmp`.
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"
_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


class MemoryLimitError(OutputPathError):
    """DUCKDB_MEMORY_LIMIT is not a size DuckDB reads."""


def duckdb_memory_limit() -> str:
    value = os.environ.get("DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_DUCKDB_MEMORY_LIMIT
    if not _SIZE.fullmatch(value):
        raise MemoryLimitError(f"DUCKDB_MEMORY_LIMIT={value!r} is not a size: set it like 2GB or 4GiB (DuckDB's "
                               f"memory_limit), or unset it for {DEFAULT_DUCKDB_MEMORY_LIMIT}")
    return value


_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def duckdb_memory_limit_bytes() -> int:
    """DUCKDB_MEMORY_LIMIT in bytes, as DuckDB reads it (GB = 10^9 bytes, GiB = 2^30)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]+)", duckdb_memory_limit().lower())
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def duckdb_spill_dir() -> Path:
    """Where DuckDB spills what does not fit its memory limit (its own default for a database
    file: beside it, `<file>.tmp`)."""
    return pipeline_db_path().with_name(pipeline_db_path().name + ".tmp")


def previous_snapshot_path(target: os.PathLike) -> str:
    """Where the snapshot before the current one is kept: `warehouse.previous.duckdb` beside
    `warehouse.duckdb`. The next publish changes that file into the new snapshot instead of
    copying the current one (assets/warehouse.py publish_changes), when no reader holds it."""
    stem, ext = os.path.splitext(os.fspath(target))
    return f"{stem}.previous{ext or '.duckdb'}"


def check_output_paths(warehouse: Path | None = None, pipeline_db: Path | None = None) -> None:
    """Fail before any work, with one line that says what to set, when the published snapshot
    and the pipeline database are the same file (publishing would overwrite the pipeline's own
    database) or when either cannot be written; and when DUCKDB_MEMORY_LIMIT is not a size."""
    duckdb_memory_limit()
    warehouse = (warehouse or warehouse_path()).resolve()
    pipeline_db = (pipeline_db or pipeline_db_path()).resolve()
    if warehouse == pipeline_db:
        raise OutputPathError(f"WAREHOUSE_PATH and DUCKDB_PATH are both {warehouse}: set WAREHOUSE_PATH to another "
                              f"file (the published snapshot must not overwrite the pipeline database)")
    if Path(previous_snapshot_path(warehouse)) == pipeline_db:
        raise OutputPathError(f"DUCKDB_PATH={pipeline_db} is where the previous snapshot of WAREHOUSE_PATH={warehouse} "
                              f"is kept: set DUCKDB_PATH to another file")
    for name, path in (("WAREHOUSE_PATH", warehouse), ("DUCKDB_PATH", pipeline_db)):
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if path.is_dir():
            raise OutputPathError(f"{name}={path} is a folder: set {name} to a file path")
        if path.exists() and not os.access(path, os.W_OK):
            raise OutputPathError(f"{name}={path} is read-only: set {name} to a file you can write")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputPathError(f"{name}={path}: {folder} is not writable: set {name} to a file in a writable folder")


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


def duckdb_cli() -> Path | None:
    """The `duckdb` CLI installed next to this interpreter (PyPI package duckdb-cli, DuckDB 1.4): the
    real DuckDB 1.x client the published snapshot is checked with. None when it is not installed."""
    import sys

    for name in ("duckdb", "duckdb.exe"):
        candidate = Path(sys.executable).parent / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
