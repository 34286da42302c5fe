"""The thin asset layer without the whole pipeline: the DuckDB resource, atomic publication of the
snapshot, and the ingest asset with its asset check (materialized alone, no dbt)."""

from __future__ import annotations

import os
import shutil
import subprocess

import dagster as dg
import duckdb
import polars as pl
import pytest

from dagster_project.assets import documents
from dagster_project.assets.warehouse import PUBLISHED_STORAGE_VERSION, publish_snapshot
from dagster_project.resources import PipelineDuckDB
from support import SEED_FILES, SEEDS_DIR, duckdb_cli, query, write_bad_files


def make_source(path, marker: int = 1) -> None:
    """A small pipeline database with a raw schema (never published) and two marts tables."""
    con = duckdb.connect(str(path))
    con.execute("create schema raw; create schema marts")
    con.execute("create table raw.secret as select 42 as x")
    con.execute(f"create table marts.dim_document as select 'doc' || i as document_id, {marker} as build "
                f"from range(3) t(i)")
    con.execute("create table marts.dim_actor as select 'Taliban' as canonical_name, ['Taleban', 'Taliban'] as aliases")
    con.execute("comment on table marts.dim_actor is 'One row per actor; it''s the gazetteer'")
    con.close()


def test_replace_table_never_double_counts(tmp_path):
    db = PipelineDuckDB(path=str(tmp_path / "nested" / "pipeline.duckdb"))
    frame = pl.DataFrame({"document_id": ["a", "b"], "body_text": ["Kabul", "Доха"], "n": [1, 2]})
    assert db.replace_table("t", frame) == 2
    assert db.replace_table("t", frame) == 2
    assert db.read_table("t").equals(frame)
    assert db.replace_table("t", frame.head(1)) == 1
    assert db.read_table("t").height == 1


