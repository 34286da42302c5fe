"""`python -m dagster_project.cli build`: the whole pipeline, run the way production runs it, with
a console a person reads (`python3 tasks.py build` calls it).

The console gets one line per step (asset, multi-asset or asset check: what it wrote, its
quarantine by reason, what was new this run, its checks, its seconds), a start line and progress
lines for a step that runs longer than ten seconds (its own INFO log messages and, for dbt, models
and tests done), then the published marts with their row counts, the quarantined files with their reasons, and
where the full log is. Everything else (every Dagster event at DEBUG, dbt's output, warnings,
tracebacks) goes to that log file: `BUILD_LOG_DIR`, default `logs/` beside the pipeline database
(data/logs/build-<timestamp>.log); the newest KEEP_LOGS are kept. A failed step prints its error
in a line or two and the build exits 1; so does a failed asset check of error severity.

How it runs:

- In this process (`execute_in_process` of the job `build_warehouse`) with the project's
  instance (DAGSTER_HOME): the run, its events and materializations are in the UI's history.
- It does not go through the run queue, so it keeps the queue's promise (one run at a time on the
  single-writer pipeline database) itself: it waits for runs of the instance that are in
  progress (a run launched from the UI), and while it runs it is an in-progress run of the
  instance, which holds queued runs (max_concurrent_runs 1) until it is done. Two builds on the
  same pipeline database exclude each other with an flock on `<DUCKDB_PATH>.build.lock`, which the
  OS releases when a build dies, however it dies.
- A build that died (kill -9, out of memory, power loss) leaves its run STARTED in the instance
  and its PID in the lock file: the next build finds that process gone, marks the run failed,
  stops the processes the dead build left running (a dbt that would keep writing the pipeline
  database: they carry the run's id in their environment, GEO_WAREHOUSE_BUILD_RUN), removes the
  unfinished snapshot it left beside the published file, says so in one line, then runs. (Run
  monitoring cannot do this for runs of the default run launcher: it has no way to check their
  process.) The published file is never touched by a build that dies: it is replaced only by
  the rename of a finished snapshot (assets/warehouse.py), so it stays byte-identical.
- `--full` passes run config ops.ingest_documents.config.full_refresh: the raw tables are
  dropped and every file is read and every stage run again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from dagster_project.paths import REPO_ROOT, pipeline_db_path, warehouse_path

JOB_NAME = "build_warehouse"
KEEP_LOGS = 10
TAG_PID = "geo_warehouse/pid"
TAG_HOST = "geo_warehouse/host"
TAG_COMMAND = "geo_warehouse/command"
# a step running longer than this gets a start line; its progress every PROGRESS_SECONDS (growing)
ANNOUNCE_AFTER = 10.0
PROGRESS_SECONDS = 30.0
MESSAGE_EVERY = 10.0
# how often the console reads the run's new events: each read opens the SQLite event log, and at
# 0.25 s the polling took 8 % of a build's CPU (py-spy, docs/benchmark.md); a step's line comes
# at most this late
POLL_SECONDS = 1.0


# ---------------------------------------------------------------------------
# Log file and console
# ---------------------------------------------------------------------------


def log_dir() -> Path:
    value = os.environ.get("BUILD_LOG_DIR")
    return Path(value).expanduser().resolve() if value else pipeline_db_path().parent / "logs"


def new_log_path(folder: Path, now: datetime | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    path, n = folder / f"build-{stamp}.log", 1
    while path.exists():
        n += 1
        path = folder / f"build-{stamp}-{n}.log"
    return path


def prune_logs(folder: Path, keep: int = KEEP_LOGS, current: Path | None = None) -> list[Path]:
    """Remove all but the `keep` newest build logs of `folder` (never `current`)."""
    logs = sorted(folder.glob("build-*.log"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    removed = []
    for old in logs[keep:]:
        if old != current:
            with contextlib.suppress(OSError):
                old.unlink()
                removed.append(old)
    return removed


class Console:
    """The person's view: lines written to the original stdout while fds 1 and 2 go to the log."""

    def __init__(self, stream: TextIO, log: TextIO | None = None):
        self.stream, self.log, self.lock, self.lines = stream, log, threading.Lock(), 0

    def __call__(self, *texts: str) -> None:
        with self.lock:
            for line in [ln for text in (texts or ("",)) for ln in (text.splitlines() or [""])]:
                with contextlib.suppress(OSError, ValueError):
                    self.stream.write(line + "\n")
                    self.stream.flush()
                if self.log is not None:  # the summary is in the log too, between the debug events
                    with contextlib.suppress(OSError, ValueError):
                        self.log.write(f"[console] {line}\n")
                        self.log.flush()
                self.lines += 1


