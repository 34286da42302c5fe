"""The project's Dagster instance settings and its event log storage (dagster_project/event_log.py):
the same history as Dagster's own SQLite storage, with connections kept between events."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from dagster_project.event_log import MAX_ENGINES, PooledSqliteEventLogStorage
from dagster_project.instance_settings import MARKER, _UNMARKED, dagster_yaml, ensure_dagster_yaml


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset_check(asset=numbers)
def numbers_are_positive(numbers: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(n > 0 for n in numbers))


@pytest.fixture
def project_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    ensure_dagster_yaml(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_settings_are_written_replaced_when_older_and_kept_when_the_users(tmp_path):
    home = tmp_path / "home"
    conf = ensure_dagster_yaml(home)
    assert conf.read_text() == dagster_yaml(home) and conf.read_text().startswith(MARKER)
    for older in (*_UNMARKED, "", "# geo-warehouse instance settings v1\ntelemetry:\n  enabled: false\n"):
        conf.write_text(older)
        ensure_dagster_yaml(home)
        assert conf.read_text() == dagster_yaml(home), older
    own = "telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 3\n"
    conf.write_text(own)
    ensure_dagster_yaml(home)
    assert conf.read_text() == own


def test_a_run_stores_the_same_history_that_dagster_default_storage_reads(project_home):
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        results = [dg.materialize([numbers, numbers_are_positive], instance=instance) for _ in range(3)]
        assert all(r.success for r in results)
        stored = {r.run_id: [e.dagster_event_type for e in instance.all_logs(r.run_id)] for r in results}
        latest = instance.get_latest_materialization_event(dg.AssetKey("numbers"))
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "numbers_are_positive")])
    assert latest is not None and latest.run_id == results[-1].run_id
    assert next(iter(check.values())).run_id == results[-1].run_id

    plain = SqliteEventLogStorage(str(project_home / "history" / "runs"))
    try:
        for run_id, types in stored.items():
            assert [r.event_log_entry.dagster_event_type for r in plain.get_records_for_run(run_id).records] == types
            assert dg.DagsterEventType.ASSET_MATERIALIZATION in types
            assert dg.DagsterEventType.ASSET_CHECK_EVALUATION in types
        assert plain.get_latest_materialization_events([dg.AssetKey("numbers")])[dg.AssetKey("numbers")].run_id \
            == results[-1].run_id
    finally:
        plain.dispose()


def test_connections_are_kept_for_a_few_shards_and_closed_on_wipe(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    try:
        for i in range(MAX_ENGINES + 5):
            with storage.run_connection(f"run-{i}") as conn:
                conn.exec_driver_sql("select 1")
        with storage.index_connection() as conn:
            conn.exec_driver_sql("select 1")
        assert len(storage._engines) <= MAX_ENGINES
        assert "index" in storage._engines and f"run-{MAX_ENGINES + 4}" in storage._engines
        storage.wipe()
        assert set(storage._engines) <= {"index"}  # the wipe itself empties the index shard
        assert not [p for p in (tmp_path / "runs").glob("run-*.db")]
    finally:
        storage.dispose()


def test_a_forked_child_opens_its_own_connections(tmp_path):
    """A child made by fork() must not share its parent's SQLite connection (both would write
    through one file handle): the at-fork hook forgets the engines in the child."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    code = f"""
import os, sys
from dagster_project.event_log import PooledSqliteEventLogStorage
s = PooledSqliteEventLogStorage({str(tmp_path / 'runs')!r})
with s.index_connection() as c:
    c.exec_driver_sql("select 1")
parent = s._engines["index"]
pid = os.fork()
if pid == 0:
    ok = not s._engines
    with s.index_connection() as c:
        c.exec_driver_sql("select 1")
    ok = ok and s._engines["index"] is not parent
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
with s.index_connection() as c:
    c.exec_driver_sql("select 1")
assert s._engines["index"] is parent
sys.exit(os.waitstatus_to_exitcode(status))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
