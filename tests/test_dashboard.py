"""The offline dashboard (dagster_project/dashboard, asset `dashboard`).

- Unit tests build the page from a tiny hand-made warehouse (the marts tables and columns the
  dashboard reads, a few rows each, some text hostile HTML) and check the numbers of every chart,
  that every point drills down to exactly its rows, that document text is escaped and that the
  page needs nothing from the network.
- Integration tests (`built_warehouse`, the whole pipeline on the seeds) check the page the asset
  wrote beside the published file against the warehouse itself.
- Browser tests open the pages in headless Chromium through the DevTools protocol: no console
  error, no request that leaves the file, every chart has rendered SVG with data points, a click
  on a point of every chart shows only its rows; screenshots go to test-artifacts/. Chromium is
  Debian's `chromium` package: the fixture installs it with apt-get when it is missing and the
  tests run as root; when it cannot be had, those tests skip with the reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from support import REPO_ROOT

from dagster_project.dashboard import DashboardError, build_dashboard, charts, dashboard_path

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", REPO_ROOT / "test-artifacts"))
CHART_IDS = ["events_over_time", "tolls_by_source", "claims_by_claimant", "actors_together",
             "figures_and_quarantine"]

# ---------------------------------------------------------------------------------------------
# A tiny warehouse: the marts the dashboard reads, with rows whose charts are known by hand.
# ---------------------------------------------------------------------------------------------

RUN_1 = dt.datetime(2024, 3, 1, 10, 0, 0)
RUN_2 = dt.datetime(2024, 3, 2, 9, 30, 0)
HOSTILE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"></script><!--'
HOSTILE_CLAIMANT = "<b onmouseover=alert(1)>Officials</b>"

SCHEMA_SQL = """
create schema marts;
create table marts.dim_document (document_id varchar, source_file varchar, article_index integer, title varchar,
    published_date date, ingested_at timestamp);
create table marts.dim_sentence (sentence_id varchar, document_id varchar, char_start integer, char_end integer,
    sentence_text varchar);
create table marts.dim_actor (actor_id varchar, canonical_name varchar, actor_type varchar);
create table marts.fct_event (event_id varchar, event_type varchar, event_date_start date, event_date_end date,
    location_text varchar, country_code varchar, killed_low double, killed_high double, injured_low double,
    injured_high double, n_documents integer, description varchar, first_document_id varchar,
    first_sentence_id varchar);
create table marts.bridge_event_document (event_id varchar, document_id varchar, killed double, injured double,
    killed_qualifier varchar, injured_qualifier varchar, sentence_id varchar);
create table marts.bridge_event_actor (event_id varchar, actor_id varchar, role varchar);
create table marts.fct_claim (claim_id varchar, document_id varchar, sentence_id varchar, claimant_actor_id varchar,
    claimant_text varchar, cue varchar, claim_text varchar, char_start integer, char_end integer,
    is_direct_quote boolean, claim_type varchar);
create table marts.fct_statistic (statistic_id varchar, document_id varchar, sentence_id varchar,
    statistic_type varchar, value double, qualifier varchar, casualty_type varchar, subject varchar, unit varchar,
    surface_text varchar, char_start integer, char_end integer);
create table marts.quarantined_documents (source_file varchar, stage varchar, reason varchar, detail varchar,
    size_bytes bigint, quarantined_at timestamp);