@contextlib.contextmanager
def output_to(log_path: Path):
    """Send fds 1 and 2 (Python, Dagster's console logger, dbt's output, warnings) to `log_path`;
    yield a Console on the original stdout."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = os.dup(1), os.dup(2)
    log = open(log_path, "a", buffering=1, encoding="utf-8", errors="replace")
    console_stream = os.fdopen(os.dup(saved[0]), "w", buffering=1, encoding="utf-8", errors="replace")
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        yield Console(console_stream, log)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        console_stream.close()
        log.close()


# ---------------------------------------------------------------------------
# Processes: the build lock and runs left behind by builds that died
# ---------------------------------------------------------------------------


def process_alive(pid: int, since: float | None = None) -> bool:
    """Whether `pid` is a running process (not a zombie) that started no later than `since`
    (a Unix time: a process started later is another one that reuses the number)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True  # no /proc: the signal check is all there is
    if fields[0] in ("Z", "X"):
        return False
    if since is not None:
        try:
            boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                        if line.startswith("btime "))
            started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
            if started > since + 5:
                return False
        except (OSError, StopIteration, ValueError, IndexError):
            pass
    return True


class BuildLock:
    """An exclusive flock on `<pipeline database>.build.lock`, holding the owner's PID and run.
    The OS drops the lock when its process dies; the PID it leaves behind says who died."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self, console: Console) -> dict[str, Any]:
        """Take the lock, waiting for a running build; returns what a build that died left in it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return {}
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.read()
            console(f"Waiting for the build running as PID {holder.get('pid', '?')} (run "
                    f"{str(holder.get('run_id', '?'))[:8]}, started {holder.get('started', '?')}) to finish ...")
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        left = self.read()
        return left if left.get("pid") and left.get("pid") != os.getpid() else {}

    def write(self, **info: Any) -> None:
        if self.fd is None:
            return
        data = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), **info}).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)
        os.fsync(self.fd)

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)  # a clean exit leaves no PID behind
        os.close(self.fd)  # closing drops the flock
        self.fd = None


ENV_RUN = "GEO_WAREHOUSE_BUILD_RUN"


def processes_of_run(run_id: str) -> list[int]:
    """PIDs of the processes (other than this one) whose environment carries the build marker of
    `run_id`: the children of a build (dbt) that outlived it when it was killed. Linux /proc only."""
    marker = f"{ENV_RUN}={run_id}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            pid = int(entry.name)
            if pid == os.getpid():
                continue
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(pid)
        except (OSError, ValueError):
            continue
    return sorted(found)


def stop_orphans(run_ids: set[str], grace: float = 10.0) -> list[int]:
    """Stop the processes left running by builds that died (a dbt that would otherwise keep
    writing the pipeline database): SIGTERM, then SIGKILL after `grace` seconds."""
    import signal

    pids = sorted({pid for run_id in run_ids for pid in processes_of_run(run_id)})
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.time() + grace
    while time.time() < deadline and any(process_alive(pid) for pid in pids):
        time.sleep(0.2)
    for pid in pids:
        if process_alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return pids


def run_process(instance, run) -> tuple[int | None, str | None]:
    """(PID, host) of the process executing `run`: from this module's tags, else from the run's
    latest event (runs launched from the UI run in a subprocess that logs its PID)."""
    tags = run.tags or {}
    if TAG_PID in tags:
        with contextlib.suppress(ValueError):
            return int(tags[TAG_PID]), tags.get(TAG_HOST)
    try:
        records = instance.get_records_for_run(run.run_id, limit=50, ascending=False).records
    except Exception:
        return None, None
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.pid:
            return int(event.pid), None
    return None, None


def runs_in_progress(instance) -> list:
    from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter

    return list(instance.get_runs(filters=RunsFilter(statuses=list(IN_PROGRESS_RUN_STATUSES))))


def settle_runs_in_progress(instance, console: Console, poll: float = 2.0) -> list[str]:
    """Mark failed the in-progress runs whose process is gone (a build or UI run that was killed);
    wait for those whose process is alive. Returns the ids of the runs marked failed."""
    from dagster._core.storage.dagster_run import DagsterRunStatus

    marked: list[str] = []
    waiting_for: set[str] = set()
    host = socket.gethostname()
    while True:
        alive = []
        for run in runs_in_progress(instance):
            pid, run_host = run_process(instance, run)
            if pid is None or (run_host and run_host != host):
                continue  # nothing to check it with: leave it to its owner
            record = instance.get_run_record_by_id(run.run_id)
            since = record.start_time or (record.create_timestamp.timestamp() if record.create_timestamp else None)
            if pid == os.getpid():
                continue
            if process_alive(pid, since):
                alive.append((run, pid))
                continue
            if run.status in (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING):
                instance.report_run_failed(run, message=(
                    f"The process of this run (PID {pid}) is gone: it was killed or crashed. Marked failed by "
                    f"the next build (PID {os.getpid()})."))
                marked.append(run.run_id)
        if not alive:
            return marked
        for run, pid in alive:
            if run.run_id not in waiting_for:
                waiting_for.add(run.run_id)
                console(f"Waiting for run {run.run_id[:8]} ({run.job_name}, PID {pid}) to finish: the pipeline "
                        f"database takes one writer ...")
        time.sleep(poll)


