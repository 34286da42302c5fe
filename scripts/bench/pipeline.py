"""What the pipeline benchmark (scripts/bench_pipeline.py) measures around one build process.

- `TreeSampler`: the build command's whole process tree (the command, Dagster, dbt and anything
  they start), sampled from /proc every `interval` seconds: the largest sum of VmRSS over the
  tree at one sample (shared pages count once per process, so an upper bound), the same for
  RssAnon (private memory: what the tree really takes), the largest VmHWM of a single process
  (its own high-water mark, kept by the kernel, so nothing between samples is missed), and the
  samples themselves, to attribute memory to the step running at the time.
- `run_build`: the command as a subprocess in its own session (so that a run over the memory
  or time limit can be stopped by its process group), with the sampler, wall time from start
  to exit, stdout and stderr to files; only the exit code is read from it.
- `step_times`: per-step time from the Dagster run's event log (the SQLite storage under
  DAGSTER_HOME): STEP_START to STEP_SUCCESS (or STEP_FAILURE) for every step, plus the run's
  RUN_START / RUN_SUCCESS, so that the time before the first step (process start, code
  location load, dbt manifest) and after the last is accounted too.
- `dbt_node_times`: inside the dbt step, dbt's own run_results.json (models and tests).
- `warehouse_accounting`: the published warehouse against the input files (every file in
  dim_document or quarantined_documents, articles per file against the seeds' structure).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _ppid_map() -> dict[int, int]:
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, split after the last ')'
        rest = stat[stat.rfind(b")") + 2:].split()
        out[int(name)] = int(rest[1])
    return out


def descendants(root: int) -> list[int]:
    """`root` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _ppid_map().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _status_kb(pid: int, keys=(b"VmRSS", b"RssAnon", b"VmHWM")) -> dict[bytes, int] | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            text = f.read()
    except OSError:
        return None
    got = {}
    for line in text.split(b"\n"):
        key, _, value = line.partition(b":")
        if key in keys:
            got[key] = int(value.split()[0])
    return got


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "?"
    # the interesting word: python -m x / .venv/bin/dagster ... -> 'dagster', 'dbt', 'python tasks.py'
    words = [Path(a).name for a in args[:3]]
    return " ".join(words)[:60]


@dataclass
class TreeSampler:
    root: int
    interval: float = 0.2
    limit_bytes: int | None = None  # stop the tree (its process group) when the RSS sum passes this
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (time.time(), rss sum, anon sum) bytes
    peak_rss: int = 0
    peak_anon: int = 0
    peak_processes: int = 0
    hwm: dict[int, tuple[int, str]] = field(default_factory=dict)  # pid -> (VmHWM bytes, command)
    over_limit: bool = False

    def sample(self) -> None:
        rss = anon = 0
        pids = descendants(self.root)
        for pid in pids:
            got = _status_kb(pid)
            if not got:
                continue
            rss += got.get(b"VmRSS", 0) * 1024
            anon += got.get(b"RssAnon", 0) * 1024
            hwm = got.get(b"VmHWM", 0) * 1024
            if hwm > self.hwm.get(pid, (0, ""))[0]:
                self.hwm[pid] = (hwm, self.hwm[pid][1] if pid in self.hwm else _comm(pid))
        self.samples.append((time.time(), rss, anon))
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_anon = max(self.peak_anon, anon)
        self.peak_processes = max(self.peak_processes, len(pids))
        if self.limit_bytes and rss > self.limit_bytes and not self.over_limit:
            self.over_limit = True
            try:
                os.killpg(self.root, signal.SIGKILL)
            except OSError:
                pass

    def run(self, stop: threading.Event, progress_every: float = 60.0) -> None:
        """Sample until `stop`; every `progress_every` seconds one line on stderr (elapsed, tree
        RSS now and peak), so that a long build can be followed."""
        t0 = time.time()
        next_line = t0 + progress_every
        while not stop.is_set():
            self.sample()
            if progress_every and time.time() >= next_line:
                next_line += progress_every
                _, rss, _ = self.samples[-1]
                print(f"    ... {time.time() - t0:,.0f} s, tree RSS {rss / 2**20:,.0f} MiB (peak {self.peak_rss / 2**20:,.0f})",
                      file=sys.stderr, flush=True)
            stop.wait(self.interval)

    def max_process(self) -> tuple[int, str]:
        return max(self.hwm.values(), default=(0, ""))

    def peak_between(self, start: float, end: float) -> int:
        """The largest tree RSS sampled while [start, end] ran (a step shorter than the interval
        gets the samples around it)."""
        pad = self.interval * 1.5
        return max((rss for t, rss, _ in self.samples if start - pad <= t <= end + pad), default=0)


