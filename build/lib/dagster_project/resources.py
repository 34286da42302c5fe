"""DuckDB access for the Python assets."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import dagster as dg
import duckdb
import polars as pl

# No network at run time: never let DuckDB download an extension.
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class PipelineDuckDB(dg.ConfigurableResource):
    """The pipeline database (`DUCKDB_PATH`). Connections are short-lived so that the
    dbt subprocess can take the single writer lock as soon as Python is done."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        from pathlib import Path

        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only, config=DUCKDB_CONFIG)
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