# ---------------------------------------------------------------------------
# What a step did: read from its events
# ---------------------------------------------------------------------------


def _value(meta: Any) -> Any:
    for attr in ("value", "data", "path", "text"):
        if hasattr(meta, attr):
            return getattr(meta, attr)
    return meta


@dataclass
class Check:
    asset: str
    name: str
    passed: bool
    severity: str
    metadata: dict[str, Any]


@dataclass
class Step:
    key: str
    started: float | None = None
    ended: float | None = None
    status: str = "pending"  # pending, running, success, failure
    materializations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    observed_tests: dict[str, str] = field(default_factory=dict)  # dbt tests outside the selection
    warnings: int = 0
    error: list[str] = field(default_factory=list)
    # progress reporting
    announced: bool = False
    last_line: float = 0.0
    pending_message: str | None = None
    last_message: float = 0.0

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started


def _asset_name(key) -> str:
    return "/".join(key.path)


def _error_lines(data) -> list[str]:
    """The error of a STEP_FAILURE in at most two lines: a Failure's description, else the
    innermost exception's class and message."""
    desc = getattr(getattr(data, "user_failure_data", None), "description", None)
    err = getattr(data, "error", None)
    if desc:
        text = desc
    elif err is not None:
        root = err
        while getattr(root, "cause", None) is not None:
            root = root.cause
        text = re.sub(r"^(?:[A-Za-z_][\w]*\.)+(\w+(?:Error|Exception|Failure|Interrupt)?): ", r"\1: ",
                      (root.message or "").strip())
    else:
        text = "failed (no error recorded)"
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return [ln if len(ln) <= 300 else ln[:297] + "..." for ln in lines[:2]]


def _count(n: int) -> str:
    return f"{n:,}"


def _reasons(reasons: Any) -> str:
    return ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())) if isinstance(reasons, dict) else ""


def incremental_text(name: str, meta: dict[str, Any]) -> str | None:
    """What an incremental asset did this run, from its metadata (assets/documents.py and
    assets/stages.py), or None for an asset without such metadata."""
    rows = meta.get("dagster/row_count")
    short = name.split("/")[-1]
    if "new_files" in meta:  # raw_documents
        changes = (f"{meta.get('new_files', 0)} new, {meta.get('changed_files', 0)} changed, "
                   f"{meta.get('deleted_files', 0)} deleted, {meta.get('unchanged_files', 0)} unchanged")
        return f"{meta.get('files', '?')} files ({changes}): {short} {_count(rows or 0)}"
    if "quarantined_this_run" in meta:  # quarantined_documents
        text = f"{short} {_count(rows or 0)}"
        reasons = _reasons(meta.get("reasons"))
        return text + (f" ({reasons})" if reasons else "")
    if "files_normalized_this_run" in meta:  # normalized_documents
        n, gone = meta["files_normalized_this_run"], meta.get("files_removed_this_run", 0)
        this_run = f"{n} files normalized" if n else "no file to normalize"
        if gone:
            this_run += f", {gone} removed"
        return f"{_count(rows or 0)} articles ({this_run})"
    if "articles_processed_this_run" in meta:  # a per-article stage
        n, gone = meta["articles_processed_this_run"], meta.get("articles_removed_this_run", 0)
        written = meta.get("rows_written_this_run", 0)
        this_run = ((f"{_count(written)} new from {n} articles" if written else f"{n} articles processed")
                    if n else "nothing new")
        if gone:
            this_run += f", rows of {gone} articles removed"
        label_ = f"{short} " if meta.get("_several") else ""
        return f"{label_}{_count(rows or 0)} rows ({this_run})"
    return None


