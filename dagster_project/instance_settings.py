"""The project's Dagster instance settings (`$DAGSTER_HOME/dagster.yaml`).

Standard library only: `tasks.py` writes the file with the system Python, before the virtualenv
exists, and the console build (`dagster_project/cli.py`) writes it when DAGSTER_HOME has none.
"""

from __future__ import annotations

from pathlib import Path

# Bumped whenever the settings below change: a dagster.yaml without this line is rewritten.
MARKER = "# geo-warehouse instance settings v2"

# - no telemetry (no network here);
# - runs queue with a concurrency limit of one: DuckDB allows one writer, so a second launch
#   waits instead of failing on the pipeline database's lock;
# - run monitoring: a run whose process was killed is marked failed instead of staying STARTED;
# - the event log keeps its SQLite connections open between events (dagster_project/event_log.py):
#   the same files as Dagster's default storage, without an engine, a connection and a WAL
#   checkpoint per event.
TEMPLATE = """{marker}
# (written by the project; remove the line above to keep your own edits from being replaced)
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 30
event_log_storage:
  module: dagster_project.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""


def dagster_yaml(home: Path) -> str:
    return TEMPLATE.format(marker=MARKER, event_log_dir=str(Path(home).resolve() / "history" / "runs"))


def ensure_dagster_yaml(home: Path) -> Path:
    """Write the project's settings into `home/dagster.yaml`, unless the file already holds them
    or is one the user wrote (see `_replaceable`)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    conf = home / "dagster.yaml"
    wanted = dagster_yaml(home)
    current = conf.read_text() if conf.exists() else ""
    if current != wanted and _replaceable(current):
        conf.write_text(wanted)
    return conf


def _replaceable(current: str) -> bool:
    """An empty file, any version of the project's settings (its first line is the marker), or one
    of the files the project wrote before it had a marker: replaced. Anything else was written by
    the user: kept."""
    if not current.strip() or current.startswith(MARKER.rsplit(" ", 1)[0]):
        return True
    return current in _UNMARKED


# what tasks.py and the console build wrote before the marker existed
_UNMARKED = (
    "telemetry:\n  enabled: false\n",
    "telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\nrun_monitoring:\n"
    "  enabled: true\n  start_timeout_seconds: 180\n  max_resume_run_attempts: 0\n  poll_interval_seconds: 30\n",
)
