"""Automation for the whole graph: a sensor that runs it when the input folder changes, and a
daily schedule. Both are off (STOPPED) until someone turns them on in the UI or with
`dagster sensor start documents_folder_sensor` / `dagster schedule start daily_build_warehouse`.

The sensor does not read any file. At each tick it walks the input folder the way the ingest
does (`walk_folder`: same folder resolution, run config aside, and same relative paths) and
hashes what it finds into a fingerprint: every entry's relative path, kind (file, symlink
outside the folder, broken symlink, unreadable), size and modification time. Entries under a
hidden path (a part starting with '.') are left out, so an editor's swap file or a `.DS_Store`
never starts a run (the ingest still records them as `hidden` in the quarantine at the next
run). The fingerprint of the last requested run is the sensor's cursor; a different one means
files were added, changed or removed since then, and the sensor requests a run of
`build_warehouse`, which is incremental: it reads only what changed.

The run key is the request's sequence number and the fingerprint, so a retried tick never
launches the same run twice, while a folder that returns to an earlier state (a file added,
then removed) still gets its run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import dagster as dg

from dagster_project.documents.ingest import walk_folder
from dagster_project.paths import DocumentsDirError, documents_dir

JOB_NAME = "build_warehouse"  # the job over every asset (definitions.py)
SENSOR_INTERVAL_SECONDS = 60
DAILY_CRON = "0 3 * * *"  # 03:00 every day, in the schedule's timezone (UTC unless changed)


@dataclass(frozen=True)
class FolderFingerprint:
    digest: str  # sha256 hex of the sorted (path, kind, size, mtime_ns) lines
    files: int  # entries counted (hidden paths left out)
    folder: str

    def cursor(self, requests: int) -> str:
        return json.dumps({"fingerprint": self.digest, "files": self.files, "folder": self.folder,
                           "requests": requests}, sort_keys=True)


def is_hidden(relative_path: str) -> bool:
    """A path the ingest does not read: one of its parts starts with '.'."""
    return any(part.startswith(".") for part in relative_path.split("/"))


def folder_fingerprint(folder=None) -> FolderFingerprint:
    """The fingerprint of `folder` (default: $DOCUMENTS_DIR, else seeds/, as the ingest
    resolves it). A `stat` per entry, no file is opened. Raises DocumentsDirError when the
    folder is not usable and OSError when it cannot be listed."""
    walk = walk_folder(folder if folder is not None else documents_dir())
    digest = hashlib.sha256()
    files = 0
    for entry in walk.entries:  # sorted by name
        if entry.kind == "hidden" or is_hidden(entry.name):
            continue
        files += 1
        digest.update(f"{entry.name}\0{entry.kind}\0{entry.size}\0{entry.mtime_ns}\n".encode())
    return FolderFingerprint(digest.hexdigest(), files, str(walk.root))


def parse_cursor(cursor: str | None) -> dict:
    """The sensor's cursor as a dict ({} when there is none or it is not ours)."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dg.sensor(
    name="documents_folder_sensor",
    job_name=JOB_NAME,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs build_warehouse when files were added, changed or removed in the input folder "
                "($DOCUMENTS_DIR, else seeds/) since the run it last requested. Compares paths, sizes and "
                "modification times, never reads a file; hidden paths are ignored. Off by default.",
)
def documents_folder_sensor(context: dg.SensorEvaluationContext):
    try:
        fingerprint = folder_fingerprint()
    except (DocumentsDirError, OSError) as exc:
        return dg.SkipReason(f"input folder not usable: {exc}")
    if fingerprint.files == 0:
        # the ingest would refuse an empty folder; the cursor stays, so the files coming back
        # unchanged does not start a run either
        return dg.SkipReason(f"{fingerprint.folder} holds no files (hidden ones aside): nothing to load")
    previous = parse_cursor(context.cursor)
    if previous.get("fingerprint") == fingerprint.digest and previous.get("folder") == fingerprint.folder:
        return dg.SkipReason(f"no file added, changed or removed in {fingerprint.folder} since the last "
                             f"requested run ({fingerprint.files} files)")
    requests = int(previous.get("requests", 0)) + 1
    context.update_cursor(fingerprint.cursor(requests))
    context.log.info(
        f"{fingerprint.folder}: " + ("no earlier fingerprint (first evaluation)" if not previous else
                                     f"{previous.get('files', '?')} files before, {fingerprint.files} now, "
                                     f"paths, sizes or modification times changed") + ": requesting a run")
    return dg.RunRequest(
        run_key=f"documents-{requests}-{fingerprint.digest[:16]}",
        run_config={"ops": {"ingest_documents": {"config": {"documents_dir": fingerprint.folder}}}},
        tags={"geo_warehouse/trigger": "documents_folder_sensor",
              "geo_warehouse/folder_fingerprint": fingerprint.digest[:16],
              "geo_warehouse/files": str(fingerprint.files)},
    )


daily_build_warehouse = dg.ScheduleDefinition(
    name="daily_build_warehouse",
    job_name=JOB_NAME,
    cron_schedule=DAILY_CRON,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Runs build_warehouse (every asset, incremental: only new and changed files are read) once a "
                "day at 03:00 UTC. Off by default.",
)

SENSORS = [documents_folder_sensor]
SCHEDULES = [daily_build_warehouse]
