"""The dashboard of the published warehouse: one HTML file that opens offline in a browser."""

from typing import Any

import dagster as dg

from dagster_project.dashboard import build_dashboard, dashboard_path
from dagster_project.paths import warehouse_path

# earlier publishes drawn on the per-run chart (from this asset's own materialization metadata)
HISTORY_RUNS = 30


def earlier_runs(context: dg.AssetExecutionContext, limit: int = HISTORY_RUNS) -> list[dict[str, Any]]:
    """The run summaries this asset recorded when it built earlier dashboards, newest first,
    one per run. The published file holds only its own run; this is where earlier ones live."""
    try:
        records = context.instance.fetch_materializations(context.asset_key, limit=limit).records
    except Exception as exc:  # the history is a nicety: never fail the dashboard over it
        context.log.warning(f"dashboard: no run history ({type(exc).__name__}: {exc})")
        return []
    runs: dict[str, dict[str, Any]] = {}
    for record in records:
        entry = record.asset_materialization.metadata.get("run_summary") if record.asset_materialization else None
        for summary in (entry.value if entry is not None else None) or []:
            if isinstance(summary, dict) and summary.get("run_at"):
                runs.setdefault(summary["run_at"], summary)
    return sorted(runs.values(), key=lambda s: s["run_at"], reverse=True)[:limit]


@dg.asset(deps=["published_warehouse"], group_name="publish", kinds={"python", "html"})
def dashboard(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """`dashboard.html` beside the published warehouse (default data/dashboard.html): Plotly charts of
    events over time, every source's toll for multi-source events, claims by claimant, actors that
    share events, and figures and quarantined files per run, each drilling down to its rows and
    their sentences. One self-contained file (plotly.js inline): it opens offline."""
    warehouse = warehouse_path()
    out = dashboard_path(warehouse)
    info = build_dashboard(warehouse, out, history=earlier_runs(context))
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(info["path"]),
        "chart_count": info["chart_count"],
        "rows_per_chart": dg.MetadataValue.json(info["rows"]),
        "points_per_chart": dg.MetadataValue.json(info["points"]),
        "run_summary": dg.MetadataValue.json(info["runs"]),
        "bytes": info["bytes"],
        "open_with": f"xdg-open {info['path']}",
    })