"""


def make_warehouse(path: Path, *, run: dt.datetime = RUN_1, second_run: bool = True) -> Path:
    """Three articles of one run (a fourth of a later run when `second_run`), three events
    (one reported by two articles that disagree on the toll), three claims, two figures and two
    quarantined files (one rejected at ingest, one at normalization a few seconds later)."""
    con = duckdb.connect(str(path))
    con.execute(SCHEMA_SQL)
    docs = [("d1", "a.txt", 0, "First", dt.date(2023, 5, 2), run),
            ("d2", "b.html", 0, "Second", None, run),
            ("d3", "c.txt", 1, HOSTILE, dt.date(2023, 6, 1), run)]
    if second_run:
        docs.append(("d4", "later.txt", 0, "Later", None, RUN_2))
    con.executemany("insert into marts.dim_document values (?, ?, ?, ?, ?, ?)", docs)
    s1 = "Gunmen killed 10 people in Kabul on Monday."
    s2 = "At least 12 people died in the Kabul attack, officials said."
    s3 = "The government said talks would resume, " + HOSTILE
    s4 = "Police arrested a suspect."
    con.executemany("insert into marts.dim_sentence values (?, ?, ?, ?, ?)", [
        ("s1", "d1", 100, 100 + len(s1), s1), ("s2", "d2", 0, len(s2), s2), ("s3", "d3", 50, 50 + len(s3), s3),
        ("s4", "d1", 300, 300 + len(s4), s4)])
    con.executemany("insert into marts.dim_actor values (?, ?, ?)", [
        ("a1", "Islamic State Khorasan Province", "armed_group"), ("a2", "Afghanistan", "state"),
        ("a3", "United Nations", "international_org")])
    con.executemany("insert into marts.fct_event values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        ("e1", "attack", dt.date(2023, 5, 1), dt.date(2023, 5, 1), "Kabul", "AFG", 10, 12, None, None, 2,
         "attack in Kabul", "d1", "s1"),
        ("e2", "talks", None, None, None, "AFG", None, None, None, None, 1, HOSTILE, "d3", "s3"),
        ("e3", "arrest", None, None, None, None, None, None, None, None, 1, "an arrest", "d1", "s4")])
    con.executemany("insert into marts.bridge_event_document values (?, ?, ?, ?, ?, ?, ?)", [
        ("e1", "d1", 10, None, None, None, "s1"), ("e1", "d2", 12, None, "at least", None, "s2"),
        ("e2", "d3", None, None, None, None, "s3")])  # e3 has no document row: it keeps its first sentence
    con.executemany("insert into marts.bridge_event_actor values (?, ?, ?)", [
        ("e1", "a1", "perpetrator"), ("e1", "a2", "target"), ("e2", "a2", "participant"),
        ("e2", "a3", "mediator"), ("e2", "a3", "host")])
    con.executemany("insert into marts.fct_claim values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        ("c1", "d2", "s2", "a2", "officials", "said", "At least 12 people died", 0, 23, False, "indirect"),
        ("c2", "d3", "s3", None, HOSTILE_CLAIMANT, "said", "talks would resume", 50 + s3.index("talks"),
         50 + s3.index("talks") + len("talks would resume"), False, "indirect"),
        ("c3", "d1", "s4", None, None, None, "a suspect was arrested", 300, 326, False, "passive")])
    con.executemany("insert into marts.fct_statistic values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        ("st1", "d1", "s1", "casualty", 10, None, "killed", "people", None, "killed 10 people", 107, 123),
        ("st2", "d2", "s2", "casualty", 12, "at least", "killed", "people", None, "At least 12 people", 0, 18)])
    quarantined = [("empty.txt", "ingest", "empty", "0 bytes", 0, run),
                   ("menu.html", "normalize", "boilerplate_only", HOSTILE, 900, run + dt.timedelta(seconds=5))]
    if second_run:
        quarantined.append(("scan.bin", "ingest", "binary", "NUL bytes", 4096, RUN_2))
    con.executemany("insert into marts.quarantined_documents values (?, ?, ?, ?, ?, ?)", quarantined)
    con.close()
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture(scope="module")
def tiny_page(tmp_path_factory):
    """The page of the tiny warehouse, built once for the tests that only read it."""
    root = tmp_path_factory.mktemp("tiny_page")
    out = root / "out" / "dashboard.html"
    info = build_dashboard(make_warehouse(root / "warehouse.duckdb"), out)
    return info, out.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Reading the page back: sections, drill rows, figure spec.
# ---------------------------------------------------------------------------------------------

SPEC_RE = re.compile(r'<script type="application/json" id="dashboard-spec">(.*?)</script>', re.S)


def spec_of(page: str) -> dict:
    match = SPEC_RE.search(page)
    assert match, "the page has no figure spec"
    return json.loads(match.group(1))


class _Rows(HTMLParser):
    """data-key of every drill row, per section, and the text of its cells."""

    def __init__(self):
        super().__init__()
        self.section = None
        self.rows: dict[str, list[tuple[str, list[str]]]] = {}
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("data-chart")
            self.rows.setdefault(self.section, [])
        elif tag == "tr" and "data-key" in attrs and "more" not in (attrs.get("class") or ""):
            self._row = (attrs["data-key"], [])
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "script":
            self.scripts.append(attrs)
        elif tag in ("link", "img", "iframe", "object", "embed", "a"):
            self.links.append({"tag": tag, **attrs})

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row[1].append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows[self.section].append(self._row)
            self._row = None


def parse(page: str) -> _Rows:
    parser = _Rows()
    parser.feed(page)
    return parser


def point_keys(figure: dict) -> set[str]:
    """Every drill key a point of the figure carries (customdata; a heatmap's is a matrix)."""
    keys = set()
    for trace in figure["data"]:
        for value in trace.get("customdata") or []:
            for item in (value if isinstance(value, list) else [value]):
                if item:
                    keys.add(item)
    return keys


def assert_every_point_drills_to_its_rows(page: str, info: dict) -> None:
    spec, rows = spec_of(page), parse(page).rows
    assert list(spec["charts"]) == CHART_IDS
    for chart_id, chart in spec["charts"].items():
        points = point_keys(chart["figure"])
        row_keys = {key for key, _ in rows[chart_id]}
        assert points, f"{chart_id}: no point carries a drill key"
        assert points <= row_keys, f"{chart_id}: points with no rows behind them: {sorted(points - row_keys)}"
        assert row_keys <= points | set(chart["labels"]), f"{chart_id}: rows no point leads to"
        assert set(chart["labels"]) >= points, f"{chart_id}: a point without a label for the status line"
        assert len(rows[chart_id]) <= info["rows"][chart_id]


def cells(rows, key: str) -> list[list[str]]:
    return [c for k, c in rows if k == key]


# ---------------------------------------------------------------------------------------------
# Unit tests on the tiny warehouse.
# ---------------------------------------------------------------------------------------------

def test_build_reports_every_chart_with_its_rows(tiny_page):
    info, _ = tiny_page
    assert info["charts"] == CHART_IDS and info["chart_count"] == 5
    # events: e1 twice (two articles), e2 once, e3 once (no document row: its first sentence)
    # tolls: the two sources of e1; claims: 3; actor pairs: (a1, a2) in e1, (a2, a3) in e2;
    # per run: 2 figures + 3 quarantined files
    assert info["rows"] == {"events_over_time": 4, "tolls_by_source": 2, "claims_by_claimant": 3,
                            "actors_together": 2, "figures_and_quarantine": 5}
    assert all(info["points"][c] > 0 for c in CHART_IDS)
    assert Path(info["path"]).is_file() and info["bytes"] == Path(info["path"]).stat().st_size


def test_every_point_drills_down_to_exactly_its_rows(tiny_page):
    info, page = tiny_page
    assert_every_point_drills_to_its_rows(page, info)


def test_events_over_time_counts_each_event_once_on_its_date(tiny_page):
    _, page = tiny_page
    figure = spec_of(page)["charts"]["events_over_time"]["figure"]
    bars = {(t["name"], x): y for t in figure["data"] for x, y in zip(t["x"], t["y"]) if y}
    # e1 on its own date, e2 on its article's publication date, e3 has neither: undated
    assert bars == {("attack", "2023-05"): 1, ("talks", "2023-06"): 1, ("arrest", "undated"): 1}
    assert figure["layout"]["xaxis"]["type"] == "category"


def test_events_span_of_many_years_is_drawn_by_year(tmp_path):
    path = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(path))
    con.execute("update marts.fct_event set event_date_start = date '2010-02-03' where event_id = 'e3'")
    con.close()
    build_dashboard(path, tmp_path / "d.html")
    figure = spec_of((tmp_path / "d.html").read_text())["charts"]["events_over_time"]["figure"]
    xs = {x for t in figure["data"] for x, y in zip(t["x"], t["y"]) if y}
    assert xs == {"2010", "2023"}


