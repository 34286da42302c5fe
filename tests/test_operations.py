"""Running the pipeline like production: guards before any work, the publish guard against a
wiped warehouse, stale files of crashed runs, the pipeline database's lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import dagster as dg
import duckdb
import pytest

from dagster_project.paths import OutputPathError, check_output_paths


def test_warehouse_and_pipeline_database_must_differ(tmp_path):
    same = tmp_path / "w.duckdb"
    with pytest.raises(OutputPathError, match="WAREHOUSE_PATH and DUCKDB_PATH are both"):
        check_output_paths(same, same)


def test_the_pipeline_database_cannot_be_where_the_previous_snapshot_is_kept(tmp_path):
    with pytest.raises(OutputPathError, match="DUCKDB_PATH=.*previous snapshot.*set DUCKDB_PATH"):
        check_output_paths(tmp_path / "warehouse.duckdb", tmp_path / "warehouse.previous.duckdb")


def test_a_read_only_warehouse_path_is_found_before_any_work(tmp_path):
    target = tmp_path / "w.duckdb"
    target.write_bytes(b"")
    target.chmod(0o444)
    if os.access(target, os.W_OK):  # root ignores file modes
        pytest.skip("running as root: file modes do not stop writes")
    with pytest.raises(OutputPathError, match="WAREHOUSE_PATH=.* is read-only: set WAREHOUSE_PATH"):
        check_output_paths(target, tmp_path / "p.duckdb")


def test_a_folder_as_warehouse_path_is_an_error(tmp_path):
    with pytest.raises(OutputPathError, match="is a folder"):
        check_output_paths(tmp_path, tmp_path / "p.duckdb")


@pytest.mark.parametrize("value", ["lots", "2 gigabytes", "-1GB", "80%"])
def test_a_memory_limit_that_is_not_a_size_is_one_line_before_any_work(tmp_path, monkeypatch, value):
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", value)
    with pytest.raises(OutputPathError, match=r"^DUCKDB_MEMORY_LIMIT=.* is not a size: set it like 2GB") as info:
        check_output_paths(tmp_path / "w.duckdb", tmp_path / "p.duckdb")
    assert "\n" not in str(info.value)


def test_the_memory_limit_reaches_the_pipelines_connections_and_dbt(tmp_path, monkeypatch):
    """The pipeline's DuckDB connections and dbt's profile read the same setting, with the same
    default (DuckDB's own default is 80 % of the machine's memory)."""
    import yaml

    from dagster_project.paths import DEFAULT_DUCKDB_MEMORY_LIMIT
    from dagster_project.resources import PipelineDuckDB

    from support import REPO_ROOT

    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "p.duckdb"))
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "300MiB")
    with PipelineDuckDB(path=str(tmp_path / "p.duckdb")).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "300.0 MiB"
        assert con.execute("select current_setting('temp_directory')").fetchone()[0] == str(tmp_path / "p.duckdb.tmp")
    settings = yaml.safe_load((REPO_ROOT / "dbt" / "profiles.yml").read_text())["geo_warehouse"]["outputs"]["dev"][
        "settings"]
    assert settings["memory_limit"] == "{{ env_var('DUCKDB_MEMORY_LIMIT', '%s') }}" % DEFAULT_DUCKDB_MEMORY_LIMIT


def test_ingest_fails_before_any_work_on_bad_output_paths(tmp_path, monkeypatch):
    from dagster_project.assets.documents import ingest_documents
    from dagster_project.resources import PipelineDuckDB

    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "same.duckdb"))
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "same.duckdb"))
    result = dg.materialize([ingest_documents], resources={"duckdb": PipelineDuckDB(path=str(tmp_path / "same.duckdb"))},
                            raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "WAREHOUSE_PATH and DUCKDB_PATH are both" in failure.event_specific_data.error.to_string()
    assert not (tmp_path / "same.duckdb").exists()


def test_an_empty_input_folder_stops_the_run(tmp_path, monkeypatch):
    from dagster_project.assets.documents import ingest_documents
    from dagster_project.resources import PipelineDuckDB

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("DOCUMENTS_DIR", str(empty))
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "p.duckdb"))
    result = dg.materialize([ingest_documents], resources={"duckdb": PipelineDuckDB(path=str(tmp_path / "p.duckdb"))},
                            raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "holds no files" in failure.event_specific_data.error.to_string()


def _warehouse(path, documents: int):
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"create table marts.dim_document as select range as document_id from range({documents})")
    con.close()


def _publish(tmp_path, monkeypatch, new_docs: int, old_docs: int | None, allow: bool = False):
    from dagster_project.assets.warehouse import published_warehouse

    pipeline, target = tmp_path / "p.duckdb", tmp_path / "w.duckdb"
    _warehouse(pipeline, new_docs)
    if old_docs is not None:
        _warehouse(target, old_docs)
    monkeypatch.setenv("DUCKDB_PATH", str(pipeline))
    monkeypatch.setenv("WAREHOUSE_PATH", str(target))
    config = {"ops": {"published_warehouse": {"config": {"allow_document_loss": allow}}}}
    return dg.materialize([published_warehouse], run_config=config, raise_on_error=False), target


def test_publishing_a_warehouse_that_lost_most_documents_fails_with_the_counts(tmp_path, monkeypatch):
    result, target = _publish(tmp_path, monkeypatch, new_docs=0, old_docs=11)
    assert not result.success
    message = next(e for e in result.all_events if e.is_step_failure).event_specific_data.error.to_string()
    assert "the new warehouse has 0 documents, the published one 11" in message
    assert "allow_document_loss: true" in message
    with duckdb.connect(str(target), read_only=True) as con:  # unchanged
        assert con.execute("select count(*) from marts.dim_document").fetchone()[0] == 11


def test_an_intended_smaller_collection_publishes_with_the_run_config(tmp_path, monkeypatch):
    result, target = _publish(tmp_path, monkeypatch, new_docs=2, old_docs=11, allow=True)
    assert result.success
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_document").fetchone()[0] == 2


def test_a_moderate_change_and_a_first_publish_need_no_config(tmp_path, monkeypatch):
    result, _ = _publish(tmp_path, monkeypatch, new_docs=8, old_docs=11)
    assert result.success
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    first, _ = _publish(fresh, monkeypatch, new_docs=3, old_docs=None)
    assert first.success


def test_a_stale_wal_of_the_target_is_removed_before_the_swap(tmp_path, monkeypatch):
    from dagster_project.assets.warehouse import publish_snapshot

    pipeline, target = tmp_path / "p.duckdb", tmp_path / "w.duckdb"
    _warehouse(pipeline, 3)
    _warehouse(target, 3)
    (tmp_path / "w.duckdb.wal").write_bytes(b"left by a client that opened the file read-write")
    publish_snapshot(pipeline, target)
    assert not (tmp_path / "w.duckdb.wal").exists()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_document").fetchone()[0] == 3


def test_temporaries_of_dead_publishes_are_removed(tmp_path):
    from dagster_project.assets.warehouse import remove_stale_temporaries

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"w.duckdb.tmp-{dead.pid}-{time.time_ns()}"
    mine = tmp_path / f"w.duckdb.tmp-{os.getpid()}-{time.time_ns()}"
    stale.write_bytes(b"x")
    mine.write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path / "w.duckdb") == [stale.name]
    assert mine.exists() and not stale.exists()


def test_old_dbt_run_folders_are_pruned(tmp_path):
    from dagster_project.assets.warehouse import prune_dbt_runs

    folders = []
    for i in range(6):
        f = tmp_path / f"warehouse_models-{i:03d}"
        f.mkdir()
        os.utime(f, (1_000_000 + i, 1_000_000 + i))
        folders.append(f)
    prune_dbt_runs(folders[-1], keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name for f in folders[3:]]


def test_a_lock_on_the_pipeline_database_says_what_to_do(tmp_path):
    from dagster_project.resources import PipelineDatabaseLocked, PipelineDuckDB

    db = tmp_path / "p.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(PipelineDatabaseLocked) as err:
            with PipelineDuckDB(path=str(db)).connect():
                pass
        message = str(err.value)
        assert str(db) in message and f"PID {holder.pid}" in message
        assert "published snapshot" in message and "fuser" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_table_replaced_by_a_query_lands_with_the_rest_of_its_transaction_or_not_at_all(tmp_path):
    """extract_events rebuilds raw.event_reports inside DuckDB from a registered frame of keys,
    in the transaction that replaces raw.events: a failing query leaves both as they were."""
    import polars as pl

    from dagster_project.resources import PipelineDuckDB

    db = PipelineDuckDB(path=str(tmp_path / "p.duckdb"))
    db.apply(replaces={"rows": pl.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"]}),
                       "events": pl.DataFrame({"e": ["old"]})})
    keys = pl.DataFrame({"k": [1, 3], "key": ["x", "y"]})
    db.apply(replaces={"events": pl.DataFrame({"e": ["new"]})}, frames={"keys": keys},
             replace_queries={"linked": "select r.*, k.key from raw.rows r left join keys k using (k) order by r.k"})
    assert db.query("select * from raw.linked").rows() == [(1, "a", "x"), (2, "b", None), (3, "c", "y")]
    with pytest.raises(Exception, match="no_such_column"):
        db.apply(replaces={"events": pl.DataFrame({"e": ["newer"]})}, frames={"keys": keys},
                 replace_queries={"linked": "select no_such_column from raw.rows"})
    assert db.query("select * from raw.events").rows() == [("new",)]
    assert db.query("select count(*) from raw.linked").rows() == [(3,)]
