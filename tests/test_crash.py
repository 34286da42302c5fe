"""`kill -9` of the console build (`python -m dagster_project.cli build`, in a subprocess) during
extraction, during dbt and during publishing.

One uninterrupted baseline build of a copy of seeds/, then, into the same paths, a chain of
builds each killed with SIGKILL in its phase, found by reading the build's log file as it
grows (the running step from Dagster's STEP_START / STEP_SUCCESS events; for dbt, a model
already written; for publishing, the snapshot's temporary file present). Real timing, no hook:

1. `build --full` (drops the raw tables, redoes everything) killed while an extraction step runs;
2. `build` (resumes: finishes the work the killed run left) killed while dbt is writing models;
3. `build` killed while the new snapshot is written beside the published file;
4. `build`, uninterrupted.

After each kill the published file is byte-identical to the baseline's (sha256); each next build
says that the previous one died; after the last one no `*.tmp-*` file and no process of a
killed build is left, every killed run is FAILURE in the instance (it was STARTED when killed),
and every marts table equals the baseline's (EXCEPT ALL both ways, timestamps left out)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from console_support import BUILD_TIMEOUT, Finished, make_env, marts_differences, run_build, sha256, start_build
from support import SEEDS_DIR

pytestmark = pytest.mark.integration  # one whole build, three killed, one more whole

EXTRACTION_STEPS = ("actor_mentions", "statistics", "date_mentions", "sentences", "claims", "extract_events")
EVENT = re.compile(r" - (\S+) - (STEP_START|STEP_SUCCESS|STEP_FAILURE) - ")
DBT_WROTE = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?\d+ of \d+ OK created ", re.M)


@dataclass
class Kill:
    phase: str
    pid: int
    stdout: str
    log_path: Path | None
    running_step: str | None  # the step that had started and not finished when the kill was sent
    log_at_kill: str
    lock_at_kill: dict
    temporaries_at_kill: list[str]
    published_sha_after: str
    run_status_after: str | None  # the killed run's status in the instance right after the kill
    run_id: str | None
    finished_before_kill: bool = False
    extra: dict = field(default_factory=dict)


def running_step(log: str) -> str | None:
    """The step that started and has not finished (the in-process executor runs one at a time)."""
    current = None
    for step, kind in EVENT.findall(log):
        if kind == "STEP_START":
            current = step
        elif step == current:
            current = None
    return current


def temporaries(warehouse: Path) -> list[str]:
    return sorted(p.name for p in warehouse.parent.glob(warehouse.name + ".tmp-*")) if warehouse.parent.is_dir() else []


def in_extraction(log: str, env) -> bool:
    return running_step(log) in EXTRACTION_STEPS


def in_dbt(log: str, env) -> bool:
    step = running_step(log)
    if not step or not re.fullmatch(r"warehouse_models(_\d+)?", step):
        return False
    since = log.rfind(f" - {step} - STEP_START - ")
    return bool(DBT_WROTE.search(log, since))  # dbt has written at least one model of this step


def in_publishing(log: str, env) -> bool:
    return running_step(log) == "published_warehouse" and bool(temporaries(env.warehouse))


def instance_runs(env):
    import dagster as dg
    from dagster_project.cli import TAG_PID

    instance = dg.DagsterInstance.from_config(str(env.dagster_home))
    try:
        return {int(r.tags[TAG_PID]): (r.run_id, r.status.value)
                for r in instance.get_runs()
                if TAG_PID in r.tags}
    finally:
        instance.dispose()


def kill_during(env, phase: str, predicate, *args: str) -> Kill:
    proc = start_build(env, *args)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
    reader.start()
    log_path, log, offset = None, "", 0
    deadline = time.time() + BUILD_TIMEOUT
    killed = False
    lock: dict = {}
    try:
        while time.time() < deadline and proc.poll() is None:
            if log_path is None:
                found = re.findall(r"Full log: (\S+)", "".join(out))
                log_path = Path(found[0]) if found else None
            if log_path is not None and log_path.exists():
                with open(log_path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                cut = chunk.rfind(b"\n") + 1
                offset += cut
                log += chunk[:cut].decode("utf-8", "replace")
                if predicate(log, env):
                    try:  # the killed build's PID and run, as the next build will find them
                        lock = json.loads(env.lock_file.read_text() or "{}")
                    except (OSError, ValueError):
                        lock = {}
                    os.kill(proc.pid, signal.SIGKILL)
                    killed = True
                    break
            time.sleep(0.02)
    finally:
        if proc.poll() is None and not killed:
            proc.kill()
        proc.wait(timeout=60)
        reader.join(timeout=10)
    temps = temporaries(env.warehouse)
    runs = instance_runs(env)
    run_id, status = runs.get(proc.pid, (None, None))
    return Kill(phase=phase, pid=proc.pid, stdout="".join(out), log_path=log_path,
                running_step=running_step(log) if killed else None, log_at_kill=log, lock_at_kill=lock,
                temporaries_at_kill=temps, published_sha_after=sha256(env.warehouse),
                run_status_after=status, run_id=run_id, finished_before_kill=not killed)


@dataclass
class Crashes:
    env: object
    baseline: Path
    baseline_sha: str
    baseline_seconds: float
    kills: dict[str, Kill]
    last: Finished
    runs_after: dict
    orphans_after: list[int]
    seconds: float


@pytest.fixture(scope="module")
def crashes(tmp_path_factory) -> Crashes:
    from dagster_project.cli import processes_of_run

    root = tmp_path_factory.mktemp("crash")
    documents = root / "documents"
    shutil.copytree(SEEDS_DIR, documents)
    env = make_env(root, documents)
    first = run_build(env)
    assert first.returncode == 0, f"baseline build failed:\n{first.stdout}\n{first.stderr[-3000:]}"
    baseline = root / "baseline.duckdb"
    shutil.copyfile(env.warehouse, baseline)
    started = time.time()
    kills = {}
    kills["extraction"] = kill_during(env, "extraction", in_extraction, "--full")
    kills["dbt"] = kill_during(env, "dbt", in_dbt)
    kills["dbt"].extra["orphans_right_after_kill"] = processes_of_run(kills["dbt"].lock_at_kill.get("run_id", "-"))
    kills["publishing"] = kill_during(env, "publishing", in_publishing)
    last = run_build(env)
    orphans = sorted({pid for k in kills.values() for pid in processes_of_run(k.lock_at_kill.get("run_id", "-"))})
    return Crashes(env, baseline, sha256(baseline), first.seconds, kills, last, instance_runs(env), orphans,
                   time.time() - started)


@pytest.mark.parametrize("phase", ["extraction", "dbt", "publishing"])
def test_kill_in_phase_leaves_the_published_file_byte_identical(crashes, phase):
    kill = crashes.kills[phase]
    assert not kill.finished_before_kill, f"the build ended before reaching {phase}:\n{kill.stdout}"
    step = kill.running_step
    wanted = {"extraction": EXTRACTION_STEPS, "dbt": None, "publishing": ("published_warehouse",)}[phase]
    if wanted is None:
        assert step and re.fullmatch(r"warehouse_models(_\d+)?", step), step
    else:
        assert step in wanted, step
    # the step was still running when the kill arrived: the full log has no end for it
    full_log = kill.log_path.read_text()
    since = full_log.rfind(f" - {step} - STEP_START - ")
    assert not re.search(rf" - {re.escape(step)} - STEP_(SUCCESS|FAILURE) - ", full_log[since:]), \
        f"{step} finished before the kill"
    assert " - RUN_SUCCESS - " not in full_log and " - RUN_FAILURE - " not in full_log
    if phase == "publishing":
        assert kill.temporaries_at_kill, "no unfinished snapshot beside the published file: the kill came too late"
    assert kill.published_sha_after == crashes.baseline_sha, f"the published file changed when killed during {phase}"
    # killed with SIGKILL, the run could not record its end: it is left STARTED until the next build
    assert kill.run_status_after == "STARTED", kill.run_status_after


def test_each_next_build_finds_the_dead_one_and_the_last_one_succeeds(crashes):
    order = ["extraction", "dbt", "publishing"]
    nexts = [crashes.kills["dbt"].stdout, crashes.kills["publishing"].stdout, crashes.last.stdout]
    for phase, text in zip(order, nexts):
        pid = crashes.kills[phase].pid
        assert re.search(rf"A previous build \(PID {pid}\) did not finish: killed or crashed; its run "
                         rf"{crashes.kills[phase].run_id[:8]} is marked failed", text), text
    assert crashes.last.returncode == 0, f"{crashes.last.stdout}\n{crashes.last.stderr[-3000:]}"
    assert "removed its unfinished snapshot" in crashes.last.stdout, crashes.last.stdout
    print(f"baseline build {crashes.baseline_seconds:.0f} s; kills and the next build {crashes.seconds:.0f} s")


def test_killed_runs_are_marked_failed_in_the_instance(crashes):
    for phase, kill in crashes.kills.items():
        assert kill.run_id, f"no run of PID {kill.pid} in the instance"
        assert crashes.runs_after[kill.pid] == (kill.run_id, "FAILURE"), (phase, crashes.runs_after[kill.pid])
    assert crashes.runs_after[max(crashes.runs_after)][1] == "SUCCESS"


def test_nothing_of_the_killed_builds_is_left(crashes):
    assert crashes.orphans_after == [], "processes of killed builds still running"
    assert temporaries(crashes.env.warehouse) == []
    assert not list(crashes.env.warehouse.parent.glob("*.tmp-*"))


def test_marts_after_the_kills_equal_an_uninterrupted_build(crashes):
    assert marts_differences(crashes.baseline, crashes.env.warehouse) == []


def test_the_comparison_sees_a_changed_row(crashes, tmp_path):
    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(crashes.baseline, changed)
    con = duckdb.connect(str(changed))
    con.execute("update marts.fct_statistic set value = value + 1 where rowid = (select min(rowid) "
                "from marts.fct_statistic)")
    con.close()
    problems = marts_differences(crashes.baseline, changed)
    assert problems == ["fct_statistic: 1 rows in a not in b", "fct_statistic: 1 rows in b not in a"], problems