def test_tolls_show_every_source_side_by_side_and_flag_disagreement(tiny_page):
    _, page = tiny_page
    chart = spec_of(page)["charts"]["tolls_by_source"]
    killed = next(t for t in chart["figure"]["data"] if t["name"] == "killed")
    events, sources = killed["x"]
    assert killed["y"] == [10, 12]
    assert sources == ["a.txt", "b.html"]
    assert len(set(events)) == 1 and events[0].endswith("≠"), "the sources disagree: the event is flagged"
    rows = parse(page).rows["tolls_by_source"]
    assert {r[1] for r in (c for _, c in rows)} == {"differ: 10 vs 12"}
    assert [c[5] for _, c in rows] == ["10", "at least 12"]
    assert any("Gunmen killed 10" in c[9] for _, c in rows)


def test_an_event_of_one_source_is_not_on_the_toll_chart(tmp_path):
    path = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(path))
    con.execute("delete from marts.bridge_event_document where document_id = 'd2'")
    con.close()
    info = build_dashboard(path, tmp_path / "d.html")
    assert info["rows"]["tolls_by_source"] == 0 and info["points"]["tolls_by_source"] == 0


def test_claims_are_counted_by_resolved_actor_or_as_written(tiny_page):
    _, page = tiny_page
    figure = spec_of(page)["charts"]["claims_by_claimant"]["figure"]
    bars = {(t["name"], y): x for t in figure["data"] for x, y in zip(t["x"], t["y"]) if x}
    assert bars == {("indirect", "Afghanistan"): 1,
                    ("indirect", charts.esc(HOSTILE_CLAIMANT)): 1,
                    ("passive", charts.NO_CLAIMANT): 1}


