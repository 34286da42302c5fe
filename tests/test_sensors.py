"""The input-folder sensor and the daily schedule (dagster_project/sensors.py).

The sensor is evaluated directly with `dg.build_sensor_context`, on a temporary folder that
DOCUMENTS_DIR points to; no run is launched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.sensors import (
    JOB_NAME,
    daily_build_warehouse,
    documents_folder_sensor,
    folder_fingerprint,
    parse_cursor,
)


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("Suicide bomber kills 20 in Peshawar.\n")
    (docs / "sub" / "b.html").write_text("<html><body><p>Talks in Doha.</p></body></html>")
    monkeypatch.setenv("DOCUMENTS_DIR", str(docs))
    return docs


def tick(cursor: str | None = None):
    """One evaluation: (result, cursor after it)."""
    context = dg.build_sensor_context(cursor=cursor)
    result = documents_folder_sensor(context)
    return result, context.cursor


def requested(cursor: str | None) -> tuple[dg.RunRequest, str]:
    result, cursor = tick(cursor)
    assert isinstance(result, dg.RunRequest), result
    return result, cursor


def skipped(cursor: str | None) -> dg.SkipReason:
    result, after = tick(cursor)
    assert isinstance(result, dg.SkipReason), result
    assert after == cursor  # a skip never moves the cursor
    return result


def bump_mtime(path: Path, seconds: int = 10) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def test_first_evaluation_requests_a_run_of_the_whole_graph(folder):
    request, cursor = requested(None)
    assert request.run_key and request.run_key.startswith("documents-1-")
    assert request.run_config == {"ops": {"ingest_documents": {"config": {"documents_dir": str(folder.resolve())}}}}
    assert request.tags["geo_warehouse/files"] == "2"
    assert parse_cursor(cursor)["files"] == 2


def test_nothing_new_is_a_skip(folder):
    _, cursor = requested(None)
    reason = skipped(cursor)
    assert "no file added, changed or removed" in reason.skip_message
    skipped(cursor)  # and again


def test_new_file_requests_a_run_with_a_new_run_key(folder):
    first, cursor = requested(None)
    (folder / "c.txt").write_text("Air strike on Kandahar.\n")
    second, cursor2 = requested(cursor)
    assert second.run_key != first.run_key and second.run_key.startswith("documents-2-")
    assert parse_cursor(cursor2)["files"] == 3
    skipped(cursor2)


def test_changed_file_requests_a_run(folder):
    _, cursor = requested(None)
    bump_mtime(folder / "a.txt")  # same size, later modification time
    _, cursor = requested(cursor)
    (folder / "a.txt").write_text("Suicide bomber kills 21 in Peshawar, police say.\n")  # another size
    _, cursor = requested(cursor)
    skipped(cursor)


def test_deleted_file_requests_a_run(folder):
    _, cursor = requested(None)
    (folder / "sub" / "b.html").unlink()
    request, cursor = requested(cursor)
    assert request.tags["geo_warehouse/files"] == "1"
    skipped(cursor)


def test_renamed_file_requests_a_run(folder):
    _, cursor = requested(None)
    (folder / "a.txt").rename(folder / "sub" / "a.txt")
    requested(cursor)


def test_hidden_files_and_folders_are_ignored(folder):
    _, cursor = requested(None)
    (folder / ".DS_Store").write_bytes(b"\0\1")
    (folder / "sub" / ".a.txt.swp").write_text("swap")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    skipped(cursor)
    assert folder_fingerprint(folder).files == 2


def test_a_folder_back_in_an_earlier_state_still_gets_its_run(folder):
    """Dagster never launches a run key twice: the key carries the request's sequence number,
    so adding a file and removing it again is two runs, not one."""
    first, cursor = requested(None)
    (folder / "c.txt").write_text("x\n")
    second, cursor = requested(cursor)
    (folder / "c.txt").unlink()
    third, cursor = requested(cursor)
    assert len({first.run_key, second.run_key, third.run_key}) == 3
    assert first.run_key.split("-")[-1] == third.run_key.split("-")[-1]  # same fingerprint


def test_cursor_round_trips(folder):
    _, cursor = requested(None)
    state = parse_cursor(cursor)
    assert set(state) == {"fingerprint", "files", "folder", "requests"}
    assert state["fingerprint"] == folder_fingerprint(folder).digest
    assert state["folder"] == str(folder.resolve()) and state["requests"] == 1
    # serialised and read back (as the daemon stores it), the sensor sees the same state
    again = json.dumps(json.loads(cursor))
    skipped(again)
    assert parse_cursor(None) == {} and parse_cursor("not json") == {} and parse_cursor("[1]") == {}
    # a foreign or lost cursor just means a run is requested
    requested("not json")


def test_another_folder_is_a_change(folder, tmp_path, monkeypatch):
    _, cursor = requested(None)
    other = tmp_path / "other"
    other.mkdir()
    for p in folder.rglob("*"):
        if p.is_file():
            target = other / p.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(p.read_bytes())
            os.utime(target, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns))
    assert folder_fingerprint(other).digest == folder_fingerprint(folder).digest
    monkeypatch.setenv("DOCUMENTS_DIR", str(other))
    request, _ = requested(cursor)
    assert request.run_config["ops"]["ingest_documents"]["config"]["documents_dir"] == str(other.resolve())


def test_unusable_or_empty_folder_is_a_skip_not_a_failing_run(folder, tmp_path, monkeypatch):
    _, cursor = requested(None)
    monkeypatch.setenv("DOCUMENTS_DIR", str(tmp_path / "missing"))
    assert "does not exist" in skipped(cursor).skip_message
    monkeypatch.setenv("DOCUMENTS_DIR", "")
    assert "set but empty" in skipped(cursor).skip_message
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden").write_text("x")
    monkeypatch.setenv("DOCUMENTS_DIR", str(empty))
    assert "holds no files" in skipped(cursor).skip_message


def test_sensor_and_schedule_are_stopped_by_default():
    assert documents_folder_sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert daily_build_warehouse.default_status == dg.DefaultScheduleStatus.STOPPED
    assert daily_build_warehouse.cron_schedule == "0 3 * * *"


def test_sensor_and_schedule_load_in_definitions_and_target_the_whole_graph():
    from dagster_project.definitions import defs

    sensor = defs.get_sensor_def("documents_folder_sensor")
    schedule = defs.get_schedule_def("daily_build_warehouse")
    job = defs.resolve_job_def(JOB_NAME)
    assert sensor.job_name == JOB_NAME and schedule.job_name == JOB_NAME
    materializable = set(defs.resolve_asset_graph().materializable_asset_keys)
    assert materializable and set(job.asset_layer.asset_graph.materializable_asset_keys) == materializable
    # the run config the sensor sends is valid for that job
    run_config = {"ops": {"ingest_documents": {"config": {"documents_dir": "/tmp"}}}}
    from dagster._config import process_config

    assert process_config(job.run_config_schema.config_type, run_config).success