@dataclass
class BuildRun:
    cmd: list[str]
    returncode: int
    started: float  # time.time()
    finished: float
    wall_s: float  # perf_counter between start and exit
    sampler: TreeSampler
    stdout: Path
    stderr: Path
    timed_out: bool = False

    @property
    def over_limit(self) -> bool:
        return self.sampler.over_limit

    def tail(self, n: int = 3000) -> str:
        text = ""
        for path in (self.stdout, self.stderr):
            if path.exists():
                text += path.read_text(errors="replace")[-n:]
        return text


def run_build(cmd: list[str], env: dict, cwd: Path, log_dir: Path, label: str, interval: float = 0.2,
              limit_bytes: int | None = None, timeout: float | None = None) -> BuildRun:
    log_dir.mkdir(parents=True, exist_ok=True)
    out, err = log_dir / f"{label}.stdout.log", log_dir / f"{label}.stderr.log"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        started = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fo, stderr=fe, start_new_session=True)
        sampler = TreeSampler(proc.pid, interval, limit_bytes)
        stop = threading.Event()
        thread = threading.Thread(target=sampler.run, args=(stop,), daemon=True)
        thread.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        wall = time.perf_counter() - t0
        finished = time.time()
        stop.set()
        thread.join()
    return BuildRun(cmd, proc.returncode, started, finished, wall, sampler, out, err, timed_out)


# ---------------------------------------------------------------------------
# Dagster event log
# ---------------------------------------------------------------------------

def step_times(dagster_home: Path, after: float) -> dict:
    """The newest run started after `after` (time.time()) in the instance under `dagster_home`:
    {run_id, status, run_start, run_end, steps: [{step, start, end, seconds, status}] in start order}."""
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.from_config(str(dagster_home))
    try:
        runs = [r for r in instance.get_runs(limit=10)]
        run = None
        for r in runs:
            stats = instance.get_run_stats(r.run_id)
            if (stats.start_time or 0) >= after - 1:
                run = r
                break
        if run is None:
            return {"run_id": None, "steps": []}
        starts: dict[str, float] = {}
        ends: dict[str, tuple[float, str]] = {}
        run_start = run_end = None
        materialized: dict[str, dict] = {}
        for entry in instance.all_logs(run.run_id):
            ev = entry.dagster_event
            if ev is None:
                continue
            kind = ev.event_type
            if kind == DagsterEventType.STEP_START:
                starts.setdefault(entry.step_key, entry.timestamp)
            elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                ends[entry.step_key] = (entry.timestamp, "success" if kind == DagsterEventType.STEP_SUCCESS else "failure")
            elif kind == DagsterEventType.ASSET_MATERIALIZATION:
                mat = ev.event_specific_data.materialization
                materialized[mat.asset_key.to_user_string()] = _numbers(mat.metadata)
            elif kind == DagsterEventType.RUN_START:
                run_start = entry.timestamp
            elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
                run_end = entry.timestamp
        steps = []
        for key, start in sorted(starts.items(), key=lambda kv: kv[1]):
            end, status = ends.get(key, (None, "no end"))
            steps.append({"step": key, "start": start, "end": end, "status": status,
                          "seconds": round(end - start, 3) if end is not None else None})
        return {"run_id": run.run_id, "status": str(run.status.value), "run_start": run_start, "run_end": run_end,
                "steps": steps, "materialized": dict(sorted(materialized.items()))}
    finally:
        instance.dispose()


