"""The offline dashboard: one self-contained HTML file built from the published warehouse.

    from dagster_project.dashboard import build_dashboard
    build_dashboard("data/warehouse.duckdb", "data/dashboard.html")

It opens the published snapshot read-only, runs the queries of `queries.py`, draws the five
charts of `charts.py` with Plotly and writes one page (`page.py`) with plotly.js embedded, so it
opens in a browser with no network. Every bar, marker or cell drills down to the rows behind it,
with the sentence they came from. No Dagster import here: the asset is `assets/dashboard.py`.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from dagster_project.dashboard import charts, queries
from dagster_project.dashboard.page import render
from dagster_project.dashboard.queries import DashboardError

__all__ = ["build_dashboard", "dashboard_path", "DashboardError"]


def build_dashboard(warehouse_path: str | os.PathLike, out_path: str | os.PathLike,
                    history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write the dashboard of the warehouse at `warehouse_path` to `out_path` (atomically: a
    browser that has the old page open never reads half a file) and say what is in it.

    `history`: run summaries of earlier publishes (the `runs` this function returned for them),
    drawn on the per-run chart beside the runs of this file; their rows are not in this file.

    Returns {"path", "charts": [chart ids], "chart_count", "rows": {chart: rows behind it},
    "points": {chart: plotted values}, "runs": [run summaries of this file], "bytes"}."""
    warehouse_path, out_path = Path(warehouse_path), Path(out_path)
    if not warehouse_path.is_file():
        raise DashboardError(f"no published warehouse at {warehouse_path}: materialize published_warehouse first")
    con = queries.connect(str(warehouse_path))
    try:
        queries.check_schema(con)
        runs = queries.fetch(con, queries.RUNS)
        figures = queries.fetch(con, queries.FIGURES)
        quarantined = queries.fetch(con, queries.QUARANTINED)
        built = [
            charts.events_over_time(queries.fetch(con, queries.EVENTS)),
            charts.tolls_by_source(queries.fetch(con, queries.TOLLS)),
            charts.claims_by_claimant(queries.fetch(con, queries.CLAIMS)),
            charts.actors_together(queries.fetch(con, queries.CO_OCCURRENCE)),
            charts.figures_and_quarantine(runs, figures, quarantined, history),
        ]
        summary = queries.summary(con)
    finally:
        con.close()
    summaries = charts.run_summaries(runs, figures, quarantined)
    header = {
        "title": "geo-warehouse dashboard",
        "source": f"Built {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC from {warehouse_path} "
                  f"(read-only); every chart drills down to its rows below it.",
        "facts": {
            "documents": summary["documents"],
            "last ingest": charts.run_label(summary["last_ingest"]) if summary["last_ingest"] else "none",
            "events": summary["fct_event"], "claims": summary["fct_claim"], "figures": summary["fct_statistic"],
            "quarantined files": summary["quarantined_documents"],
        },
    }
    page = render(built, header)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f"{out_path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return {
        "path": str(out_path.resolve()),
        "charts": [c.id for c in built],
        "chart_count": len(built),
        "rows": {c.id: c.rows for c in built},
        "points": {c.id: c.points for c in built},
        "runs": summaries,
        "bytes": out_path.stat().st_size,
    }


def dashboard_path(warehouse_path: str | os.PathLike) -> Path:
    """Where the dashboard of a published file goes: `dashboard.html` beside it."""
    return Path(warehouse_path).resolve().with_name("dashboard.html")
