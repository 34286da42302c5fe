#!/usr/bin/env python
"""Throughput and peak memory of the extraction and documents stages, measured against a
reference pass and peers.

    python3 tasks.py bench [--mb 100] [--json results.json]      # installs requirements-bench.lock first
    .venv/bin/python scripts/bench_extraction.py [--mb 100] [--json results.json] [--synthetic-html]

One run does everything:

1. Builds (or reuses from `.bench/`) the corpora the selected steps need (scripts/bench/):
   - extraction (steps a-h): at least `--mb` MB of article bodies (MB = 10**6 bytes of UTF-8
     body_text), every copy of the normalized seed articles with its own seeded variations;
   - text scrapes (steps i, j): `--normalize-mb` MB of raw_text, copies of the raw seed files
     whose prose lines vary per copy while menus and boilerplate stay identical; written out
     as files (`--ingest-mb`) for ingest;
   - HTML pages (steps k, l): the saved pages of $BENCHMARKS_DIR/webpages/html (else
     ../shared/benchmarks/webpages/html), read in place, up to `--html-mb`; when there are
     none (or with --synthetic-html, or BENCH_SYNTHETIC_HTML=1), synthetic pages: the seed
     articles, varied, in page templates with navigation, scripts and footer.
2. Runs every step in a fresh subprocess (this script with `--step NAME`), so peak memory is
   per step: warm-up on a small slice, then one timed run.
3. Prints one table and the ratios against the targets (PASS / BELOW; nothing is asserted:
   the machine is shared and noisy, only ratios within one run mean anything).

Peak memory, per step process: VmHWM is reset through /proc/self/clear_refs just before the
timed run (input loaded, warm-up done); peak RSS is VmHWM after the run and ΔRSS that minus
VmRSS before it. See scripts/bench/steps.py and docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.bench.common import rows_for_mb, shown  # noqa: E402
from scripts.bench.steps import STEPS, run_step  # noqa: E402


def _parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=100.0, help="extraction corpus size in MB (10**6 bytes of body text)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--datefinder-mb", type=float, default=3.0, help="subset for datefinder (slow)")
    ap.add_argument("--spacy-mb", type=float, default=2.0, help="subset for spaCy (slow)")
    ap.add_argument("--normalize-mb", type=float, help="text scrapes for normalize_documents (default: --mb)")
    ap.add_argument("--ingest-mb", type=float, help="files for ingest_folder (default: --mb, at most 20)")
    ap.add_argument("--html-mb", type=float, default=3.0,
                    help="HTML for extract_html_frame and trafilatura (slow; at most --mb)")
    ap.add_argument("--html-pages", type=Path,
                    help="folder of saved *.html pages (default: $BENCHMARKS_DIR/webpages/html, "
                         "else ../shared/benchmarks/webpages/html)")
    ap.add_argument("--synthetic-html", action="store_true",
                    help="synthetic pages even when saved pages exist (also BENCH_SYNTHETIC_HTML=1)")
    ap.add_argument("--steps", default=",".join(STEPS), help="comma-separated subset of: " + ",".join(STEPS))
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached corpora")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--warm-rows", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--limit-mb", type=float, help=argparse.SUPPRESS)
    return ap.parse_args()


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _extraction_corpus(args, corpora: dict) -> tuple[Path, dict]:
    import polars as pl

    from scripts.bench.corpus import build_corpus, corpus_path

    path = corpus_path(args.mb, args.seed)
    info: dict = {"path": shown(path), "cached": path.exists() and not args.rebuild}
    if not info["cached"]:
        _log(f"building extraction corpus {path.name} ...")
        info.update(build_corpus(args.mb, args.seed, path))
    stats = pl.read_parquet(path).select(
        rows=pl.len(), mb=pl.col("body_text").str.len_bytes().sum() / 1e6,
        unique_bodies=pl.col("body_text").n_unique(), unique_ids=pl.col("document_id").n_unique(),
        with_published_date=pl.col("published_date").is_not_null().sum(),
        lengths=pl.col("body_text").str.len_bytes(),
    )
    lengths = stats["lengths"].to_list()
    info.update({k: stats[k][0] for k in ("rows", "unique_bodies", "unique_ids", "with_published_date")})
    info["mb"] = round(float(stats["mb"][0]), 2)
    corpora["extraction"] = info
    _log(f"extraction corpus: {info['rows']} rows, {info['mb']} MB, {info['unique_bodies']} distinct bodies"
         f" ({path.name}{', cached' if info['cached'] else ''})")
    subsets = {"full": None, "datefinder": rows_for_mb(lengths, args.datefinder_mb),
               "spacy": rows_for_mb(lengths, args.spacy_mb)}
    return path, subsets


def _text_corpus(args, mb: float, corpora: dict) -> Path:
    import polars as pl

    from scripts.bench.documents import build_text_corpus, text_corpus_path

    path = text_corpus_path(mb, args.seed)
    info: dict = {"path": shown(path), "cached": path.exists() and not args.rebuild}
    if not info["cached"]:
        _log(f"building text scrapes {path.name} ...")
        info.update(build_text_corpus(mb, args.seed, path))
    stats = pl.read_parquet(path).select(
        rows=pl.len(), mb=pl.col("raw_text").str.len_bytes().sum() / 1e6,
        unique_texts=pl.col("raw_text").n_unique(), lengths=pl.col("raw_text").str.len_bytes())
    info.update(rows=stats["rows"][0], unique_texts=stats["unique_texts"][0], mb=round(float(stats["mb"][0]), 2))
    info["lengths"] = stats["lengths"].to_list()
    corpora["text"] = info
    _log(f"text scrapes: {info['rows']} files, {info['mb']} MB, {info['unique_texts']} distinct"
         f" ({path.name}{', cached' if info['cached'] else ''})")
    return path


def _html_input(args, mb: float, corpora: dict) -> tuple[Path, int | None, float | None]:
    """(input for the html steps, rows, limit_mb): the saved pages' folder, or a synthetic corpus."""
    import polars as pl

    from scripts.bench.documents import build_html_corpus, html_corpus_path, html_pages_dir, read_real_pages, real_pages

    folder = html_pages_dir(args.html_pages)
    synthetic = args.synthetic_html or os.environ.get("BENCH_SYNTHETIC_HTML", "") not in ("", "0")
    if not synthetic and real_pages(folder):
        pages = read_real_pages(folder, mb)
        corpora["html"] = {"source": f"saved pages read in place from {folder}", "folder": str(folder),
                           "rows": pages.height, "mb": round(pages["raw_text"].str.len_bytes().sum() / 1e6, 2)}
        _log(f"HTML: {pages.height} saved pages in {folder}")
        return folder, None, mb
    path = html_corpus_path(mb, args.seed)
    info: dict = {"path": shown(path), "cached": path.exists() and not args.rebuild}
    if not info["cached"]:
        _log(f"building synthetic HTML pages {path.name} ...")
        info.update(build_html_corpus(mb, args.seed, path))
    frame = pl.read_parquet(path, columns=["raw_text"])
    why = "--synthetic-html" if synthetic else f"no saved pages in {folder}"
    info.update(source=f"synthetic pages from the seed articles ({why})", rows=frame.height,
                mb=round(frame["raw_text"].str.len_bytes().sum() / 1e6, 2))
    corpora["html"] = info
    _log(f"HTML: {info['rows']} synthetic pages, {info['mb']} MB ({path.name}{', cached' if info['cached'] else ''})")
    return path, None, None


