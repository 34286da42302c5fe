"""Helpers of the console-build tests (test_console.py, test_crash.py): a build environment in a
temporary folder, the console build as a subprocess, and comparing two published warehouses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from support import REPO_ROOT

# Columns that say when, not what: they differ between two builds of the same folder.
TIMESTAMP_COLUMNS = ("ingested_at", "quarantined_at", "source_modified_at", "published_at")
BUILD_TIMEOUT = 1800  # seconds; a full build takes 1.5 to 5 minutes on a loaded 2-core machine


@dataclass
class BuildEnv:
    root: Path
    documents: Path
    pipeline_db: Path
    warehouse: Path
    dagster_home: Path
    logs: Path

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DOCUMENTS_DIR": str(self.documents),
            "DUCKDB_PATH": str(self.pipeline_db),
            "WAREHOUSE_PATH": str(self.warehouse),
            "DAGSTER_HOME": str(self.dagster_home),
            "DBT_TARGET_PATH": str(self.root / "dbt_target"),
            "DBT_LOG_PATH": str(self.root / "dbt_logs"),
            "BUILD_LOG_DIR": str(self.logs),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    @property
    def lock_file(self) -> Path:
        return Path(str(self.pipeline_db) + ".build.lock")


def make_env(root: Path, documents: Path) -> BuildEnv:
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return BuildEnv(root=root, documents=documents, pipeline_db=root / "pipeline" / "pipeline.duckdb",
                    warehouse=root / "published" / "warehouse.duckdb", dagster_home=home, logs=root / "logs")


def build_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dagster_project.cli", "build", *args]


def start_build(env: BuildEnv, *args: str) -> subprocess.Popen:
    """The console build in a subprocess, niced (the machine is shared), stdout piped."""
    return subprocess.Popen(build_command(*args), cwd=REPO_ROOT, env=env.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.nice(10))


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def log_path(self) -> Path:
        found = re.findall(r"Full log: (\S+)", self.stdout)
        assert found, f"the console names no log file:\n{self.stdout}"
        return Path(found[-1])


def run_build(env: BuildEnv, *args: str) -> Finished:
    import time

    started = time.time()
    proc = start_build(env, *args)
    out, err = proc.communicate(timeout=BUILD_TIMEOUT)
    return Finished(proc.returncode, out, err, time.time() - started)


def marts_differences(a: Path, b: Path, schema: str = "marts") -> list[str]:
    """Every difference between the marts of two warehouse files: tables present in one only,
    columns that differ, and per table the rows of each not in the other (EXCEPT ALL, both ways),
    the timestamp columns left out."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        columns = {}
        for db in ("a", "b"):
            columns[db] = {t: cols for t, cols in con.execute(
                "select table_name, list(column_name order by column_index) from duckdb_columns() "
                "where database_name = ? and schema_name = ? group by 1", [db, schema]).fetchall()}
        problems = [f"table {t} only in {db}" for db, other in (("a", "b"), ("b", "a"))
                    for t in sorted(set(columns[db]) - set(columns[other]))]
        for table in sorted(set(columns["a"]) & set(columns["b"])):
            if columns["a"][table] != columns["b"][table]:
                problems.append(f"{table}: columns {columns['a'][table]} != {columns['b'][table]}")
                continue
            cols = ", ".join(f'"{c}"' for c in columns["a"][table] if c not in TIMESTAMP_COLUMNS)
            for x, y in (("a", "b"), ("b", "a")):
                n = con.execute(f'select count(*) from (select {cols} from {x}.{schema}."{table}" except all '
                                f'select {cols} from {y}.{schema}."{table}")').fetchone()[0]
                if n:
                    problems.append(f"{table}: {n} rows in {x} not in {y}")
        return problems
    finally:
        con.close()


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
