"""One self-contained HTML page: plotly.js inline (once), the figures as JSON, the drill-down
tables as HTML, and a few lines of inline JavaScript. Nothing is fetched when it opens.

Text from documents is untrusted: table cells and attributes go through html.escape, the figure
JSON has every <, > and & written as a \\u escape (it cannot close its <script> element), and the
status line is set with textContent."""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any

from plotly.offline import get_plotlyjs

from dagster_project.dashboard.charts import Chart, Column, DrillTable

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222;
       background: #fafafa; }
header { background: #1f3a5f; color: #fff; padding: 14px 24px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 2px 0; font-size: 13px; opacity: .9; }
nav { padding: 8px 24px; background: #e8edf3; font-size: 14px; position: sticky; top: 0; z-index: 5; }
nav a { margin-right: 16px; color: #1f3a5f; }
section { background: #fff; margin: 16px 24px; padding: 12px 18px; border: 1px solid #ddd; border-radius: 6px; }
section h2 { margin: 4px 0; font-size: 18px; }
.description, .note { font-size: 13px; color: #555; margin: 4px 0 8px 0; max-width: 1100px; }
.drill-status { font-size: 13px; margin: 8px 0; padding: 6px 10px; background: #f3f6fa; border-radius: 4px; }
.drill-status button { margin-left: 12px; }
.drill { max-height: 460px; overflow: auto; border: 1px solid #e3e3e3; }
.drill h3 { font-size: 14px; margin: 8px; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f7f7f7; position: sticky; top: 0; }
td.number { text-align: right; }
td.sentence { min-width: 320px; max-width: 560px; }
td.long { min-width: 220px; max-width: 420px; }
mark { background: #ffe58a; }
tr.more td { color: #777; font-style: italic; }
"""

# Plots every figure, then wires clicks: a point's customdata is the key of the rows behind it.
SCRIPT = r"""
(function () {
  "use strict";
  var spec = JSON.parse(document.getElementById("dashboard-spec").textContent);
  function rowsOf(section) { return section.querySelectorAll("tbody tr[data-key]"); }
  function drill(chartId, key) {
    var section = document.getElementById("section-" + chartId);
    var status = section.querySelector(".drill-status-text");
    var button = section.querySelector(".show-all");
    var all = key === null;
    var shown = 0;
    rowsOf(section).forEach(function (tr) {
      var on = all || tr.getAttribute("data-key") === key;
      tr.hidden = !on;
      if (on && !tr.classList.contains("more")) { shown += 1; }
    });
    section.querySelectorAll(".drill-table").forEach(function (t) {
      t.hidden = !all && t.querySelector("tbody tr[data-key]:not([hidden])") === null;
    });
    button.hidden = all;
    if (all) {
      status.textContent = spec.charts[chartId].all;
    } else if (!key) {
      status.textContent = "No rows behind this point in this file (an earlier publish).";
    } else {
      var label = spec.charts[chartId].labels[key] || key;
      status.textContent = shown + " row(s) behind " + label + ".";
      section.querySelector(".drill").scrollIntoView({block: "nearest"});
    }
    section.setAttribute("data-drilled", all ? "" : (key || "none"));
  }
  window.dashboardDrill = drill;
  var plots = Object.keys(spec.charts).map(function (chartId) {
    var chart = spec.charts[chartId];
    var gd = document.getElementById("chart-" + chartId);
    document.querySelector("#section-" + chartId + " .show-all").addEventListener("click", function () {
      drill(chartId, null);
    });
    return Plotly.newPlot(gd, chart.figure.data, chart.figure.layout, spec.config).then(function () {
      gd.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        if (!point) { return; }
        var key = point.customdata;
        if (Array.isArray(key)) { key = key[0]; }
        if (key === undefined) { key = ""; }
        drill(chartId, key);
      });
    });
  });
  Promise.all(plots).then(function () {
    document.documentElement.setAttribute("data-dashboard", "ready");
  }, function (error) {
    document.documentElement.setAttribute("data-dashboard", "error");
    console.error("dashboard: a chart failed to render", error);
  });
})();
"""


def _cell(column: Column, row: dict[str, Any]) -> str:
    value = row.get(column.name)
    if value is None:
        return "<td></td>"
    if column.kind == "sentence":
        text = str(value)
        start, end = row.get("mark_start"), row.get("mark_end")
        if isinstance(start, int) and isinstance(end, int):
            start, end = max(start, 0), min(end, len(text))
        if isinstance(start, int) and isinstance(end, int) and start < end:
            inner = (html.escape(text[:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>"
                     + html.escape(text[end:]))
        else:
            inner = html.escape(text)
        return f'<td class="sentence">{inner}</td>'
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    css = f' class="{column.kind}"' if column.kind in ("number", "long") else ""
    return f"<td{css}>{html.escape(str(value))}</td>"


def _table(chart: Chart, drill: DrillTable) -> str:
    head = "".join(f"<th>{html.escape(c.header)}</th>" for c in drill.columns)
    body = []
    for key, row in drill.rows:
        cells = "".join(_cell(c, row) for c in drill.columns)
        body.append(f'<tr data-key="{html.escape(key)}">{cells}</tr>')
    for key, n in drill.omitted.items():
        body.append(f'<tr class="more" data-key="{html.escape(key)}"><td colspan="{len(drill.columns)}">'
                    f"… and {n} more row(s) behind this point in the warehouse (not listed in the page)</td></tr>")
    if not body:
        body.append(f'<tr class="empty"><td colspan="{len(drill.columns)}">{html.escape(drill.empty_note)}</td></tr>')
    return (f'<div class="drill-table" data-rows="{drill.total}"><h3>{html.escape(drill.title)} '
            f"({drill.total} row(s))</h3><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"</table></div>")


def _all_rows_text(chart: Chart) -> str:
    return (f"All {chart.rows} row(s) behind this chart. Click a "
            f"{'cell' if chart.id == 'actors_together' else 'bar'} to see only its rows.")


def _section(chart: Chart) -> str:
    note = f'<p class="note">{html.escape(chart.note)}</p>' if chart.note else ""
    tables = "".join(_table(chart, t) for t in chart.tables)
    return (f'<section id="section-{chart.id}" data-chart="{chart.id}" data-points="{chart.points}" '
            f'data-rows="{chart.rows}"><h2 id="{chart.id}">{html.escape(chart.title)}</h2>'
            f'<p class="description">{html.escape(chart.description)}</p>{note}'
            f'<div class="chart" id="chart-{chart.id}"></div>'
            f'<div class="drill-status"><span class="drill-status-text">{html.escape(_all_rows_text(chart))}</span>'
            f'<button type="button" class="show-all" hidden>show all rows</button></div>'
            f'<div class="drill">{tables}</div></section>')


def _script_json(value: Any) -> str:
    """JSON that cannot end its <script> element or open a comment, whatever the strings hold."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render(charts: list[Chart], header: dict[str, Any]) -> str:
    plotly_js = get_plotlyjs()
    if "</script" in plotly_js.lower():  # would end the inline element early
        raise RuntimeError("the plotly.js bundle contains '</script': cannot inline it")
    spec = {
        "config": PLOTLY_CONFIG,
        "charts": {c.id: {"figure": json.loads(c.figure.to_json()), "labels": c.labels, "all": _all_rows_text(c)}
                   for c in charts},
    }
    nav = "".join(f'<a href="#{c.id}">{html.escape(c.title)}</a>' for c in charts)
    facts = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in header["facts"].items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>{html.escape(header['title'])}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{html.escape(header['title'])}</h1>
<p>{html.escape(header['source'])}</p>
<p>{facts}</p></header>
<nav>{nav}</nav>
{''.join(_section(c) for c in charts)}
<script type="application/json" id="dashboard-spec">{_script_json(spec)}</script>
<script>{plotly_js}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