def main() -> None:
    args = _parse_args()
    if args.step:  # child process: one step, result as the last stdout line
        res = run_step(args.step, args.input, args.rows, args.warm_rows, args.limit_mb)
        print("RESULT " + json.dumps(res), flush=True)
        return

    import polars as pl

    from scripts.bench.documents import build_ingest_folder
    from scripts.bench.report import print_report, write_json

    steps = [s for s in args.steps.split(",") if s]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise SystemExit(f"unknown steps {unknown}; known: {', '.join(STEPS)}")
    kinds = {STEPS[s][1] for s in steps}
    load_start = os.getloadavg()
    corpora: dict = {}
    inputs: dict[str, tuple[Path, int | None, float | None]] = {}

    if kinds & {"full", "datefinder", "spacy"}:
        path, subsets = _extraction_corpus(args, corpora)
        for kind in ("full", "datefinder", "spacy"):
            inputs[kind] = (path, subsets[kind], None)
    if kinds & {"text", "ingest"}:
        normalize_mb = args.normalize_mb if args.normalize_mb is not None else args.mb
        ingest_mb = args.ingest_mb if args.ingest_mb is not None else min(args.mb, 20.0)
        text_mb = max(normalize_mb if "text" in kinds else 0, ingest_mb if "ingest" in kinds else 0)
        path = _text_corpus(args, text_mb, corpora)
        lengths = corpora["text"].pop("lengths")
        rows = rows_for_mb(lengths, normalize_mb) if normalize_mb < text_mb else None  # None: every file
        inputs["text"] = (path, rows, None)
        if "ingest" in kinds:
            folder = build_ingest_folder(path, ingest_mb)
            corpora["ingest"] = {"folder": shown(folder), "mb": ingest_mb}
            inputs["ingest"] = (folder, None, None)
    if "html" in kinds:
        inputs["html"] = _html_input(args, min(args.html_mb, args.mb), corpora)

    results: dict[str, dict] = {}
    for name in steps:
        path, rows, limit_mb = inputs[STEPS[name][1]]
        cmd = [sys.executable, str(Path(__file__).resolve()), "--step", name, "--input", str(path)]
        if rows is not None:
            cmd += ["--rows", str(rows)]
        if limit_mb is not None:
            cmd += ["--limit-mb", str(limit_mb)]
        _log(f"  running {name} ...")
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            _log(f"  step {name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
            results[name] = {"step": name, "label": STEPS[name][0], "error": proc.stderr[-3000:]}
            continue
        results[name] = json.loads(line[len("RESULT "):])
        r = results[name]
        _log(f"    {r['seconds']:.2f} s, {r['mb_per_s']:.2f} MB/s")

    load_end = os.getloadavg()
    ratios = print_report(results, corpora, load_start, load_end, pl.__version__)
    if args.json:
        write_json(args.json, results, corpora, ratios, load_start, load_end, pl.__version__)
    failed = [n for n, r in results.items() if "error" in r]
    if failed:
        _log(f"failed steps: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
