"""Session fixtures: the whole warehouse, built once per test session in a temporary folder.

`built_warehouse` materializes every asset and asset check of
`dagster_project.definitions.defs` with `dagster.materialize`, on a temporary copy of
seeds/ plus a few bad files, into a temporary pipeline database and warehouse file
(DOCUMENTS_DIR, DUCKDB_PATH and WAREHOUSE_PATH point there for the whole session, and the
resources are also constructed explicitly with those paths, so the import order of
`dagster_project.definitions` never matters and the repository's data/ is never touched;
DBT_TARGET_PATH and DBT_LOG_PATH keep dbt's run artifacts out of dbt/target and dbt/logs).

`rebuilt_warehouse` materializes everything a second time, into the same paths, while
readers hold the published file open (a Python read-only connection that keeps querying,
the DuckDB 1.4 CLI when it is installed, and the BI clients of tests/clients.py: Superset's
SQLAlchemy + duckdb-engine, SQLAlchemy 2 + duckdb-sqlalchemy, Evidence's @duckdb/node-api, each
installed under .cache/ or skipped with the reason). The idempotency tests and the BI tests share
it, so the suite runs the full pipeline exactly twice.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clients import finish as finish_client, prepare_clients, read_line as read_client_line, start as start_client
from support import SEEDS_DIR, duckdb_cli, query, write_bad_files

RAW_TABLES = ("raw_documents", "quarantined_documents", "normalized_documents", "actor_gazetteer",
              "actor_mentions", "statistics", "date_mentions")


@dataclass
class WarehousePaths:
    root: Path
    documents_dir: Path
    pipeline_db: Path
    warehouse: Path
    expected_quarantine: dict[str, str]
    decoded_extras: list[str]


@dataclass
class Build:
    paths: WarehousePaths
    result: object  # dagster ExecuteInProcessResult
    started: float
    finished: float
    snapshot: Path  # copy of the published file taken right after this build
    raw_counts: dict[str, int]
    warehouse_inode: int
    readers: dict = field(default_factory=dict)


def _materialize_everything(pipeline_db: Path, run_config: dict | None = None):
    """Materialize all assets and asset checks of the code location, in process."""
    import dagster as dg
    from dagster_project.definitions import defs
    from dagster_project.resources import PipelineDuckDB, dbt_resource

    instance = dg.DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}})
    resources = {
        "duckdb": PipelineDuckDB(path=str(pipeline_db)),
        "dbt": dbt_resource(),
    }
    return dg.materialize([*defs.assets, *defs.asset_checks], instance=instance, resources=resources,
                          run_config=run_config, raise_on_error=False)


def _failure_summary(result) -> str:
    lines = []
    for event in result.all_events:
        if event.is_step_failure or event.is_run_failure:
            err = getattr(event.event_specific_data, "error", None)
            lines.append(f"{event.step_key}: {err.to_string() if err else event.message}")
    return "\n".join(lines) or "materialization failed (no step failure event)"


# the second build is a full refresh: every file read again and every stage redone (an
# incremental run of an unchanged folder would only re-run dbt), so the readers' tests see a
# new snapshot with new ingest times, and the idempotency tests compare two complete builds
FULL_REFRESH = {"ops": {"ingest_documents": {"config": {"full_refresh": True}}}}


def _run_build(paths: WarehousePaths, label: str, run_config: dict | None = None) -> Build:
    started = time.time()
    result = _materialize_everything(paths.pipeline_db, run_config)
    finished = time.time()
    if not result.success:
        pytest.fail(f"{label}: full materialization failed:\n{_failure_summary(result)}", pytrace=False)
    snapshot = paths.root / f"{label}_published_snapshot.duckdb"
    shutil.copyfile(paths.warehouse, snapshot)
    raw_counts = {t: query(paths.pipeline_db, f"select count(*) from raw.{t}")[0][0] for t in RAW_TABLES}
    return Build(paths, result, started, finished, snapshot, raw_counts, os.stat(paths.warehouse).st_ino)


@pytest.fixture(scope="session")
def warehouse_paths(tmp_path_factory) -> WarehousePaths:
    """Temporary input folder (seeds + bad files) and output paths, exported as env vars."""
    root = tmp_path_factory.mktemp("warehouse_build")
    documents = root / "documents"
    shutil.copytree(SEEDS_DIR, documents)
    expected = write_bad_files(documents)
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    paths = WarehousePaths(
        root=root,
        documents_dir=documents,
        pipeline_db=root / "pipeline" / "pipeline.duckdb",
        warehouse=root / "published" / "warehouse.duckdb",
        expected_quarantine={k: v for k, v in expected.items() if v},
        decoded_extras=[k for k, v in expected.items() if v is None],
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("DOCUMENTS_DIR", str(documents))
    mp.setenv("DUCKDB_PATH", str(paths.pipeline_db))
    mp.setenv("WAREHOUSE_PATH", str(paths.warehouse))
    mp.setenv("DAGSTER_HOME", str(dagster_home))
    # dbt's run artifacts and logs go to the temporary folder too, not into dbt/target and dbt/logs
    mp.setenv("DBT_TARGET_PATH", str(root / "dbt_target"))
    mp.setenv("DBT_LOG_PATH", str(root / "dbt_logs"))
    yield paths
    mp.undo()


@pytest.fixture(scope="session")
def built_warehouse(warehouse_paths) -> Build:
    """The whole pipeline, materialized once per session."""
    return _run_build(warehouse_paths, "first")


# A reader that opens the published file read-only once, then keeps querying it until it
# reads a line on stdin; it reports what it saw as JSON lines on stdout.
_READER = r"""
import json, sys, threading, time
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def snap():
    docs, last = con.execute("select count(*), max(ingested_at)::varchar from marts.dim_document").fetchone()
    return {"documents": docs, "ingested_at": last,
            "mentions": con.execute("select count(*) from marts.fct_actor_mention").fetchone()[0]}
