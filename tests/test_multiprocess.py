"""The Python part of the asset graph (files -> raw tables: ingest, normalize, gazetteer,
mentions, figures, dates, sentences, claims, event reports, events, and their asset checks)
run with Dagster's multiprocess executor gives the same raw tables as an in-process run.

This is the local stand-in for the executors of docs/beyond-one-machine.md: every step runs in
its own process, which rebuilds the job from this file (a reconstructable job) and its
resources from the environment, and the run's events go through a persistent instance (a
temporary DAGSTER_HOME). Two steps run at a time (the four extraction stages after normalize
run side by side); they share the one pipeline DuckDB file, each waiting for the file's lock
while the other holds it (PipelineDuckDB.lock_wait_seconds), so DuckDB's one-writer rule holds.
dbt is left out: it is one step either way, and it would double the test's time.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

TESTS_DIR = Path(__file__).resolve().parent
SEEDS_DIR = TESTS_DIR.parent / "seeds"

# run-time values, not content: they differ between any two runs
VOLATILE_COLUMNS = {"run_id", "ingested_at", "quarantined_at"}


def python_assets():
    from dagster_project.assets import documents, events, extraction

    assets = dg.load_assets_from_modules([documents, extraction, events])
    checks = [documents.every_file_accounted_for, documents.every_document_normalized_or_quarantined]
    return assets, checks


def python_assets_job() -> dg.JobDefinition:
    """The job each step process rebuilds (module-level, so that it is reconstructable; the
    step processes import this file as the module `test_multiprocess` from tests/): every
    Python asset and check, the multiprocess executor with two processes, the pipeline
    database of $DUCKDB_PATH."""
    from dagster_project.resources import PipelineDuckDB

    assets, checks = python_assets()
    defs = dg.Definitions(
        assets=assets, asset_checks=checks,
        resources={"duckdb": PipelineDuckDB(path=os.environ["DUCKDB_PATH"], lock_wait_seconds=120)},
        # spawn (the default start method), not forkserver with the asset modules preloaded: a
        # process forked after polars has started its thread pool hangs at the first polars call
        jobs=[dg.define_asset_job("python_assets", selection=dg.AssetSelection.all(),
                                  executor_def=dg.multiprocess_executor.configured({"max_concurrent": 2}))],
    )
    return defs.resolve_job_def("python_assets")


def raw_tables(path: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select table_name, list(column_name order by column_index) from duckdb_columns() "
                           "where schema_name = 'raw' group by 1 order by 1").fetchall()
    return {table: [c for c in columns if c not in VOLATILE_COLUMNS] for table, columns in rows}


def differences(a: Path, b: Path) -> dict[str, tuple[int, int, int]]:
    """Per raw table of `a`: (rows, rows only in a, rows only in b), run-time columns aside."""
    tables = raw_tables(a)
    assert tables.keys() == raw_tables(b).keys()
    out = {}
    with duckdb.connect(str(a), read_only=True) as con:
        con.execute(f"attach '{b}' as other (read_only)")
        for table, columns in tables.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            (n,) = con.execute(f"select count(*) from raw.{table}").fetchone()
            (only_a,) = con.execute(f"select count(*) from (select {cols} from raw.{table} except all "
                                    f"select {cols} from other.raw.{table})").fetchone()
            (only_b,) = con.execute(f"select count(*) from (select {cols} from other.raw.{table} except all "
                                    f"select {cols} from raw.{table})").fetchone()
            out[table] = (n, only_a, only_b)
    return out


def test_multiprocess_run_gives_the_raw_tables_of_an_in_process_run(tmp_path, monkeypatch):
    from dagster_project.resources import PipelineDuckDB

    docs = tmp_path / "docs"
    shutil.copytree(SEEDS_DIR, docs)
    (docs / "copy_of_first.txt").write_bytes(next(p for p in sorted(docs.iterdir()) if p.is_file()).read_bytes())
    (docs / "empty.txt").write_bytes(b"")
    for name, value in {"DOCUMENTS_DIR": docs, "DUCKDB_PATH": tmp_path / "multi.duckdb",
                        "WAREHOUSE_PATH": tmp_path / "warehouse.duckdb", "DAGSTER_HOME": tmp_path / "home"}.items():
        monkeypatch.setenv(name, str(value))
    (tmp_path / "home").mkdir()

    # in-process, into another file
    assets, checks = python_assets()
    started = time.monotonic()
    single = dg.materialize([*assets, *checks], resources={"duckdb": PipelineDuckDB(path=str(tmp_path / "single.duckdb"))})
    in_process_seconds = time.monotonic() - started
    assert single.success

    # multiprocess: a persistent instance, and a job each step process can rebuild from this file
    job = dg.build_reconstructable_job("test_multiprocess", "python_assets_job",
                                       reconstructor_working_directory=str(TESTS_DIR))
    started = time.monotonic()
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        result = dg.execute_job(job, instance=instance)
        multi_seconds = time.monotonic() - started
        assert result.success, [(e.step_key, e.message, error.to_string() if error else None)
                                for e in result.all_events
                                if (error := getattr(e.event_specific_data, "error", None)) or e.is_failure]
        step_pids = {e.pid for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START}
        checks_run = [e.event_specific_data for e in result.all_events
                      if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    print(f"in-process {in_process_seconds:.1f} s, multiprocess {multi_seconds:.1f} s, {len(step_pids)} step processes")

    assert os.getpid() not in step_pids and len(step_pids) >= 10  # one process per step
    assert checks_run and all(c.passed for c in checks_run)
    diff = differences(tmp_path / "single.duckdb", tmp_path / "multi.duckdb")
    assert {"raw_documents", "normalized_documents", "actor_mentions", "statistics", "date_mentions", "sentences",
            "claims", "event_reports", "events", "quarantined_documents"} <= diff.keys()
    assert diff["normalized_documents"][0] > 0 and diff["actor_mentions"][0] > 0 and diff["events"][0] > 0
    assert diff["quarantined_documents"][0] == 2  # the copy and the empty file
    unequal = {table: d for table, d in diff.items() if d[1] or d[2]}
    assert not unequal, f"tables that differ (rows, only in-process, only multiprocess): {unequal}"


def test_lock_wait_waits_for_another_process_then_fails_with_the_lock_message(tmp_path):
    """What lets two step processes share the pipeline file: a connection that finds it locked
    retries until lock_wait_seconds have passed, then fails as without waiting."""
    import subprocess
    import sys

    from dagster_project.resources import PipelineDatabaseLocked, PipelineDuckDB

    db = tmp_path / "p.duckdb"

    def hold(seconds: float) -> subprocess.Popen:
        holder = subprocess.Popen(
            [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
                                   f"time.sleep({seconds}); c.close()"], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "ready"
        return holder

    holder = hold(1.5)
    try:
        started = time.monotonic()
        with PipelineDuckDB(path=str(db), lock_wait_seconds=60).connect() as con:
            assert con.execute("select 42").fetchone() == (42,)
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
    holder = hold(60)
    try:
        started = time.monotonic()
        with pytest.raises(PipelineDatabaseLocked):
            with PipelineDuckDB(path=str(db), lock_wait_seconds=0.5).connect():
                pass
        assert 0.5 <= time.monotonic() - started < 20
    finally:
        holder.kill()
        holder.wait()
