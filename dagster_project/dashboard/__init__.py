"""The offline dashboard: one self-contained HTML file built from the published warehouse.

    from dagster_project.dashboard import build_dashboard
    build_dashboard("data/warehouse.duckdb", "data/dashboard.html")

It opens the published snapshot read-only, runs the queries of `queries.py` (aggregates, and
the rows behind each point capped in SQL), draws the five charts of `charts.py` with Plotly and writes one page (`page.py`) with plotly.js embedded, so it
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

__all__ = ["build_dashboard", "build_charts", "dashboard_path", "DashboardError"]


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
        built, summaries = build_charts(con, history)
        summary = queries.summary(con)
    finally:
        con.close()
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


def build_charts(con, history: list[dict[str, Any]] | None = None) -> tuple[list[charts.Chart], list[dict[str, Any]]]:
    """The five charts of the warehouse open on `con`, and the run summaries of the file.

    The aggregates each chart plots come from SQL, and so do the rows behind its points, capped
    at charts.ROWS_PER_POINT per point and about charts.ROWS_PER_TABLE per table (read here, at
    call time): what is fetched stays bounded however large the warehouse grows."""
    caps = (charts.ROWS_PER_POINT, charts.ROWS_PER_TABLE)
    runs = queries.fetch(con, queries.RUNS)
    figure_counts = queries.fetch(con, queries.FIGURE_COUNTS)
    quarantined = queries.fetch(con, queries.QUARANTINED)
    toll_events = queries.fetch(con, queries.TOLL_EVENTS)
    claimant_counts = queries.fetch(con, queries.CLAIMANT_COUNTS)
    bars = charts.claimant_bars(claimant_counts)
    built = [
        charts.events_over_time(queries.fetch(con, queries.EVENT_COUNTS), queries.fetch(con, queries.event_rows(*caps))),
        charts.tolls_by_source(toll_events, queries.fetch(con, queries.toll_rows(*caps, charts.MAX_DRAWN_SOURCES),
                                                          [charts.charted_toll_events(toll_events)])),
        charts.claims_by_claimant(claimant_counts, queries.fetch(con, queries.claim_rows(*caps), [
            queries.encoded([actor for actor, _ in bars.named]), queries.encoded([text for _, text in bars.named]),
            queries.encoded(list(bars.named.values())), bars.other])),
        charts.actors_together(queries.fetch(con, queries.CO_OCCURRENCE)),
        charts.figures_and_quarantine(runs, figure_counts, queries.fetch(con, queries.figure_rows(*caps)),
                                      quarantined, history),
    ]
    return built, charts.run_summaries(runs, figure_counts, quarantined)


def dashboard_path(warehouse_path: str | os.PathLike) -> Path:
    """Where the dashboard of a published file goes: `dashboard.html` beside it."""
    return Path(warehouse_path).resolve().with_name("dashboard.html")