def test_actors_together_is_a_symmetric_matrix_of_shared_events(tiny_page):
    _, page = tiny_page
    trace = spec_of(page)["charts"]["actors_together"]["figure"]["data"][0]
    names = trace["x"]
    z = {(names[i], names[j]): v for i, row in enumerate(trace["z"]) for j, v in enumerate(row) if v}
    assert z == {("Afghanistan", "Islamic State Khorasan Province"): 1,
                 ("Islamic State Khorasan Province", "Afghanistan"): 1,
                 ("Afghanistan", "United Nations"): 1, ("United Nations", "Afghanistan"): 1}
    rows = parse(page).rows["actors_together"]
    assert any("United Nations (host, mediator)" in c for _, r in rows for c in r)


def test_figures_and_quarantined_files_are_counted_per_run(tiny_page):
    _, page = tiny_page
    figure = spec_of(page)["charts"]["figures_and_quarantine"]["figure"]
    bars = {(t["name"], x): y for t in figure["data"] for x, y in zip(t["x"], t["y"]) if y}
    first, second = "2024-03-01 10:00:00", "2024-03-02 09:30:00"
    # the normalization rejection (5 s after the first ingest) belongs to the first run
    assert bars == {("casualty: killed", first): 2, ("ingest: empty", first): 1,
                    ("normalize: boilerplate_only", first): 1, ("ingest: binary", second): 1}


def test_run_summaries_and_history_of_earlier_publishes(tiny, tmp_path):
    info = build_dashboard(tiny, tmp_path / "d.html")
    assert info["runs"] == [
        {"run_at": "2024-03-01 10:00:00", "figures": {"casualty: killed": 2},
         "quarantined": {"ingest: empty": 1, "normalize: boilerplate_only": 1}},
        {"run_at": "2024-03-02 09:30:00", "figures": {}, "quarantined": {"ingest: binary": 1}}]
    earlier = {"run_at": "2024-02-01 08:00:00", "figures": {"count": 7}, "quarantined": {"ingest: empty": 2}}
    build_dashboard(tiny, tmp_path / "h.html", history=[earlier, info["runs"][0]])
    page = (tmp_path / "h.html").read_text()
    figure = spec_of(page)["charts"]["figures_and_quarantine"]["figure"]
    xs = figure["data"][0]["x"]
    assert xs == ["2024-02-01 08:00:00 (earlier publish)", "2024-03-01 10:00:00", "2024-03-02 09:30:00"]
    count = next(t for t in figure["data"] if t["name"] == "count")
    assert count["y"][0] == 7 and count["customdata"][0] == "", "an earlier run has no rows in this file"
    assert_every_point_drills_to_its_rows(page, info)


def test_sentences_mark_the_fact_they_hold(tiny_page):
    _, page = tiny_page
    assert "Gunmen <mark>killed 10 people</mark> in Kabul on Monday." in page
    assert "<mark>At least 12 people died</mark> in the Kabul attack, officials said." in page
    assert "The government said <mark>talks would resume</mark>, &lt;script&gt;" in page