def describe(step: Step, assets_of_step: int = 0) -> str:
    """One line: what `step` wrote (rows per asset, quarantine reasons), its checks."""
    parts: list[str] = []
    mats = step.materializations
    if len(mats) > 3 or assets_of_step > 3:  # a dbt build or another many-asset step
        layers: dict[str, int] = {}
        for name, _ in mats:
            layers[name.split("/")[0] if "/" in name else "assets"] = layers.get(
                name.split("/")[0] if "/" in name else "assets", 0) + 1
        parts.append(f"{len(mats)} assets (" + ", ".join(f"{k} {v}" for k, v in layers.items()) + ")")
    else:
        for name, meta in mats:
            rows = meta.get("dagster/row_count")
            incremental = incremental_text(name, {**meta, "_several": len(mats) > 1})
            if incremental is not None:
                if name == "normalize_quarantine" and not rows:
                    continue  # nothing to say: the stage's quarantine is empty
                if name == "normalize_quarantine":
                    incremental = f"no article in {rows} files ({_reasons(meta.get('reasons'))})"
                parts.append(incremental)
                continue
            if name == "normalize_quarantine":
                if rows:
                    parts.append(f"no article in {rows} files ({_reasons(meta.get('reasons'))})")
                continue
            text = name.split("/")[-1] if len(mats) > 1 else ""
            if isinstance(rows, int):
                text = f"{text} {_count(rows)}" if text else f"{_count(rows)} rows"
            elif not text:
                text = ("unchanged since the last publish, not written again" if meta.get("written") is False
                        else f"{_count(meta.get('rows_changed') or 0)} rows changed in {meta.get('changed_from') or 'a copy'}"
                        if meta.get("publish_mode") == "changes applied" else "done")
            reasons = meta.get("reasons")
            if isinstance(reasons, dict) and reasons:
                text += " (" + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())) + ")"
            tables = meta.get("tables")
            n_tables = len(tables) if isinstance(tables, dict) else len(getattr(tables, "records", None) or [])
            if n_tables:
                text = f"{n_tables} tables, {text}"
            if meta.get("path") and not isinstance(rows, int) and text == "done":
                text = f"-> {_short(Path(str(meta['path'])))}"
            parts.append(text.strip())
    tests = list(step.checks)
    if tests or step.observed_tests:
        failed = [c for c in tests if not c.passed and c.severity != "WARN"]
        warned = [c for c in tests if not c.passed and c.severity == "WARN"]
        observed_bad = [s for s in step.observed_tests.values() if s not in ("pass", "success")]
        n = len(tests) + len(step.observed_tests)
        if not mats and len(tests) == 1 and not step.observed_tests:  # an asset check step
            c = tests[0]
            parts.append("passed" if c.passed else ("WARNING" if c.severity == "WARN" else "FAILED")
                         + _check_detail(c))
        else:
            text = f"{n} tests: {n - len(failed) - len(warned) - len(observed_bad)} passed"
            if warned:
                text += f", {len(warned)} warned"
            if failed or observed_bad:
                text += f", {len(failed) + len(observed_bad)} FAILED"
            parts.append(text)
    if step.warnings:
        parts.append(f"{step.warnings} warnings in the log")
    return "; ".join(p for p in parts if p)


def _check_detail(check: Check) -> str:
    """The non-empty lists and the error of a failed check's metadata, briefly."""
    bits = []
    for key, value in check.metadata.items():
        if key.startswith("dagster") or value in (None, [], {}, ""):
            continue
        if isinstance(value, list):
            shown = ", ".join(map(str, value[:3])) + (f" and {len(value) - 3} more" if len(value) > 3 else "")
            bits.append(f"{key}: {shown}")
        elif key in ("error", "message", "status", "dagster_dbt/failed_row_count"):
            bits.append(f"{key}: {value}")
    return (": " + "; ".join(bits))[:200] if bits else ""


def label(step: Step, labels: dict[str, str] | None = None) -> str:
    if labels and step.key in labels:
        return labels[step.key]
    if not step.materializations and len(step.checks) == 1 and not step.observed_tests:
        return f"check {step.checks[0].name}"
    return step.key


# INFO messages that are not progress (dagster-dbt's notes on its own invocation)
QUIET = re.compile(r"\s*(A dbt subsetted execution|Overriding default `DBT_|Running dbt command|Finished dbt command|Copying `|"
                   r"Artifacts? (?:saved|written)|Dbt CLI process)")
DBT_PROGRESS = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?(\d+) of (\d+) (START|OK|PASS|ERROR|FAIL|WARN|SKIP)\b", re.M)


