#!/usr/bin/env python
"""Event linking at scale: time and peak memory of `link_events` on k copies of a pipeline
database's event reports.

    .venv/bin/python scripts/bench_linking.py --db PIPELINE_DB [--copies 1 4 8 32] [--baseline REV]

The reports, their actors and the documents' publication dates are read from the database
(for instance the work folder of `python3 tasks.py bench-pipeline --docs 2000`). Copy i of
every document gets its own document_id and its dates shifted by whole years (from -4 to +4,
and dated reports other than year-precision ones by 0-2 months as well), as the generated
collection varies them, so that the copies are other events on other dates of the same kinds.
Each size runs in its own process (peak RSS is that process's, inputs included). With
`--baseline REV`, the linking module of commit REV runs on the same input, one after the
other, for a paired comparison. Nothing is asserted: the numbers are printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load(db: str, copies: int):
    import duckdb
    import polars as pl

    from dagster_project.assets.events import REPORT_ACTOR_SCHEMA, REPORT_ROW_SCHEMA

    con = duckdb.connect(db, read_only=True)
    rows = con.execute("select * from raw.event_report_rows").pl().cast(REPORT_ROW_SCHEMA)
    actors = con.execute("select * from raw.event_report_actors").pl().cast(REPORT_ACTOR_SCHEMA)
    docs = con.execute("select document_id, published_date from raw.normalized_documents").pl()
    gazetteer = con.execute("select actor_id, actor_type from raw.actor_gazetteer").pl()
    con.close()

    def copy(frame: pl.DataFrame, i: int, dates: list[str]) -> pl.DataFrame:
        frame = frame.with_columns(document_id=pl.col("document_id") + f"-{i}")
        if i == 0 or not dates:
            return frame
        years = pl.format("{}y", (pl.col("document_id").hash(i) % 9).cast(pl.Int64) - 4)
        months = pl.format("{}mo", (pl.col("document_id").hash(i + 99) % 3).cast(pl.Int64))
        if "date_precision" in frame.columns:
            shifted = [pl.when(pl.col("date_precision") == "year").then(pl.col(c).dt.offset_by(years))
                       .otherwise(pl.col(c).dt.offset_by(years).dt.offset_by(months)).alias(c) for c in dates]
            frame = frame.with_columns(shifted)
            return frame.with_columns(date_end=pl.when(pl.col("date_precision") == "month")
                                      .then(pl.col("date_end").dt.month_end()).otherwise(pl.col("date_end")))
        return frame.with_columns([pl.col(c).dt.offset_by(years).alias(c) for c in dates])

    return (pl.concat([copy(rows, i, ["date_start", "date_end"]) for i in range(copies)]),
            pl.concat([copy(actors, i, []) for i in range(copies)]),
            pl.concat([copy(docs, i, ["published_date"]) for i in range(copies)]), gazetteer)


def _one(db: str, copies: int, module_path: str) -> dict:
    """In this process: link `copies` copies with the linking module at module_path."""
    spec = importlib.util.spec_from_file_location("linking_under_test", module_path)
    linking = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(linking)
    rows, actors, docs, gazetteer = _load(db, copies)
    started = time.perf_counter()
    linked = linking.link_events(rows, actors, None, docs, gazetteer)
    seconds = time.perf_counter() - started
    import polars as pl

    keyed = linked.filter(pl.col("event_key").is_not_null())
    largest = (keyed.group_by("event_key").agg(n=pl.col("document_id").n_unique())["n"].max() or 0) if keyed.height else 0
    return {"copies": copies, "documents": docs.height, "reports": rows.height, "seconds": round(seconds, 2),
            "events": keyed["event_key"].n_unique(), "largest_event_documents": int(largest),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a pipeline database with raw.event_report_rows")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 8, 32])
    parser.add_argument("--baseline", help="a commit whose events/linking.py runs on the same input")
    parser.add_argument("--one", nargs=2, metavar=("COPIES", "MODULE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.db, int(args.one[0]), args.one[1])))
        return 0
    modules = {"current": str(ROOT / "dagster_project" / "events" / "linking.py")}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            path = Path(tmp) / "linking_baseline.py"
            path.write_text(subprocess.run(["git", "show", f"{args.baseline}:dagster_project/events/linking.py"],
                                           cwd=ROOT, check=True, capture_output=True, text=True).stdout)
            modules["baseline " + args.baseline] = str(path)
        print(f"{'version':<22} {'copies':>6} {'documents':>10} {'reports':>9} {'seconds':>8} {'peak MiB':>9} "
              f"{'events':>8} {'largest':>8}")
        for copies in args.copies:
            for label, module in modules.items():
                proc = subprocess.run([sys.executable, __file__, "--db", args.db, "--one", str(copies), module],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"{label:<22} {copies:>6} failed: {proc.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"{label:<22} {copies:>6} {r['documents']:>10,} {r['reports']:>9,} {r['seconds']:>8.2f} "
                      f"{r['peak_rss_mib']:>9,} {r['events']:>8,} {r['largest_event_documents']:>8,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