def _numbers(metadata: dict) -> dict:
    """The int and float entries of an asset materialization's metadata (row counts, what the
    step did this run: new_files, read_this_run, articles_processed_this_run, ...)."""
    out = {}
    for key, value in (metadata or {}).items():
        v = getattr(value, "value", value)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
    return out


def dbt_node_times(target_dir: Path, after: float) -> dict | None:
    """dbt's run_results.json of the newest invocation under `target_dir` written after `after`:
    seconds in models and in tests, the slowest nodes."""
    files = [p for p in target_dir.glob("**/run_results.json") if p.stat().st_mtime >= after]
    if not files:
        return None
    path = max(files, key=lambda p: p.stat().st_mtime)
    doc = json.loads(path.read_text())
    results = doc.get("results", [])
    by_kind: dict[str, float] = {}
    nodes = []
    for r in results:
        uid = r.get("unique_id", "")
        kind = uid.split(".")[0]
        secs = float(r.get("execution_time") or 0)
        by_kind[kind] = by_kind.get(kind, 0) + secs
        nodes.append((secs, uid, r.get("status")))
    nodes.sort(reverse=True)
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r.get("status"))] = statuses.get(str(r.get("status")), 0) + 1
    return {"nodes": len(results), "elapsed_s": round(float(doc.get("elapsed_time") or 0), 2),
            "threads": (doc.get("args") or {}).get("threads"), "statuses": dict(sorted(statuses.items())),
            "seconds_by_kind": {k: round(v, 2) for k, v in sorted(by_kind.items())},
            "slowest": [{"node": uid, "seconds": round(s, 2), "status": st} for s, uid, st in nodes[:8]]}


# ---------------------------------------------------------------------------
# The published warehouse against the input files
# ---------------------------------------------------------------------------

def warehouse_accounting(warehouse: Path, expected_files: list[str], structure: dict[str, int]) -> dict:
    """Counts in the published warehouse, and how they match the input: `expected_files` are the
    relative paths written (the first path component names the seed file), `structure` the
    articles each seed file gives."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        per_file = dict(con.sql("select source_file, count(*) from marts.dim_document group by 1").fetchall())
        quarantined = con.sql("select source_file, stage, reason from marts.quarantined_documents").fetchall()
        tables = {t: con.sql(f"select count(*) from marts.{t}").fetchone()[0] for (t,) in con.sql(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()}
    finally:
        con.close()
    stems = {Path(name).stem: n for name, n in structure.items()}
    expected = set(expected_files)
    q_files = {f for f, _, _ in quarantined}
    accounted = set(per_file) | q_files
    reasons: dict[str, int] = {}
    for _, stage, reason in quarantined:
        key = f"{stage}:{reason}"
        reasons[key] = reasons.get(key, 0) + 1
    off_structure = [f for f, n in per_file.items() if stems.get(f.split("/")[0]) not in (None, n)]
    expected_documents = sum(stems.get(f.split("/")[0], 0) for f in expected if f not in q_files)
    return {
        "files_expected": len(expected),
        "files_with_documents": len(per_file),
        "files_quarantined": len(q_files),
        "files_accounted": len(accounted & expected),
        "files_missing": len(expected - accounted),
        "files_unexpected": len(accounted - expected),
        "files_in_both": len(set(per_file) & q_files),
        "documents": sum(per_file.values()),
        "documents_expected_by_structure": expected_documents,
        "files_off_structure": len(off_structure),
        "files_off_structure_examples": sorted(off_structure)[:5],
        "quarantined_by_reason": dict(sorted(reasons.items())),
        "tables": tables,
    }


def last_ingest_run(pipeline_db: Path) -> dict | None:
    """The newest row of raw.ingest_runs in the pipeline database (what the run's ingest found:
    new, changed, deleted and unchanged files), or None when there is none."""
    import duckdb

    if not pipeline_db.exists():
        return None
    con = duckdb.connect(str(pipeline_db), read_only=True)
    try:
        cur = con.execute("select * from raw.ingest_runs order by ingested_at desc limit 1")
        row = cur.fetchone()
        return None if row is None else {d[0]: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
                                         for d, v in zip(cur.description, row)}
    except duckdb.Error:
        return None
    finally:
        con.close()