class Monitor(threading.Thread):
    """Reads the run's events from the instance while it runs and prints the step lines."""

    def __init__(self, instance, run_id: str, console: Console, order: list[str],
                 shapes: dict[str, tuple[int, int]], labels: dict[str, str] | None = None,
                 log_path: Path | None = None):
        super().__init__(name="build-console", daemon=True)
        self.instance, self.run_id, self.console = instance, run_id, console
        self.labels = labels or {}
        self.width = min(max([len(self.labels.get(k, k)) for k in order] + [20]), 50)
        self.log_path, self.log_offset = log_path, log_path.stat().st_size if log_path and log_path.exists() else 0
        self.dbt_progress: tuple[int, int, float] | None = None  # node n of m, when
        self.steps: dict[str, Step] = {k: Step(k) for k in order}
        self.order = order
        self.shapes = shapes  # step key -> (assets, checks) it is to produce
        self.cursor: str | None = None
        self.stop_event = threading.Event()
        self.run_failure: list[str] = []
        self.dbt_errors: list[str] = []
        self.problems: list[str] = []
        self.prepared_since: float | None = None  # when execute_in_process was called

    def run(self) -> None:
        while not self.stop_event.wait(POLL_SECONDS):
            with contextlib.suppress(Exception):
                self.poll()
        self.poll()

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=30)

    def step(self, key: str) -> Step:
        if key not in self.steps:
            self.steps[key] = Step(key)
            self.order.append(key)
        return self.steps[key]

    def poll(self) -> None:
        while True:
            conn = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=1000)
            for record in conn.records:
                self.handle(record.event_log_entry)
            self.cursor = conn.cursor
            if not conn.has_more:
                break
        self.progress(time.time())

    def handle(self, entry) -> None:
        import logging

        event = entry.dagster_event
        key = entry.step_key or (event.step_key if event is not None else None)
        if event is None:  # a log message of the step's own code
            if key is None:
                return
            step = self.step(key)
            if entry.level >= logging.WARNING:
                step.warnings += 1
            elif entry.level == logging.INFO and entry.user_message and not QUIET.match(entry.user_message):
                step.pending_message = entry.user_message.strip().splitlines()[0]
            return
        kind, data = event.event_type_value, event.event_specific_data
        if kind == "RUN_START" and self.prepared_since is not None:
            seconds = entry.timestamp - self.prepared_since
            if seconds > ANNOUNCE_AFTER:
                self.console(f"  ok   {'start the run (job snapshot)':<{self.width}} {seconds:7.1f} s")
        if kind == "RUN_FAILURE" and entry.user_message:
            self.run_failure = [entry.user_message.strip().splitlines()[0]]
        if key is None:
            return
        step = self.step(key)
        if kind == "STEP_START":
            step.status, step.started = "running", entry.timestamp
            self.read_dbt_progress(time.time())  # what an earlier dbt step printed is not this one's
            self.dbt_progress = None
            step.last_line = entry.timestamp
        elif kind == "ASSET_MATERIALIZATION":
            mat = data.materialization
            step.materializations.append((_asset_name(mat.asset_key),
                                          {k: _value(v) for k, v in (mat.metadata or {}).items()}))
        elif kind == "ASSET_CHECK_EVALUATION":
            severity = getattr(getattr(data, "severity", None), "value", str(getattr(data, "severity", "")))
            step.checks.append(Check(_asset_name(data.asset_key), data.check_name, bool(data.passed),
                                     str(severity), {k: _value(v) for k, v in (data.metadata or {}).items()}))
        elif kind == "ASSET_OBSERVATION":
            meta = {k: _value(v) for k, v in (data.asset_observation.metadata or {}).items()}
            if "unique_id" in meta and str(meta["unique_id"]).startswith(("test.", "unit_test.")):
                step.observed_tests[str(meta["unique_id"])] = str(meta.get("status", "?"))
        elif kind == "STEP_SUCCESS":
            step.status, step.ended = "success", entry.timestamp
            self.finished(step)
        elif kind == "STEP_FAILURE":
            step.status, step.ended = "failure", entry.timestamp
            step.error = _error_lines(data)
            self.finished(step)

    def finished(self, step: Step) -> None:
        assets = self.shapes.get(step.key, (0, 0))[0]
        mark = "ok  " if step.status == "success" else "FAIL"
        text = describe(step, assets)
        if step.status == "failure":
            text = step.error[0] if step.error else "failed"
        self.console(f"  {mark} {label(step, self.labels):<{self.width}} {step.seconds:7.1f} s  {text}".rstrip())
        if step.status == "failure":
            for extra in step.error[1:]:
                self.console(f"       {extra}")
            done = describe(step, assets)
            if done:
                self.console(f"       before it failed: {done}")
        for check in step.checks:
            if not check.passed and check.severity != "WARN" and (step.materializations or len(step.checks) > 1):
                self.problems.append(f"{check.asset}: {check.name}")

    def progress(self, now: float) -> None:
        for step in self.steps.values():
            if step.status != "running" or step.started is None:
                continue
            elapsed = now - step.started
            assets, checks = self.shapes.get(step.key, (0, 0))
            if not step.announced:
                if elapsed < ANNOUNCE_AFTER:
                    continue
                step.announced = True
                todo = f" ({assets} assets, {checks} checks to do)" if assets > 1 or checks > 1 else ""
                self.line(step, now, f"running{todo}")
                continue
            if step.pending_message and now - step.last_message >= MESSAGE_EVERY:
                message, step.pending_message = step.pending_message, None
                step.last_message = now
                self.line(step, now, message if len(message) <= 100 else message[:97] + "...")
                continue
            if now - step.last_line >= max(PROGRESS_SECONDS, elapsed / 4):
                done = []
                self.read_dbt_progress(now)
                if self.dbt_progress and self.dbt_progress[2] >= step.started:
                    done.append(f"dbt node {self.dbt_progress[0]} of {self.dbt_progress[1]}")
                if assets > 1:
                    done.append(f"{len(step.materializations)}/{assets} assets")
                if checks > 1:
                    done.append(f"{len(step.checks)}/{checks} checks")
                self.line(step, now, ", ".join(done) or "still running")

    def read_dbt_progress(self, now: float) -> None:
        """dbt's own 'N of M' lines, from what the log received since the last look."""
        if self.log_path is None:
            return
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                chunk = f.read()
        except OSError:
            return
        cut = chunk.rfind(b"\n") + 1
        self.log_offset += cut
        found = DBT_PROGRESS.findall(chunk[:cut].decode("utf-8", "replace"))
        if found:
            n, m, _ = found[-1]
            self.dbt_progress = (int(n), int(m), now)

    def line(self, step: Step, now: float, text: str) -> None:
        step.last_line = now
        self.console(f"  ...  {label(step, self.labels):<{self.width}} {now - step.started:7.0f} s  {text}")