def test_document_text_is_escaped_everywhere(tiny_page):
    _, page = tiny_page
    for raw in (HOSTILE, HOSTILE_CLAIMANT, "<script>window.__xss", "<img src=x", "<b onmouseover"):
        assert raw not in page
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in page
    spec_text = SPEC_RE.search(page).group(1)
    assert "<" not in spec_text and ">" not in spec_text, "the figure JSON could end its <script>"
    assert HOSTILE_CLAIMANT.replace("<", "&lt;").replace(">", "&gt;") in json.dumps(spec_of(page), ensure_ascii=False)
    parsed = parse(page)
    assert [s.get("type") for s in parsed.scripts] == ["application/json", None, None]
    assert not [link for link in parsed.links if link["tag"] != "a"], "no image, frame or stylesheet element"


def test_the_page_is_self_contained(tiny_page):
    _, page = tiny_page
    from plotly.offline import get_plotlyjs

    bundle = get_plotlyjs()
    assert page.count(bundle[:300]) == 1, "plotly.js is embedded exactly once"
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert "default-src 'none'" in page, "the page forbids every request (Content-Security-Policy)"


@pytest.mark.parametrize("limit", [("ROWS_PER_POINT", 1), ("ROWS_PER_TABLE", 2)])
def test_rows_behind_a_point_are_capped_and_counted(tiny, tmp_path, monkeypatch, limit):
    """Each point keeps at least one row when the table is capped: three points, two rows at most."""
    monkeypatch.setattr(charts, *limit)
    info = build_dashboard(tiny, tmp_path / "d.html")
    page = (tmp_path / "d.html").read_text()
    rows = parse(page).rows["events_over_time"]
    assert len(rows) == 3 and info["rows"]["events_over_time"] == 4
    assert "… and 1 more row(s) behind this point" in page


def test_an_empty_warehouse_still_gives_a_page(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute(SCHEMA_SQL)
    con.close()
    info = build_dashboard(path, tmp_path / "d.html")
    assert info["chart_count"] == 5 and set(info["rows"].values()) == {0}
    assert "No event in this warehouse" in (tmp_path / "d.html").read_text()


def test_a_missing_table_or_column_is_named(tmp_path):
    path = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(path))
    con.execute("drop table marts.fct_claim")
    con.execute("alter table marts.dim_sentence drop column sentence_text")
    con.close()
    with pytest.raises(DashboardError, match=r"marts\.dim_sentence\.sentence_text.*|marts\.fct_claim") as exc:
        build_dashboard(path, tmp_path / "d.html")
    assert "marts.fct_claim" in str(exc.value) and "marts.dim_sentence.sentence_text" in str(exc.value)
    with pytest.raises(DashboardError, match="no published warehouse"):
        build_dashboard(tmp_path / "nowhere.duckdb", tmp_path / "d.html")
    assert not (tmp_path / "d.html").exists()


def test_the_warehouse_is_opened_read_only(tiny, tmp_path):
    os.chmod(tiny, 0o444)
    try:
        build_dashboard(tiny, tmp_path / "d.html")
    finally:
        os.chmod(tiny, 0o644)
    assert not Path(str(tiny) + ".wal").exists()


def test_dashboard_path_is_beside_the_warehouse(tmp_path):
    assert dashboard_path(tmp_path / "x" / "warehouse.duckdb") == (tmp_path / "x" / "dashboard.html").resolve()


# ---------------------------------------------------------------------------------------------
# The asset.
# ---------------------------------------------------------------------------------------------

def test_dashboard_asset_is_registered_after_the_publish():
    import dagster as dg

    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("dashboard"))
    assert node.parent_keys == {dg.AssetKey("published_warehouse")}
    spec = next(s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey("dashboard"))
    assert spec.group_name == "publish" and set(spec.kinds) == {"python", "html"}


