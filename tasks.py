#!/usr/bin/env python3
"""Project tasks with nothing but Python 3.11 and pip: set up, build, test, evaluate, benchmark.

    python3 tasks.py build   # set up .venv and build the warehouse from seeds/ (new and changed files only)
    python3 tasks.py build --full   # the same, every file read again and every stage redone
    python3 tasks.py test    # set up .venv and run the test suite
    python3 tasks.py eval    # extraction scores vs. gold and external benchmarks
    python3 tasks.py bench   # extraction and documents-stage throughput and peak memory vs. peers
    python3 tasks.py bench-pipeline [--docs N]  # the whole graph on N generated documents, + an incremental run
    python3 tasks.py dev     # the Dagster UI (dagster dev) on http://127.0.0.1:3000

Set-up is idempotent: the virtualenv is (re)installed only when the lock file changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
LOCKS = {"base": ROOT / "requirements.lock", "bench": ROOT / "requirements-bench.lock"}


# The project's Dagster instance settings (queue of one run, run monitoring, no telemetry, the
# event log's open connections) are in dagster_project/instance_settings.py, which needs nothing
# but the standard library.
sys.path.insert(0, str(ROOT))
from dagster_project.instance_settings import ensure_dagster_yaml  # noqa: E402


def run(*cmd: str | os.PathLike, env: dict | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    proc = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if proc.returncode != 0:
        sys.exit(proc.returncode)


def setup(*extras: str) -> None:
    if sys.version_info[:2] != (3, 11):
        print(f"warning: this project is pinned for Python 3.11, running {sys.version.split()[0]}", file=sys.stderr)
    if not PY.exists():
        print(f"creating virtualenv {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    locks = [LOCKS["base"], *(LOCKS[e] for e in extras)]
    stamp = VENV / ".installed"
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in locks) + (ROOT / "pyproject.toml").read_bytes())
    wanted = "\n".join([digest.hexdigest(), *sorted(extras)])
    have = stamp.read_text() if stamp.exists() else ""
    if all(line in have.splitlines() for line in wanted.splitlines()):
        return
    run(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", *sum((["-r", str(p)] for p in locks), []))
    run(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps", "-e", ".")
    stamp.write_text(wanted)


def project_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    ensure_dagster_yaml(Path(env["DAGSTER_HOME"]))
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


def build(args: list[str]) -> None:
    """The console build (dagster_project/cli.py): one line per step, the published marts with
    their row counts, the quarantined files; debug events and dbt's output go to the log file it
    names. `--full` reads every file again and redoes every stage (full refresh)."""
    setup()
    proc = subprocess.run([str(PY), "-m", "dagster_project.cli", "build", *args], cwd=ROOT, env=project_env())
    sys.exit(proc.returncode)


def test(args: list[str]) -> None:
    setup()
    run(PY, "-m", "pytest", *args, env=project_env())


def evaluate(args: list[str]) -> None:
    setup()
    run(PY, "-m", "dagster_project.evaluation", *args, env=project_env())


def bench(args: list[str]) -> None:
    setup("bench")
    run(PY, "scripts/bench_extraction.py", *args, env=project_env())


def bench_pipeline(args: list[str]) -> None:
    setup()
    run(PY, "scripts/bench_pipeline.py", *args, env=project_env())


def dev(args: list[str]) -> None:
    setup()
    run(BIN / "dagster", "dev", *args, env=project_env())


def main() -> None:
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("help", [])
    if cmd == "setup":
        setup(*args)
    elif cmd == "build":
        build(args)
    elif cmd == "test":
        test(args)
    elif cmd == "eval":
        evaluate(args)
    elif cmd == "bench":
        bench(args)
    elif cmd == "bench-pipeline":
        bench_pipeline(args)
    elif cmd == "dev":
        dev(args)
    else:
        print(__doc__)
        sys.exit(0 if cmd == "help" else 2)


if __name__ == "__main__":
    main()