def dbt_error_lines(log_path: Path, limit: int = 4) -> list[str]:
    """dbt's own summary of what failed ('Database Error in model x', the line after it), from the
    log; [] when dbt reported nothing."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    pattern = re.compile(r"^\s*(?:\x1b\[[0-9;]*m)*((?:Runtime|Database|Compilation|Dependency|Parsing) Error in |"
                         r"Failure in |Unit test failure |Error in test )")
    for i, line in enumerate(lines):
        if pattern.match(line):
            detail = next((ln.strip() for ln in lines[i + 1:i + 4] if ln.strip()), "")
            clean = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
            out.append(f"{clean}: {detail}"[:250] if detail else clean[:250])
            if len(out) >= limit:
                break
    return out


# ---------------------------------------------------------------------------
# The published warehouse, as the analyst will see it
# ---------------------------------------------------------------------------


def published_quarantine(path: Path) -> list[tuple[str, str, str]]:
    import duckdb

    from dagster_project.resources import DUCKDB_CONFIG

    con = duckdb.connect(str(path), read_only=True, config=DUCKDB_CONFIG)
    try:
        return [tuple(map(str, r)) for r in con.execute(
            "select source_file, reason, coalesce(stage, '') from marts.quarantined_documents "
            "order by source_file").fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()


def columns(cells: list[tuple[str, str]], ncols: int = 2, indent: str = "  ") -> list[str]:
    """`cells` (name, count) in `ncols` columns, read down then across."""
    if not cells:
        return []
    rows = -(-len(cells) // ncols)
    name_w = max(len(n) for n, _ in cells)
    num_w = max(len(c) for _, c in cells)
    out = []
    for r in range(rows):
        row = [cells[c * rows + r] for c in range(ncols) if c * rows + r < len(cells)]
        out.append(indent + "    ".join(f"{n:<{name_w}} {c:>{num_w}}" for n, c in row).rstrip())
    return out


def wrap(prefix: str, items: list[str], width: int = 100, indent: str = "    ") -> list[str]:
    lines, current = [], prefix
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else "")
        if len(current) + len(piece) > width and current.strip():
            lines.append(current.rstrip())
            current = indent
        current += piece
    lines.append(current.rstrip())
    return lines


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def _short(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


# ---------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------


def preflight() -> tuple[Path | None, str | None]:
    """The input folder, or the one-line reason the run cannot start (before loading anything)."""
    from dagster_project.parallel import WorkersSettingError, worker_count
    from dagster_project.paths import DocumentsDirError, OutputPathError, check_output_paths, documents_dir

    try:
        folder = documents_dir()
        check_output_paths()
        worker_count()
    except (DocumentsDirError, OutputPathError, WorkersSettingError) as exc:
        return None, str(exc)
    return folder, None


def _ensure_dagster_home() -> Path:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(REPO_ROOT / ".dagster_home")
        os.environ["DAGSTER_HOME"] = home
    from dagster_project.instance_settings import ensure_dagster_yaml

    ensure_dagster_yaml(Path(home))
    return Path(home)


def build(full: bool = False, allow_document_loss: bool = False) -> int:
    started = time.time()
    folder, problem = preflight()
    if problem:
        print(f"Cannot build: {problem}", file=sys.stderr)
        return 2
    warehouse, pipeline_db = warehouse_path(), pipeline_db_path()
    logs = log_dir()
    log_path = new_log_path(logs)
    prune_logs(logs, KEEP_LOGS, current=log_path)
    os.environ.setdefault("DBT_USE_COLORS", "false")  # the log is a file: no escape codes
    home = _ensure_dagster_home()
    lock = BuildLock(Path(str(pipeline_db) + ".build.lock"))
    with output_to(log_path) as console:
        print(f"build started {datetime.now().isoformat(timespec='seconds')} pid {os.getpid()}\n"
              f"  documents {folder}\n  pipeline database {pipeline_db}\n  warehouse {warehouse}\n"
              f"  DAGSTER_HOME {home}", flush=True)
        console(f"Building {_short(warehouse)} from {_short(folder)}"
                + (" (full refresh: every file read again, every stage redone)" if full else ""))
        console(f"Full log: {log_path}")
        try:
            return _build(console, log_path, lock, warehouse, started, full, allow_document_loss)
        except KeyboardInterrupt:
            console(f"Interrupted. Full log: {log_path}")
            return 130
        except Exception as exc:  # a crash of the build itself, not of a step
            import traceback

            traceback.print_exc()
            console(f"Build FAILED: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                    [:300])
            console(f"Full log: {log_path}")
            return 1
        finally:
            lock.release()


def note(text: str) -> None:
    """A line for the log only."""
    print(f"{datetime.now().isoformat(sep=' ', timespec='seconds')} - build - {text}", flush=True)


def run_config_for(full: bool = False, allow_document_loss: bool = False) -> dict | None:
    """The run config of the build: full refresh at ingest, the publish guard's override."""
    ops: dict[str, Any] = {}
    if full:
        ops["ingest_documents"] = {"config": {"full_refresh": True}}
    if allow_document_loss:
        ops["published_warehouse"] = {"config": {"allow_document_loss": True}}
    return {"ops": ops} if ops else None