def test_dashboard_asset_writes_beside_the_warehouse_and_keeps_run_history(tmp_path, monkeypatch):
    import dagster as dg

    from dagster_project.assets.dashboard import dashboard

    instance = dg.DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}})
    (tmp_path / "one").mkdir()
    first = make_warehouse(tmp_path / "one" / "warehouse.duckdb", run=RUN_1, second_run=False)
    monkeypatch.setenv("WAREHOUSE_PATH", str(first))
    result = dg.materialize([dashboard], instance=instance)
    assert result.success
    metadata = result.asset_materializations_for_node("dashboard")[0].metadata
    out = tmp_path / "one" / "dashboard.html"
    assert isinstance(metadata["path"], dg.PathMetadataValue) and metadata["path"].value == str(out.resolve())
    assert out.is_file()
    assert metadata["chart_count"].value == 5
    assert metadata["rows_per_chart"].value["claims_by_claimant"] == 3

    # the next publish holds only its own run: the earlier one comes from the asset's history
    (tmp_path / "two").mkdir()
    later = make_warehouse(tmp_path / "two" / "warehouse.duckdb", run=dt.datetime(2024, 4, 1), second_run=False)
    monkeypatch.setenv("WAREHOUSE_PATH", str(later))
    assert dg.materialize([dashboard], instance=instance).success
    figure = spec_of((tmp_path / "two" / "dashboard.html").read_text())["charts"]["figures_and_quarantine"]["figure"]
    assert figure["data"][0]["x"] == ["2024-03-01 10:00:00 (earlier publish)", "2024-04-01 00:00:00"]


# ---------------------------------------------------------------------------------------------
# Integration: the page the pipeline wrote for the seeds.
# ---------------------------------------------------------------------------------------------

