"""The console build (`python -m dagster_project.cli build`, what `python3 tasks.py build` runs),
as a person sees it: a short console (one line per step, the marts and their counts, the
quarantined files with their reasons, where the log is), the log holding everything else, and a
second build with nothing new that says so.

Two builds in all (module-scoped), from a copy of seeds/ with an empty and a binary file added,
into a temporary pipeline database, warehouse, DAGSTER_HOME, dbt target and log folder."""

from __future__ import annotations

import re
import shutil

import pytest

from console_support import make_env, run_build
from dagster_project.assets.warehouse import mart_row_counts
from support import BINARY_BYTES, BINARY_FILE, EMPTY_FILE, SEEDS_DIR

pytestmark = pytest.mark.integration  # two whole builds

# the steps of build_warehouse that are not dbt (dbt is one step, or one per layer of Python assets)
STEPS = ("actor_gazetteer", "ingest_documents", "normalize", "actor_mentions", "statistics", "date_mentions",
         "sentences", "claims", "extract_events", "published_warehouse", "dashboard")
MAX_LINES = 60
STEP_LINE = re.compile(r"^  (ok  |FAIL) (\S+(?: \S+)?)\s+(\d+\.\d) s(?:  (.*))?$")


@pytest.fixture(scope="module")
def console_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("console")
    documents = root / "documents"
    shutil.copytree(SEEDS_DIR, documents)
    (documents / EMPTY_FILE).write_bytes(b"")
    (documents / BINARY_FILE).write_bytes(BINARY_BYTES)
    return make_env(root, documents)


@pytest.fixture(scope="module")
def first(console_env):
    result = run_build(console_env)
    assert result.returncode == 0, f"build failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def second(first, console_env):
    result = run_build(console_env)
    assert result.returncode == 0, f"second build failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-3000:]}"
    return result


def step_lines(lines: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in lines:
        m = STEP_LINE.match(line)
        if m:
            found.setdefault(m.group(2), []).append(line)
    return found


def test_console_is_short_and_free_of_debug_events(first):
    print(first.stdout)
    assert len(first.lines) < MAX_LINES, f"{len(first.lines)} lines:\n{first.stdout}"
    assert not re.search(r"DEBUG|STEP_START|ASSET_MATERIALIZATION|\d+ of \d+ START", first.stdout)
    assert first.stderr.strip() == "", f"the build wrote to stderr: {first.stderr[-2000:]}"


def test_one_line_per_step_with_rows_and_seconds(first):
    steps = step_lines(first.lines)
    for key in STEPS:
        assert len(steps.get(key, [])) == 1, f"{key}: {steps.get(key)}\n{first.stdout}"
        assert steps[key][0].startswith("  ok   "), steps[key]
    dbt = [k for k in steps if re.fullmatch(r"warehouse_models(_\d+)?", k)]
    assert dbt and all(len(steps[k]) == 1 for k in dbt), first.stdout
    assert any(re.search(r"\d+ tests: \d+ passed", steps[k][0]) for k in dbt), first.stdout
    assert "FAIL" not in first.stdout
    # rows written, and what was new this run
    assert re.search(r"\b7 files \(7 new, 0 changed, 0 deleted, 0 unchanged\)", steps["ingest_documents"][0]), \
        steps["ingest_documents"]
    assert re.search(r"11 articles \(5 files normalized\)", steps["normalize"][0]), steps["normalize"]
    assert re.search(r"[\d,]+ rows \([\d,]+ new from 11 articles\)", steps["actor_mentions"][0]), \
        steps["actor_mentions"]
    # a long step (dbt) shows progress while it runs
    assert any(line.startswith("  ...  warehouse_models") for line in first.lines), first.stdout


def test_quarantined_files_are_listed_with_their_reasons(first):
    steps = step_lines(first.lines)
    assert "quarantined_documents 2 (binary 1, empty 1)" in steps["ingest_documents"][0], steps["ingest_documents"]
    line = next((ln for ln in first.lines if ln.startswith("Quarantined ")), None)
    assert line is not None, first.stdout
    assert line.startswith("Quarantined 2 of 7 files: "), line
    assert f"{EMPTY_FILE} (empty)" in line and f"{BINARY_FILE} (binary)" in line, line


def test_marts_table_matches_the_published_file(first, console_env):
    counts = mart_row_counts(console_env.warehouse)
    assert len(counts) >= 14
    header = next(ln for ln in first.lines if ln.startswith("Published "))
    assert header == (f"Published {console_env.warehouse}: schema marts, {len(counts)} tables, "
                      f"{sum(counts.values()):,} rows"), header
    start = first.lines.index(header) + 1
    shown: dict[str, int] = {}
    for line in first.lines[start:start + -(-len(counts) // 2)]:  # two columns
        for name, n in re.findall(r"(\w+)\s+([\d,]+)(?:\s|$)", line):
            shown[name] = int(n.replace(",", ""))
    assert shown == counts
    assert counts["quarantined_documents"] == 2 and counts["dim_document"] == 11


def test_log_file_holds_the_debug_events_and_dbt_output(first, console_env):
    log = first.log_path
    assert log.parent == console_env.logs and log.is_file()
    assert first.lines[-4].startswith("Built in ") and first.lines[-4].endswith(f"Full log: {log}"), first.lines[-4:]
    text = log.read_text()
    assert text.count(" - DEBUG - ") > 100
    for event in ("RUN_START", "STEP_START", "ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "RUN_SUCCESS"):
        assert f" - {event} - " in text, event
    assert re.search(r"^(?:\d\d:\d\d:\d\d\s+)?\d+ of \d+ START ", text, re.M), "no dbt output in the log"
    # the console's lines are in the log too, among the events
    assert "[console] Quarantined 2 of 7 files" in text


def test_a_second_build_with_nothing_new_says_so(first, second, console_env):
    print(second.stdout)
    assert len(second.lines) < MAX_LINES, second.stdout
    assert any(line.startswith("Nothing new: the 7 files are unchanged since the last build") for line in second.lines), \
        second.stdout
    steps = step_lines(second.lines)
    assert re.search(r"7 files \(0 new, 0 changed, 0 deleted, 7 unchanged\)", steps["ingest_documents"][0]), \
        steps["ingest_documents"]
    assert "(no file to normalize)" in steps["normalize"][0], steps["normalize"]
    for key in ("actor_mentions", "statistics", "date_mentions", "sentences", "claims"):
        assert "(nothing new)" in steps[key][0], steps[key]
    # the marts equal the published snapshot's: the file is kept as it is, and the console says so
    assert "unchanged since the last publish, not written again" in steps["published_warehouse"][0], \
        steps["published_warehouse"]
    assert any(line.startswith(f"Unchanged {console_env.warehouse}: schema marts, ") for line in second.lines), \
        second.stdout
    assert second.log_path != first.log_path and second.log_path.is_file()