def _build(console: Console, log_path: Path, lock: BuildLock, warehouse: Path, started: float,
           full: bool, allow_document_loss: bool) -> int:
    left = lock.acquire(console)
    note(f"build lock {lock.path} taken" + (f"; left behind by a build that died: {left}" if left else ""))
    import dagster as dg
    from dagster._core.utils import make_new_run_id

    instance = dg.DagsterInstance.get()
    note(f"instance {instance.root_directory} loaded")
    marked = settle_runs_in_progress(instance, console)
    note(f"runs in progress settled; marked failed: {marked}")
    orphans = stop_orphans({r for r in [left.get("run_id"), *marked] if r})
    from dagster_project.assets.warehouse import remove_stale_temporaries

    stale = remove_stale_temporaries(warehouse)
    note(f"orphans of dead builds stopped: {orphans}; stale temporaries removed: {stale}")
    if left or marked:
        pid = left.get("pid", "?")
        runs = ", ".join(r[:8] for r in marked)
        extra = []
        if orphans:
            extra.append(f"stopped {len(orphans)} of its processes still running (PID {', '.join(map(str, orphans))})")
        if stale:
            extra.append(f"removed its unfinished snapshot {', '.join(stale)}")
        console(f"A previous build (PID {pid}) did not finish: killed or crashed"
                + (f"; its run {runs} is marked failed" if marked else "")
                + "".join(f"; {e}" for e in extra) + ". Building anew.")
    elif stale:
        console(f"Removed unfinished snapshots of an earlier publish: {', '.join(stale)}")
    run_id = make_new_run_id()
    lock.write(run_id=run_id, started=datetime.now().isoformat(timespec="seconds"), log=str(log_path))

    t0 = time.time()
    from dagster_project.definitions import defs  # parses dbt when its manifest is stale

    job = defs.resolve_job_def(JOB_NAME)
    loaded = time.time() - t0
    note(f"definitions loaded in {loaded:.1f} s; job {JOB_NAME}, run {run_id}")
    order = [node.name for node in job.graph.nodes_in_topological_order]
    shapes, labels = {}, {}
    for assets_def in [*defs.assets, *(defs.asset_checks or [])]:
        with contextlib.suppress(Exception):
            name = assets_def.node_def.name
            shapes[name] = (len(assets_def.keys), len(assets_def.check_keys))
            if not assets_def.keys and len(assets_def.check_keys) == 1:
                labels[name] = f"check {next(iter(assets_def.check_keys)).name}"
    run_config = run_config_for(full, allow_document_loss)
    monitor = Monitor(dg.DagsterInstance.get(), run_id, console, order, shapes, labels, log_path)
    if loaded > ANNOUNCE_AFTER:
        console(f"  ok   {'load definitions (dbt manifest)':<{monitor.width}} {loaded:7.1f} s")
    monitor.prepared_since = time.time()
    monitor.start()
    previous_marker = os.environ.get(ENV_RUN)
    os.environ[ENV_RUN] = run_id  # inherited by dbt: a build that died can be told from its orphans
    try:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, run_id=run_id, raise_on_error=False,
            tags={TAG_PID: str(os.getpid()), TAG_HOST: socket.gethostname(), TAG_COMMAND: "dagster_project.cli build"})
    finally:
        monitor.stop()
        if previous_marker is None:
            os.environ.pop(ENV_RUN, None)
        else:
            os.environ[ENV_RUN] = previous_marker
    return summarize(console, monitor, result, warehouse, log_path, started)