print(json.dumps({"ready": snap()}), flush=True)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
times, errors = [], []
while not stop.is_set():
    try:
        con.execute("select count(*) from marts.fct_statistic join marts.dim_document using (document_id)").fetchone()
        times.append(time.time())
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    time.sleep(0.05)
print(json.dumps({"query_times": times, "errors": errors[:5], "final": snap()}), flush=True)
"""


def _wait_until_open(pid: int, path: Path, timeout: float = 20.0) -> None:
    """Wait until process `pid` holds `path` open (Linux /proc); elsewhere just wait a little."""
    fd_dir = Path(f"/proc/{pid}/fd")
    if not fd_dir.is_dir():
        time.sleep(2)
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        for fd in fd_dir.iterdir():
            try:
                if os.readlink(fd) == str(path):
                    return
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never opened {path}")


def _open_fd_targets(pid: int) -> list[str]:
    fd_dir = Path(f"/proc/{pid}/fd")
    if not fd_dir.is_dir():
        return []
    out = []
    for fd in fd_dir.iterdir():
        try:
            out.append(os.readlink(fd))
        except OSError:
            pass
    return out


@pytest.fixture(scope="session")
def rebuilt_warehouse(built_warehouse) -> Build:
    """A second full materialization (a full refresh) into the same paths while readers hold the published file."""
    paths = built_warehouse.paths
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(paths.warehouse)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cli = duckdb_cli()
    cli_proc = None
    bi_clients = prepare_clients()  # installs (once, under .cache/) before the build starts
    client_procs: dict[str, subprocess.Popen] = {}
    try:
        ready_line = reader.stdout.readline()
        if not ready_line:
            pytest.fail(f"reader subprocess did not start: {reader.stderr.read()}", pytrace=False)
        ready = json.loads(ready_line)["ready"]
        if cli is not None:
            cli_proc = subprocess.Popen([str(cli), "-readonly", "-csv", "-noheader", str(paths.warehouse)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
            _wait_until_open(cli_proc.pid, paths.warehouse)
        client_procs = {name: start_client(c, paths.warehouse) for name, c in bi_clients.items() if c.skip is None}
        client_ready = {name: read_client_line(proc, "ready") for name, proc in client_procs.items()}
        build = _run_build(paths, "second", FULL_REFRESH)
        fds_after = {"python": _open_fd_targets(reader.pid),
                     "cli": _open_fd_targets(cli_proc.pid) if cli_proc else [],
                     **{name: _open_fd_targets(proc.pid) for name, proc in client_procs.items()}}
        # The readers are still alive and still hold the old file: ask them now.
        out, err = reader.communicate("stop\n", timeout=60)
        report = json.loads(out.strip().splitlines()[-1])
        cli_report = None
        if cli_proc is not None:
            cli_out, cli_err = cli_proc.communicate(
                "select count(*), max(ingested_at)::varchar from marts.dim_document;\n.quit\n", timeout=60)
            cli_report = {"returncode": cli_proc.returncode, "stdout": cli_out, "stderr": cli_err}
        clients_report = {}
        for name, client in bi_clients.items():
            if client.skip is not None:
                clients_report[name] = {"skip": client.skip, "versions": client.versions}
            elif "error" in client_ready[name]:
                clients_report[name] = {"ready": client_ready[name], "error": client_ready[name]["error"]}
            else:
                clients_report[name] = {"ready": client_ready[name], **finish_client(client_procs[name])}
        build.readers = {"python": {"ready": ready, **report, "returncode": reader.returncode, "stderr": err},
                         "cli": cli_report, "open_fds_after_build": fds_after, "clients": clients_report}
        return build
    finally:
        for proc in (reader, cli_proc, *client_procs.values()):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