def test_publish_snapshot_copies_only_the_marts(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "published" / "warehouse.duckdb"
    make_source(source)
    assert publish_snapshot(source, target) == {"dim_actor": 1, "dim_document": 3}
    assert {r[0] for r in query(target, "select schema_name from duckdb_schemas() where database_name = "
                                        "current_database()")} >= {"marts"}
    assert query(target, "select count(*) from duckdb_tables() where schema_name = 'raw'") == [(0,)]
    assert query(target, "select comment from duckdb_tables() where table_name = 'dim_actor'") == [
        ("One row per actor; it's the gazetteer",)]
    assert query(target, "select aliases from marts.dim_actor") == [(["Taleban", "Taliban"],)]
    assert [p.name for p in target.parent.iterdir()] == ["warehouse.duckdb"]


def test_publish_snapshot_replaces_atomically_under_an_open_reader(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    make_source(source, marker=1)
    publish_snapshot(source, target)
    old_inode = os.stat(target).st_ino
    reader = duckdb.connect(str(target), read_only=True)
    try:
        source.unlink()
        make_source(source, marker=2)
        publish_snapshot(source, target)
        assert os.stat(target).st_ino != old_inode
        assert reader.execute("select max(build) from marts.dim_document").fetchone() == (1,)
    finally:
        reader.close()
    assert query(target, "select max(build) from marts.dim_document") == [(2,)]


def test_publish_snapshot_failure_keeps_the_old_file(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    make_source(source)
    publish_snapshot(source, target)
    with pytest.raises(duckdb.Error):
        publish_snapshot(tmp_path / "missing.duckdb", target)
    assert query(target, "select count(*) from marts.dim_document") == [(3,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.duckdb", "warehouse.duckdb"]


@pytest.mark.skipif(duckdb_cli() is None, reason="DuckDB 1.4 CLI (duckdb-cli==1.4.4.post2) not installed")
def test_published_storage_version_opens_in_duckdb_1_4(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    make_source(source)
    publish_snapshot(source, target)
    assert PUBLISHED_STORAGE_VERSION.startswith("v1.4")
    proc = subprocess.run([str(duckdb_cli()), "-readonly", "-csv", "-noheader", str(target), "-c",
                           "select count(*) from marts.dim_document"], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "3"), proc.stderr


def test_publish_snapshot_with_a_quote_in_the_path(tmp_path):
    """publish_snapshot builds `attach '{source}' as src` and `attach '{tmp}' as dst` with f-strings, so
    WAREHOUSE_PATH=/home/o'brien/warehouse.duckdb (or such a DUCKDB_PATH) raises
    duckdb.ParserException: syntax error at or near "brien". Quote the literal ('' for ') or pass the
    path as a prepared-statement parameter."""
    folder = tmp_path / "o'brien"
    folder.mkdir()
    make_source(folder / "pipeline.duckdb")
    assert publish_snapshot(folder / "pipeline.duckdb", folder / "warehouse.duckdb") == {
        "dim_actor": 1, "dim_document": 3}


# ---------------------------------------------------------------------------
# The ingest asset and its check, materialized alone
# ---------------------------------------------------------------------------


def _ingest(tmp_path, run_config=None):
    db = PipelineDuckDB(path=str(tmp_path / "pipeline.duckdb"))
    result = dg.materialize(
        [documents.ingest_documents, documents.every_file_accounted_for],
        instance=dg.DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}}),
        resources={"duckdb": db},
        run_config=run_config,
        raise_on_error=False,
    )
    return result, db


def test_ingest_asset_with_env_folder(tmp_path, monkeypatch):
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS_DIR, folder)
    expected = write_bad_files(folder)
    monkeypatch.setenv("DOCUMENTS_DIR", str(folder))
    result, db = _ingest(tmp_path)
    assert result.success
    raw, bad = db.read_table("raw_documents"), db.read_table("quarantined_documents")
    assert set(raw["source_file"]) == {*SEED_FILES, *(k for k, v in expected.items() if v is None)}
    assert dict(zip(bad["source_file"], bad["reason"])) == {k: v for k, v in expected.items() if v}
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata["files"].value == len(SEED_FILES) + len(expected)
    mat = {e.asset_key.to_user_string(): e.materialization.metadata
           for e in result.get_asset_materialization_events()}
    assert mat["raw_documents"]["dagster/row_count"].value == raw.height
    assert mat["quarantined_documents"]["reasons"].value == {"empty": 1, "binary": 1, "duplicate": 1, "hidden": 1}


def test_ingest_asset_fails_clearly_on_a_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCUMENTS_DIR", str(tmp_path / "nope"))
    result, _ = _ingest(tmp_path)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "does not exist" in failure.event_specific_data.error.to_string()


def test_ingest_asset_reads_the_run_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "other"
    shutil.copytree(SEEDS_DIR, folder)
    (folder / "empty.txt").write_bytes(b"")
    monkeypatch.setenv("DOCUMENTS_DIR", str(SEEDS_DIR))
    result, db = _ingest(tmp_path, {"ops": {"ingest_documents": {"config": {"documents_dir": str(folder)}}}})
    assert db.read_table("quarantined_documents")["source_file"].to_list() == ["empty.txt"]
    assert db.read_table("raw_documents").height == 5


def test_file_check_follows_the_run_config_folder(tmp_path, monkeypatch):
    """README: 'Other documents: ... or run config ops: {ingest_documents: {config: {documents_dir: ...}}}'.
    With that run config the asset reads the configured folder, and the check counts the files of
    that folder (recorded in raw.ingest_runs), not those of $DOCUMENTS_DIR."""
    folder = tmp_path / "other"
    shutil.copytree(SEEDS_DIR, folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "extra.txt").write_text((SEEDS_DIR / SEED_FILES[3]).read_text(encoding="utf-8")[:2000])
    monkeypatch.setenv("DOCUMENTS_DIR", str(SEEDS_DIR))
    result, _ = _ingest(tmp_path, {"ops": {"ingest_documents": {"config": {"documents_dir": str(folder)}}}})
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed, evaluation.metadata
