"""The benchmark runs end to end, as the README gives it, at a small size: `python3 tasks.py
bench` installs requirements-bench.lock into .venv (once) and runs every step.

Only that it runs is asserted, and that each documents-stage row reports a positive
throughput: the machine is shared and noisy, so no speed is compared with a fixed threshold
(the script prints its own ratios and PASS / BELOW, within one run).

The first test runs every step on synthetic HTML (BENCHMARKS_DIR points at an empty folder,
and --synthetic-html is given); the second gives the HTML steps a folder of saved pages
through BENCHMARKS_DIR and checks that they are read there, in place.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = "1"  # MB per corpus: a second or two per step; both tests take ~30 s once the bench lock is installed

# rows of the table: label prefix -> step
DOCUMENT_ROWS = {
    "(i) normalize_documents": "normalize",
    "(j) ingest_folder": "ingest",
    "(k) extract_html_frame": "html",
    "(l) trafilatura.bare_extraction": "trafilatura",
}
EXTRACTION_ROWS = ("(a) reference", "(b) extract_actor_mentions", "(e) whole stage", "(g) datefinder",
                   "(h) spaCy EntityRuler")


def run_bench(tmp_path: Path, *args: str, benchmarks_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, BENCHMARKS_DIR=str(benchmarks_dir), BENCH_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("BENCH_SYNTHETIC_HTML", None)
    proc = subprocess.run([sys.executable, "tasks.py", "bench", "--mb", MB, "--json", str(tmp_path / "bench.json"),
                           *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    return proc


def results(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "bench.json").read_text())


def table_rows(stdout: str) -> dict[str, list[str]]:
    """label prefix -> the row's cells (label, MB, seconds, MB/s, peak ΔRSS, peak RSS, rows out, setup s)."""
    rows = {}
    for line in stdout.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        for prefix in (*DOCUMENT_ROWS, *EXTRACTION_ROWS):
            if cells[0].startswith(prefix) and len(cells) == 8:
                rows[prefix] = cells
    return rows


def assert_positive_throughput(rows: dict[str, list[str]], prefixes, results: dict) -> None:
    """Each row is in the printed table with MB/s > 0 and rows out > 0, and in the JSON with
    MB > 0, seconds > 0 (the table rounds them)."""
    for prefix in prefixes:
        assert prefix in rows, f"no row {prefix!r} in the table"
        label, _, _, mbps, *_ = rows[prefix]
        assert float(mbps) > 0, rows[prefix]
        assert int(rows[prefix][6].replace(",", "")) > 0, f"{label}: no rows out"
        step = next(r for r in results["steps"].values() if r["label"] == label)
        assert step["mb"] > 0 and step["seconds"] > 0 and step["mb_per_s"] > 0, step


def test_bench_runs_every_step_with_synthetic_html(tmp_path):
    empty = tmp_path / "no-benchmarks"  # no webpages/html here: synthetic pages
    empty.mkdir()
    proc = run_bench(tmp_path, "--synthetic-html", benchmarks_dir=empty)
    out = proc.stdout
    assert "FAILED" not in out
    assert_positive_throughput(table_rows(out), [*EXTRACTION_ROWS, *DOCUMENT_ROWS], results(tmp_path))
    assert re.search(r"HTML pages: \d+ pages, [\d.]+ MB of HTML, synthetic pages", out), out
    # the targets and ratios of the documents stage are printed, with a verdict, never asserted
    assert re.search(r"text normalization throughput\s+[\d.]+ MB/s\s+>= 25 MB/s\s+(PASS|BELOW)", out), out
    assert re.search(r"text normalization vs reference pass \(time factor\)\s+[\d.]+x slower", out), out
    assert re.search(r"HTML: extract_html_frame vs plain trafilatura \(MB/s ratio\)\s+[\d.]+x", out), out
    assert list((tmp_path / "cache").glob("html_*.parquet")), "synthetic pages are built in BENCH_CACHE_DIR"


def test_bench_reads_saved_pages_in_place(tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        from scripts.bench.documents import render_page
    finally:
        sys.path.remove(str(ROOT))
    pages = tmp_path / "benchmarks" / "webpages" / "html"
    pages.mkdir(parents=True)
    para = ("Officials said the attack on the checkpoint near the border killed 12 people and wounded 30 "
            "others on Tuesday, the third such attack this month.")
    for i in range(3):
        page = render_page(i, i, f"Attack on border checkpoint number {i} kills 12", [para] * 6, ["Jane Doe"],
                           None, ["Other news"])
        (pages / f"page{i}.html").write_text(page, encoding="utf-8")
    proc = run_bench(tmp_path, "--steps", "html,trafilatura", benchmarks_dir=tmp_path / "benchmarks")
    out = proc.stdout
    assert f"saved pages read in place from {pages}" in out, out
    assert_positive_throughput(table_rows(out), ["(k) extract_html_frame", "(l) trafilatura.bare_extraction"],
                               results(tmp_path))
    assert not list((tmp_path / "cache").glob("html_*")), "saved pages must not be copied into the cache"