def what_was_new(monitor: Monitor) -> list[str]:
    """One line: the files new, changed and deleted since the last build and the articles
    processed again, or that nothing was new."""
    metas = {name: meta for s in monitor.steps.values() for name, meta in s.materializations}
    raw = metas.get("raw_documents")
    if raw is None or "new_files" not in raw:
        return []
    new, changed, deleted = (int(raw.get(k) or 0) for k in ("new_files", "changed_files", "deleted_files"))
    normalized = int((metas.get("normalized_documents") or {}).get("files_normalized_this_run") or 0)
    articles = max([int(m.get("articles_processed_this_run") or 0) + int(m.get("articles_removed_this_run") or 0)
                    for m in metas.values()] + [0])
    if not (new or changed or deleted or normalized or articles):
        return [f"Nothing new: the {raw.get('files', '?')} files are unchanged since the last build, "
                f"no file was read again and no article processed again."]
    return [f"New this run: {new} new, {changed} changed, {deleted} deleted files; {normalized} files normalized, "
            f"{articles} articles processed."]


def summarize(console: Console, monitor: Monitor, result, warehouse: Path, log_path: Path, started: float) -> int:
    elapsed = time.time() - started
    failed = [s for s in monitor.steps.values() if s.status == "failure"]
    not_run = [label(s, monitor.labels) for k, s in monitor.steps.items() if s.status == "pending"]
    published = any(name == "published_warehouse" for s in monitor.steps.values() for name, _ in s.materializations)
    if not result.success or failed:
        if any(s.key.startswith("warehouse_models") or "dbt" in s.key for s in failed):
            for line in dbt_error_lines(log_path):
                console(f"       {line}")
        if not_run:
            console(*wrap(f"Not run ({len(not_run)} steps): ", not_run))
        where = ", ".join(label(s, monitor.labels) for s in failed) or "the run"
        if not failed and monitor.run_failure:
            console(f"  {monitor.run_failure[0][:300]}")
        console(f"Build FAILED after {_duration(elapsed)} at {where}. "
                + ("" if published else f"The published warehouse {_short(warehouse)} was not replaced."))
        console(f"Full log: {log_path}")
        return 1
    try:
        from dagster_project.assets.warehouse import mart_row_counts  # loaded with the definitions

        counts = mart_row_counts(warehouse)
    except Exception as exc:  # noqa: BLE001 - report, never crash the summary
        counts = {}
        console(f"Cannot read the published warehouse back: {type(exc).__name__}: {exc}"[:300])
    total = sum(counts.values())
    kept = any(meta.get("written") is False for step in monitor.steps.values()
               for name, meta in step.materializations if name == "published_warehouse")
    console(f"{'Unchanged' if kept else 'Published'} {warehouse}: schema marts, {len(counts)} tables, {_count(total)} rows"
            + (" (the marts equal the last snapshot's: the file was not written again)" if kept else ""))
    for line in columns([(name, _count(n)) for name, n in counts.items()]):
        console(line)
    for line in what_was_new(monitor):
        console(line)
    quarantined = published_quarantine(warehouse)
    files = next((meta.get("files") for s in monitor.steps.values() for name, meta in s.materializations
                  if name == "raw_documents"), None)
    if quarantined:
        of = f" of {files}" if isinstance(files, int) else ""
        items = [f"{f} ({r})" if stage in ("", "ingest") else f"{f} ({r}, at {stage})" for f, r, stage in quarantined]
        for line in wrap(f"Quarantined {len(quarantined)}{of} files: ", items[:12]
                         + ([f"... {len(items) - 12} more in marts.quarantined_documents"] if len(items) > 12 else [])):
            console(line)
    elif isinstance(files, int):
        console(f"Quarantined none of {files} files.")
    cli = Path(sys.executable).parent / "duckdb"
    status = 0
    if monitor.problems:
        console(*wrap(f"{len(monitor.problems)} checks FAILED (the warehouse was published): ", monitor.problems[:6]))
        status = 1
    console(f"Built in {_duration(elapsed)}. Full log: {log_path}")
    console(f"Open it read-only:  {cli if cli.exists() else 'duckdb'} -readonly {warehouse}   (DuckDB 1.4 CLI)")
    console(f"   or in Python:     duckdb.connect('{warehouse}', read_only=True)")
    console("UI with lineage:    python3 tasks.py dev   (then http://127.0.0.1:3000)")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.cli", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="materialize every asset and publish the warehouse")
    b.add_argument("--full", action="store_true",
                   help="full refresh: drop the raw tables, read every file again and redo every stage "
                        "(by default only new and changed files are processed)")
    b.add_argument("--allow-document-loss", action="store_true",
                   help="publish even when the new warehouse lost more than half the documents of the published one")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(full=args.full, allow_document_loss=args.allow_document_loss)
    return 2


if __name__ == "__main__":
    sys.exit(main())
