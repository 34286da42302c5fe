"""DuckDB access for the Python assets."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import dagster as dg
import duckdb
import polars as pl
from dagster_dbt import DbtCliResource

# No network at run time: never let DuckDB download an extension.
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def working_config() -> dict[str, str | bool]:
    """DUCKDB_CONFIG for the connections that do the pipeline's work: DuckDB's memory capped at
    DUCKDB_MEMORY_LIMIT (else it takes up to 80 % of the machine), spilling beside the pipeline
    database."""
    from dagster_project.paths import duckdb_memory_limit, duckdb_spill_dir

    return {**DUCKDB_CONFIG, "memory_limit": duckdb_memory_limit(), "temp_directory": str(duckdb_spill_dir())}


class PipelineDatabaseLocked(RuntimeError):
    """Another process holds the pipeline database."""


def locked_error(path: str, exc: Exception) -> Exception:
    """DuckDB's lock error, told in terms of this pipeline: which file, who holds it, where
    analysts should be instead (DuckDB's own hint, to open the file read-only, is the wrong
    advice for whoever runs the pipeline)."""
    import re

    from dagster_project.paths import warehouse_path

    message = str(exc)
    if "lock" not in message.lower():
        return exc
    holder = re.search(r"held in (.+?) \(PID (\d+)\)", message)
    who = f"{holder.group(1)} (PID {holder.group(2)})" if holder else "another process"
    return PipelineDatabaseLocked(
        f"The pipeline database {path} is locked by {who}. Only the pipeline may open it: analysts and BI "
        f"tools belong on the published snapshot {warehouse_path()} (read-only). Find the holder with "
        f"`fuser {path}` or `lsof {path}`, close it, and run again; a second pipeline run waits in the run queue.")


class PipelineDuckDB(dg.ConfigurableResource):
    """The pipeline database (`DUCKDB_PATH`). Connections are short-lived so that the
    dbt subprocess can take the single writer lock as soon as Python is done."""

    path: str
    lock_wait_seconds: float = 0.0
    """How long to wait for the file's lock when another process holds it. 0 (the default) fails
    at once with the message of `locked_error`. Set it when the steps of one run go to several
    processes (the multiprocess executor): each step's connections are short, so the others
    wait a moment for the lock while the CPU work runs in parallel; DuckDB's one-writer rule holds."""

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        import time
        from pathlib import Path

        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_seconds
        pause = 0.02
        while True:
            try:
                con = duckdb.connect(self.path, read_only=read_only, config=working_config())
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise locked_error(self.path, exc) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.25)
        try:
            yield con
        finally:
            con.close()

    def replace_table(self, name: str, frame: pl.DataFrame, schema: str = "raw") -> int:
        """Replace `schema.name` with `frame` in one transaction: re-runs never double-count."""
        with self.connect() as con:
            con.execute(f"create schema if not exists {schema}")
            con.register("incoming", frame.to_arrow())
            con.execute("begin")
            con.execute(f"create or replace table {schema}.{name} as select * from incoming")
            con.execute("commit")
            con.unregister("incoming")
        return frame.height

    def read_table(self, name: str, schema: str = "raw") -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return con.sql(f"select * from {schema}.{name}").pl()

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        """A read-only query, as a polars frame."""
        with self.connect(read_only=True) as con:
            return con.execute(sql, params or []).pl()

    def has_table(self, name: str, schema: str = "raw") -> bool:
        with self.connect(read_only=True) as con:
            return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                                    [schema, name]).fetchone()[0])

    def apply(self, deletes: dict[str, tuple[str, list]] | None = None,
              inserts: dict[str, pl.DataFrame] | None = None, replaces: dict[str, pl.DataFrame] | None = None,
              schema: str = "raw", replace_queries: dict[str, str] | None = None,
              frames: dict[str, pl.DataFrame] | None = None) -> None:
        """One transaction: for each table, delete the rows whose `column` is in `values`, then
        append the new rows (creating the table from the frame's schema the first time), and
        replace whole tables, from a frame or from a query (`replace_queries`, which can read
        the `frames`, registered under their names, and the database's own tables: a large
        table is then rebuilt inside DuckDB instead of through Python). A crash leaves either
        all of it or none: the incremental stages compare their input with their output at the
        next run, so nothing is lost or doubled."""
        deletes, inserts, replaces = deletes or {}, inserts or {}, replaces or {}
        replace_queries, frames = replace_queries or {}, frames or {}
        with self.connect() as con:
            con.execute(f"create schema if not exists {schema}")
            con.execute("begin")
            try:
                for table, (column, values) in deletes.items():
                    if not values or not _exists(con, schema, table):
                        continue
                    con.register("_keys", pl.DataFrame({"k": values}).to_arrow())
                    con.execute(f"delete from {schema}.{table} where {column} in (select k from _keys)")
                    con.unregister("_keys")
                for table, frame in inserts.items():
                    con.register("_incoming", frame.to_arrow())
                    if _exists(con, schema, table):
                        con.execute(f"insert into {schema}.{table} by name select * from _incoming")
                    else:
                        con.execute(f"create table {schema}.{table} as select * from _incoming")
                    con.unregister("_incoming")
                for table, frame in replaces.items():
                    con.register("_incoming", frame.to_arrow())
                    con.execute(f"create or replace table {schema}.{table} as select * from _incoming")
                    con.unregister("_incoming")
                for name, frame in frames.items():
                    con.register(name, frame.to_arrow())
                for table, sql in replace_queries.items():
                    con.execute(f"create or replace table {schema}.{table} as {sql}")
                for name in frames:
                    con.unregister(name)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


class PipelineDbt(DbtCliResource):
    """dagster-dbt's `DbtCliResource`, without the in-process dbt adapter it builds before every
    `dbt build` (2-3 s of dbt's config and adapter loading, measured under py-spy). That adapter
    serves only `.fetch_row_counts()` and `.fetch_column_metadata()`, which this project does not
    call: dbt holds the pipeline database's single writer lock while it runs, so the row counts
    and column schemas are read after it has finished (assets/warehouse.py,
    `with_relation_metadata`)."""

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 (the parent's signature)
        return None


def dbt_resource() -> PipelineDbt:
    from dagster_project.paths import dbt_executable
    from dagster_project.project import dbt_project

    return PipelineDbt(project_dir=dbt_project(), dbt_executable=dbt_executable())