def _published_rows(warehouse: Path, sql: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


@pytest.mark.integration
def test_pipeline_writes_the_dashboard_of_the_published_seeds(built_warehouse):
    warehouse = built_warehouse.paths.warehouse
    out = warehouse.parent / "dashboard.html"
    assert out.is_file(), "the dashboard asset ran after the publish, beside the published file"
    metadata = built_warehouse.result.asset_materializations_for_node("dashboard")[0].metadata
    assert metadata["path"].value == str(out.resolve())
    rows = metadata["rows_per_chart"].value
    page = out.read_text(encoding="utf-8")
    assert_every_point_drills_to_its_rows(page, {"rows": rows})
    # every chart has data from the seeds (and the test build's bad files)
    assert all(v > 0 for v in metadata["points_per_chart"].value.values()), metadata["points_per_chart"].value
    # the rows behind each chart are the warehouse's rows, none lost
    assert rows["claims_by_claimant"] == _published_rows(warehouse, "select count(*) from marts.fct_claim")
    assert rows["figures_and_quarantine"] == _published_rows(
        warehouse, "select (select count(*) from marts.fct_statistic) + (select count(*) from "
                   "marts.quarantined_documents)")
    assert rows["events_over_time"] == _published_rows(
        warehouse, "select count(*) from marts.fct_event e left join marts.bridge_event_document b using (event_id)")
    assert rows["tolls_by_source"] == _published_rows(
        warehouse, "select count(*) from marts.bridge_event_document where event_id in (select event_id from "
                   "marts.bridge_event_document group by 1 having count(distinct document_id) > 1)")
    # the seeds: two articles give 183 and 200 killed for one suicide bombing
    tolls = spec_of(page)["charts"]["tolls_by_source"]["figure"]
    killed = next(t for t in tolls["data"] if t["name"] == "killed")
    assert {183, 200} <= set(killed["y"])
    # the bad files of the test build are quarantined in the one run of this file
    summary = metadata["run_summary"].value
    assert len(summary) == 1 and sum(summary[0]["quarantined"].values()) == len(
        built_warehouse.paths.expected_quarantine)


# ---------------------------------------------------------------------------------------------
# Headless Chromium through the DevTools protocol (websockets is in the lock already).
# ---------------------------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _find_browser() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def _apt_install_chromium() -> str:
    """Debian's chromium with apt-get (as root); returns what happened."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    started = time.monotonic()
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    proc = subprocess.run(install, env=env, capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:  # the package lists may be missing or old
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True, timeout=1200)
        proc = subprocess.run(install, env=env, capture_output=True, text=True, timeout=1200)
    took = time.monotonic() - started
    print(f"apt-get install chromium: exit {proc.returncode} after {took:.0f} s")
    return proc.stderr.strip().splitlines()[-1] if proc.returncode and proc.stderr.strip() else ""


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    found = _find_browser()
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("no chromium (nor chromium-browser) on PATH, and not root with apt-get to install Debian's "
                    "chromium: browser tests not run")
    error = _apt_install_chromium()
    found = _find_browser()
    if not found:
        pytest.skip(f"chromium could not be installed with apt-get ({error or 'no binary after install'})")
    return found


class DevTools:
    """One headless Chromium and its first page, driven over the DevTools protocol."""

    def __init__(self, binary: str, profile: Path, width: int = 1400, height: int = 1000):
        from websockets.sync.client import connect

        self.profile = profile
        self.log = (profile.parent / "chromium-stderr.log").open("w")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--hide-scrollbars", "--remote-debugging-port=0",
             "--remote-allow-origins=*", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        port = self._port()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("chromium started but has no page target")
            time.sleep(0.2)
        url = targets[0]["webSocketDebuggerUrl"]
        try:  # websockets >= 17 asks to opt into a plain connection object
            self.ws = connect(url, max_size=None, open_timeout=30, legacy=True)
        except TypeError:
            self.ws = connect(url, max_size=None, open_timeout=30)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def _port(self) -> int:
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited with {self.proc.returncode}: "
                                     f"{(self.profile.parent / 'chromium-stderr.log').read_text()[-2000:]}")
            if active.exists() and active.read_text().strip():
                return int(active.read_text().split()[0])
            time.sleep(0.1)
        raise AssertionError("chromium never opened its DevTools port")

    def call(self, method: str, params: dict | None = None, timeout: float = 120) -> dict:
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if message.get("id") == mine:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {expression}")

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                   "clickCount": 1 if kind != "mouseMoved" else 0})

    def screenshot(self, path: Path, max_height: int = 12000) -> Path:
        self.evaluate("window.scrollTo(0, 0)")  # the sticky menu stays at the top of the picture
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], max_height), "scale": 1}
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def problems(self) -> dict[str, list]:
        """Console errors, uncaught exceptions, dialogs and requests that are not the file itself."""
        out: dict[str, list] = {"console": [], "exceptions": [], "log": [], "requests": [], "dialogs": []}
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out["console"].append([a.get("value", a.get("description")) for a in params.get("args", [])])
            elif method == "Runtime.exceptionThrown":
                out["exceptions"].append(params["exceptionDetails"].get("exception", {}).get("description")
                                         or params["exceptionDetails"].get("text"))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out["log"].append(params["entry"].get("text"))
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "blob:", "about:")):
                    out["requests"].append(url)
            elif method == "Page.javascriptDialogOpening":
                out["dialogs"].append(params.get("message"))
        return {k: v for k, v in out.items() if v}

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this test started (start_new_session)
            self.proc.wait(timeout=15)
        self.log.close()


# What every chart drew: SVG roots, and elements for data (bars and markers: .point; heatmaps: an image).
RENDERED_JS = """
Array.from(document.querySelectorAll("section[data-chart]")).map(function (section) {
  var gd = section.querySelector(".chart");
  return {id: section.dataset.chart, svg: gd.querySelectorAll(".main-svg").length,
          points: gd.querySelectorAll(".point path, path.point").length
                  + gd.querySelectorAll(".hm image, .heatmaplayer image").length,
          traces: (gd.data || []).length, rows: section.querySelectorAll("tbody tr[data-key]").length};
})
"""

# A point of the chart with a drill key, scrolled into view: where to click, and its key.
TARGET_JS = """
(function (chartId) {
  var gd = document.getElementById("chart-" + chartId);
  gd.scrollIntoView({block: "center"});
  var box = gd.getBoundingClientRect();
  var bars = gd.querySelectorAll(".bars .point");
  for (var n = 0; n < bars.length; n++) {
    var path = bars[n].querySelector("path");
    var r = path.getBoundingClientRect();
    var datum = bars[n].__data__, trace = bars[n].closest(".trace").__data__[0].trace;
    var key = trace.customdata && trace.customdata[datum.i];
    if (key && r.width > 3 && r.height > 3) {
      return {x: r.left + r.width / 2, y: r.top + Math.min(r.height / 2, 20), key: key};
    }
  }
  var full = gd._fullData;
  for (var t = 0; t < full.length; t++) {
    if (full[t].type !== "heatmap") { continue; }
    var xa = gd._fullLayout[full[t].xaxis.replace("x", "xaxis")], ya = gd._fullLayout[full[t].yaxis.replace("y", "yaxis")];
    for (var i = 0; i < full[t].z.length; i++) {
      for (var j = 0; j < full[t].z[i].length; j++) {
        if (full[t].z[i][j] && full[t].customdata[i][j]) {
          return {x: box.left + xa._offset + xa.c2p(j), y: box.top + ya._offset + ya.c2p(i),
                  key: full[t].customdata[i][j]};
        }
      }
    }
  }
  return null;
})(%s)
"""

SHOWN_JS = """
(function (chartId) {
  var section = document.getElementById("section-" + chartId);
  var visible = Array.from(section.querySelectorAll("tbody tr[data-key]:not(.more)")).filter(function (tr) {
    return !tr.hidden; });
  return {drilled: section.getAttribute("data-drilled"), keys: visible.map(function (tr) { return tr.dataset.key; }),
          status: section.querySelector(".drill-status-text").textContent};
})(%s)
"""


def _open(devtools: DevTools, page: Path) -> None:
    devtools.call("Page.navigate", {"url": page.resolve().as_uri()})
    state = devtools.wait_for("location.protocol === 'file:' && document.documentElement !== null && "
                              "document.documentElement.getAttribute('data-dashboard')")
    assert state == "ready", f"the dashboard did not render: {state}; {devtools.problems()}"


def _check_rendered_and_drill(devtools: DevTools, expected_rows: dict[str, int]) -> None:
    rendered = {c["id"]: c for c in devtools.evaluate(RENDERED_JS)}
    assert list(rendered) == CHART_IDS
    for chart_id, chart in rendered.items():
        assert chart["svg"] > 0, f"{chart_id}: no rendered SVG"
        assert chart["traces"] > 0 and chart["points"] > 0, f"{chart_id}: no data point drawn: {chart}"
        assert chart["rows"] > 0
    for chart_id in CHART_IDS:
        target = devtools.evaluate(TARGET_JS % json.dumps(chart_id))
        assert target, f"{chart_id}: no point with rows behind it to click"
        devtools.click(target["x"], target["y"])
        shown = devtools.wait_for(f"(function () {{ var s = {SHOWN_JS % json.dumps(chart_id)}; "
                                  f"return s.drilled ? s : null; }})()", timeout=30)
        assert shown["drilled"] == target["key"], f"{chart_id}: the click drilled to {shown['drilled']}"
        assert shown["keys"] and set(shown["keys"]) == {target["key"]}, f"{chart_id}: {shown}"
        assert "row(s) behind" in shown["status"]
        assert len(shown["keys"]) <= expected_rows[chart_id]


@pytest.fixture
def devtools(chromium_binary, tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = DevTools(chromium_binary, profile)
    yield browser
    browser.close()


def test_chromium_renders_the_tiny_page_without_running_document_text(devtools, tiny_page):
    info, _ = tiny_page
    _open(devtools, Path(info["path"]))
    _check_rendered_and_drill(devtools, info["rows"])
    assert devtools.evaluate("typeof window.__xss") == "undefined", "document text ran as script"
    assert not devtools.problems(), devtools.problems()
    shot = devtools.screenshot(ARTIFACTS / "dashboard-tiny.png")
    print(f"screenshot: {shot}")


@pytest.mark.integration
def test_chromium_renders_the_seeds_dashboard(devtools, built_warehouse):
    out = dashboard_path(built_warehouse.paths.warehouse)
    metadata = built_warehouse.result.asset_materializations_for_node("dashboard")[0].metadata
    _open(devtools, out)
    shot = devtools.screenshot(ARTIFACTS / "dashboard-seeds.png")
    print(f"screenshot: {shot}")
    _check_rendered_and_drill(devtools, metadata["rows_per_chart"].value)
    assert not devtools.problems(), devtools.problems()
    drilled = devtools.screenshot(ARTIFACTS / "dashboard-seeds-drilled.png")
    shutil.copyfile(out, ARTIFACTS / "dashboard-seeds.html")
    print(f"screenshot after a click on every chart: {drilled}")
