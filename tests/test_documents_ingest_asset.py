"""The ingest_documents asset and its every_file_accounted_for check, materialized alone (no dbt):
the input folder is validated before any work, and the check walks the folder the run read."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from dagster_project.assets import documents
from dagster_project.resources import PipelineDuckDB
from support import HIDDEN_FILE, SEED_FILES, SEEDS_DIR, write_bad_files


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


def _check(db: PipelineDuckDB) -> dg.AssetCheckResult:
    return documents.every_file_accounted_for(duckdb=db)


def _failure(result) -> str:
    failure = next(e for e in result.all_events if e.is_step_failure)
    return failure.event_specific_data.error.to_string()


def _config(folder) -> dict:
    return {"ops": {"ingest_documents": {"config": {"documents_dir": str(folder)}}}}


@pytest.fixture
def other(tmp_path):
    """A folder that is not $DOCUMENTS_DIR: the seeds, an empty file, an extra article, a hidden file."""
    folder = tmp_path / "other"
    shutil.copytree(SEEDS_DIR, folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "extra.txt").write_text((SEEDS_DIR / SEED_FILES[3]).read_text(encoding="utf-8")[:2000])
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return folder


def test_empty_documents_dir_fails_before_any_work(tmp_path, monkeypatch):
    """Before: DOCUMENTS_DIR="" meant the working directory, and the repository was ingested."""
    monkeypatch.setenv("DOCUMENTS_DIR", "")
    result, db = _ingest(tmp_path)
    assert not result.success
    message = _failure(result)
    assert "DOCUMENTS_DIR is set but empty" in message
    assert not (tmp_path / "pipeline.duckdb").exists()  # nothing was written


def test_missing_folder_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCUMENTS_DIR", str(tmp_path / "nope"))
    result, _ = _ingest(tmp_path)
    assert not result.success
    assert "does not exist" in _failure(result)


def test_empty_run_config_folder_fails_naming_the_run_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCUMENTS_DIR", str(SEEDS_DIR))
    result, _ = _ingest(tmp_path, _config(""))
    assert not result.success
    assert "run config ops.ingest_documents.config.documents_dir is set but empty" in _failure(result)


def test_check_walks_the_run_config_folder(tmp_path, monkeypatch, other):
    """The scenario of the strict xfail test_assets.py::test_file_check_follows_the_run_config_folder,
    plus a hidden file: the check counts the folder the run read, not $DOCUMENTS_DIR."""
    monkeypatch.setenv("DOCUMENTS_DIR", str(SEEDS_DIR))
    result, db = _ingest(tmp_path, _config(other))
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed, evaluation.metadata
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert meta["folder"] == str(other.resolve())
    assert (meta["files"], meta["raw"], meta["quarantined"]) == (8, 6, 2)
    assert meta["missing"] == meta["in_both"] == meta["unexpected"] == []
    runs = db.read_table("ingest_runs").row(0, named=True)
    assert (runs["folder"], runs["files"], runs["raw_documents"], runs["quarantined_documents"]) == (
        str(other.resolve()), 8, 6, 2)
    mat = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert mat["raw_documents"]["folder"].value == str(other.resolve())
    assert mat["quarantined_documents"]["reasons"].value == {"empty": 1, "hidden": 1}


def test_check_fails_naming_a_file_in_neither_table(tmp_path, monkeypatch, other):
    monkeypatch.setenv("DOCUMENTS_DIR", str(other))
    result, db = _ingest(tmp_path)
    assert result.success
    (other / "sub").mkdir()
    (other / "sub" / "late.txt").write_text("Arrived after the ingest.\n")
    (other / ".late_hidden").write_text("hidden files are counted too\n")
    evaluation = _check(db)
    assert not evaluation.passed
    assert evaluation.metadata["missing"].value == [".late_hidden", "sub/late.txt"]


def test_check_fails_naming_a_file_in_both_tables_or_gone(tmp_path, monkeypatch, other):
    monkeypatch.setenv("DOCUMENTS_DIR", str(other))
    _, db = _ingest(tmp_path)
    with db.connect() as con:
        con.execute("insert into raw.quarantined_documents select source_file, size_bytes, content_sha256, "
                    "'duplicate', 'test', 'ingest', ingested_at from raw.raw_documents where source_file = ?",
                    [SEED_FILES[0]])
    (other / "extra.txt").unlink()
    evaluation = _check(db)
    assert not evaluation.passed
    assert evaluation.metadata["in_both"].value == [SEED_FILES[0]]
    assert evaluation.metadata["unexpected"].value == ["extra.txt"]


def test_check_ignores_rows_of_the_normalize_stage(tmp_path, monkeypatch, other):
    """The normalizer will add stage 'normalize' rows for files that are also raw documents."""
    monkeypatch.setenv("DOCUMENTS_DIR", str(other))
    _, db = _ingest(tmp_path)
    with db.connect() as con:
        con.execute("insert into raw.quarantined_documents select source_file, size_bytes, content_sha256, "
                    "'no_text', 'normalized to nothing', 'normalize', ingested_at from raw.raw_documents limit 1")
    assert _check(db).passed


def test_check_without_ingest_runs_fails_saying_what_to_do(tmp_path):
    db = PipelineDuckDB(path=str(tmp_path / "pipeline.duckdb"))
    with db.connect() as con:
        con.execute("create schema raw")
    evaluation = _check(db)
    assert not evaluation.passed
    assert "materialize ingest_documents" in evaluation.metadata["error"].value


def test_env_folder_with_the_shared_bad_files(tmp_path, monkeypatch):
    """test_assets.py::test_ingest_asset_with_env_folder with the hidden file now accounted for."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS_DIR, folder)
    expected = write_bad_files(folder)
    assert expected[HIDDEN_FILE] == "hidden"
    monkeypatch.setenv("DOCUMENTS_DIR", str(folder))
    result, db = _ingest(tmp_path)
    assert result.success
    raw, bad = db.read_table("raw_documents"), db.read_table("quarantined_documents")
    assert set(raw["source_file"]) == {*SEED_FILES, *(k for k, v in expected.items() if v is None)}
    assert dict(zip(bad["source_file"], bad["reason"])) == {k: v for k, v in expected.items() if v}
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata["files"].value == len(SEED_FILES) + len(expected)
    mat = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert mat["quarantined_documents"]["reasons"].value == {"binary": 1, "duplicate": 1, "empty": 1, "hidden": 1}
    assert set(raw.columns) >= {"decode_errors", "content_type", "modified_at"}
    assert set(bad["stage"]) == {"ingest"}
