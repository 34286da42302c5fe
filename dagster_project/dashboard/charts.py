"""The five charts: a Plotly figure each, and the rows behind every bar, marker or cell.

Every plotted point carries a drill key in its `customdata`; every row of the chart's tables
carries the key of the point it is behind, so clicking a point shows exactly its rows. Text from
documents is escaped before it goes into a figure (plotly.js reads a subset of HTML in labels and
hover text); the tables are escaped when the page is written (page.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.dashboard.queries import MAX_ACTORS, ROWS_PER_POINT as ROWS_PER_FETCHED_PAIR, Result

# The most rows the page holds behind one point, and in one table (each point keeps at least one
# row); the rest are counted in the table, not listed. The queries apply the same caps in SQL
# (queries.capped): build_dashboard passes these values when it fetches.
ROWS_PER_POINT = 200
ROWS_PER_TABLE = 5000
MAX_CLAIMANTS = 25       # claimants with the most claims; the others are one bar
MAX_TOLL_EVENTS = 30     # multi-source events on the toll chart (all of them are in its table)
# the most sources drawn for one charted event (its label says how many it has): an event that
# thousands of articles report would otherwise put thousands of bars in one group (the page of a
# generated 100,000-document collection was 99 MB, most of it the toll chart's bars)
MAX_DRAWN_SOURCES = 100
UNDATED = "undated"
NO_CLAIMANT = "(no claimant: agentless report)"


@dataclass
class Column:
    name: str
    header: str
    kind: str = "text"  # "text", "long" (prose), "number", or "sentence" (with mark_start / mark_end)


@dataclass
class DrillTable:
    title: str
    columns: list[Column]
    rows: list[tuple[str, dict[str, Any]]]          # (drill key, row)
    omitted: dict[str, int] = field(default_factory=dict)  # key -> rows over ROWS_PER_POINT
    empty_note: str = "No rows."

    @property
    def total(self) -> int:
        return len(self.rows) + sum(self.omitted.values())


@dataclass
class Chart:
    id: str
    title: str
    description: str
    figure: go.Figure
    tables: list[DrillTable]
    labels: dict[str, str]   # drill key -> what the status line says the rows are behind
    points: int              # plotted values that have data
    note: str = ""

    @property
    def rows(self) -> int:
        return sum(t.total for t in self.tables)


class Keys:
    """Short drill keys (`<chart>-<n>`) for groups, with a plain-text label each."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.keys: dict[Any, str] = {}
        self.labels: dict[str, str] = {}

    def __call__(self, group: Any, label: str) -> str:
        if group not in self.keys:
            key = f"{self.prefix}-{len(self.keys)}"
            self.keys[group] = key
            self.labels[key] = label
        return self.keys[group]


def esc(text: Any) -> str:
    """Text for a Plotly label or hover: plotly.js parses <br>, <b>, <a href> ... in them."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short(text: Any, width: int = 40) -> str:
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def source_label(row: dict[str, Any]) -> str:
    index = row.get("article_index")
    name = row.get("source_file") or "?"
    return name if not index else f"{name} #{index}"


def cap(rows: list[tuple[str, dict[str, Any]]], limit: int | None = None):
    if limit is None:
        points = len({key for key, _ in rows}) or 1
        limit = max(1, min(ROWS_PER_POINT, ROWS_PER_TABLE // points))
    kept, seen, omitted = [], Counter(), Counter()
    for key, row in rows:
        seen[key] += 1
        if seen[key] <= limit:
            kept.append((key, row))
        else:
            omitted[key] += 1
    return kept, dict(omitted)


def table(title: str, columns: list[Column], rows, empty_note: str = "No rows.",
          totals: dict[str, int] | None = None) -> DrillTable:
    """The drill-down table of `rows` ((key, row) pairs). Without `totals`, the rows are all the
    rows and are capped here; with `totals` (key -> rows behind that point in the warehouse), the
    query capped them already and the rest are counted from the totals."""
    if totals is None:
        kept, omitted = cap(rows)
        return DrillTable(title, columns, kept, omitted, empty_note)
    listed = Counter(key for key, _ in rows)
    omitted = {key: n - listed[key] for key, n in totals.items() if n > listed[key]}
    return DrillTable(title, columns, list(rows), omitted, empty_note)


def _layout(fig: go.Figure, height: int, **kwargs) -> None:
    settings = dict(template="plotly_white", height=height, margin=dict(l=60, r=20, t=30, b=60),
                    hoverlabel=dict(align="left"))
    fig.update_layout(**{**settings, **kwargs})


def _placeholder(fig: go.Figure, text: str) -> None:
    fig.add_annotation(text=esc(text), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=14, color="#666"))


SENTENCE = Column("sentence_text", "sentence", "sentence")
SOURCE = Column("source", "source file")


# 1 ---------------------------------------------------------------------------------------------
def events_over_time(counts: Result, rows: Result) -> Chart:
    """`counts`: queries.EVENT_COUNTS (events per bucket and type); `rows`: queries.event_rows,
    the capped rows behind each bar with `key_rows`."""
    keys = Keys("events")
    by_month = any(r["by_month"] for r in counts.rows)
    per_bar: Counter = Counter()
    for r in counts.rows:
        per_bar[(r["bucket"] or UNDATED, r["event_type"])] += r["events"]
    buckets = sorted({b for b, _ in per_bar if b != UNDATED}) + ([UNDATED] if any(b == UNDATED for b, _ in per_bar)
                                                                 else [])
    totals = Counter()
    for (_, kind), n in per_bar.items():
        totals[kind] += n
    kinds = sorted(totals, key=lambda k: (-totals[k], k))

    fig = go.Figure()
    points = 0
    for kind in kinds:
        ys, cd = [], []
        for b in buckets:
            n = per_bar.get((b, kind))
            ys.append(n)
            cd.append(keys((b, kind), f"{kind} events, {b}") if n else None)
            points += bool(n)
        fig.add_trace(go.Bar(name=esc(kind), x=buckets, y=ys, customdata=cd,
                             hovertemplate=f"{esc(kind)}<br>%{{x}}: %{{y}} event(s)<br>click for the rows<extra></extra>"))
    _layout(fig, 420, barmode="stack", xaxis=dict(type="category", title="month" if by_month else "year"),
            yaxis=dict(title="events"))
    if not per_bar:
        _placeholder(fig, "No event in this warehouse")

    listed, key_rows = [], {}
    for row in rows.rows:
        key = keys.keys[(row["bucket"] or UNDATED, row["event_type"])]
        key_rows[key] = row["key_rows"]
        place = ", ".join(p for p in (row["location_text"], row["country_code"]) if p)
        listed.append((key, {
            "date": row["chart_date"], "date_basis": row["date_basis"], "event_type": row["event_type"],
            "place": place, "killed_range": _range(row["killed_low"], row["killed_high"]),
            "n_documents": row["n_documents"], "description": row["description"],
            "source": source_label(row), "killed": number(row["killed"]), "sentence_text": row["sentence_text"],
            "event_id": row["event_id"]}))
    undated = sum(n for (b, _), n in per_bar.items() if b == UNDATED)
    return Chart(
        "events_over_time", "Events over time, by type",
        "Each event linked across articles counts once, on its own date (the earliest possible day), or, when "
        "the sources give none, on the earliest publication date of the articles that report it; "
        f"{undated} event(s) have neither and stand under '{UNDATED}'. Click a bar for its events, one row "
        "per reporting article with the sentence that reports it.",
        fig,
        [table("Events (one row per event and reporting article)", [
            Column("date", "date"), Column("date_basis", "date from"), Column("event_type", "type"),
            Column("place", "place"), Column("killed_range", "killed (all sources)"),
            Column("n_documents", "articles", "number"), Column("description", "description", "long"),
            SOURCE, Column("killed", "killed (this article)", "number"), SENTENCE,
            Column("event_id", "event_id")], listed, "No event in this warehouse.", key_rows)],
        keys.labels, points)


def _range(low: Any, high: Any) -> str:
    if low is None and high is None:
        return ""
    if low == high or high is None:
        return number(low)
    return f"{number(low)}–{number(high)}"


# 2 ---------------------------------------------------------------------------------------------
def _agreement(given: list[Any], missing: bool) -> str:
    """What the sources of one event say about one figure: `given`, the distinct values they give;
    `missing`, whether some give none."""
    if len(given) > 1:
        return "differ: " + " vs ".join(number(v) for v in sorted(given))
    if len(given) == 1 and missing:
        return "only some sources give it"
    return "agree" if given else "none given"


def _toll_differs(event: dict[str, Any]) -> bool:
    return len(event["killed_values"] or []) > 1 or len(event["injured_values"] or []) > 1


def charted_toll_events(events: Result) -> list[str]:
    """The multi-source events the toll chart draws (`events`: queries.TOLL_EVENTS): those with
    a figure in some source, the ones whose sources disagree first, then by number of sources,
    then by the highest killed figure; at most MAX_TOLL_EVENTS."""
    with_figures = [e for e in events.rows if e["killed_values"] or e["injured_values"]]
    ranked = sorted(with_figures, key=lambda e: (not _toll_differs(e), -e["sources"], -(e["max_killed"] or 0),
                                                 e["event_id"]))
    return [e["event_id"] for e in ranked[:MAX_TOLL_EVENTS]]


def tolls_by_source(events: Result, rows: Result) -> Chart:
    """`events`: queries.TOLL_EVENTS; `rows`: queries.toll_rows for the charted_toll_events(events):
    every source of the charted events, the capped sources of the others (key_row, row_limit)."""
    keys = Keys("tolls")
    by_id = {e["event_id"]: e for e in events.rows}
    charted = charted_toll_events(events)
    rank = {eid: i for i, eid in enumerate(charted)}

    sources: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows.rows:
        sources[r["event_id"]].append(r)
    # a charted event with more sources than are drawn (MAX_DRAWN_SOURCES) says so
    more = {eid: max(r["key_rows"] for r in sources[eid]) for eid in charted
            if sources[eid] and max(r["key_rows"] for r in sources[eid]) > len(sources[eid])}

    def label(e):
        place = e["location_text"] or e["country_code"] or "place unknown"
        day = e["event_date_start"].isoformat() if e["event_date_start"] else "undated"
        drawn = (f" · first {len(sources[e['event_id']])} of {more[e['event_id']]:,} sources"
                 if e["event_id"] in more else "")
        return f"{e['event_type']} · {short(place, 24)} · {day}{drawn}{' ≠' if _toll_differs(e) else ''}"

    labels: dict[str, str] = {}
    seen = Counter()
    for eid in sorted(by_id, key=lambda e: (e not in rank, rank.get(e, 0), e)):
        text = label(by_id[eid])
        seen[text] += 1
        labels[eid] = text if seen[text] == 1 else f"{text} ({seen[text]})"
    for eid in charted:
        keys(eid, f"the event {labels[eid]}")
    for eid in by_id:
        keys(eid, f"the event {labels[eid]}")

    xs_event, xs_source, killed, injured, cd, hover = [], [], [], [], [], []
    none_x_event, none_x_source, none_cd = [], [], []
    for eid in charted:
        key = keys.keys[eid]
        for r in sources[eid]:
            src = short(source_label(r), 28)
            xs_event.append(esc(labels[eid]))
            xs_source.append(esc(src))
            killed.append(r["killed"])
            injured.append(r["injured"])
            cd.append(key)
            hover.append(esc(f"{source_label(r)} ({r['published_date'] or 'no date'})"))
            if r["killed"] is None and r["injured"] is None:
                none_x_event.append(esc(labels[eid]))
                none_x_source.append(esc(src))
                none_cd.append(key)
    fig = go.Figure()
    points = 0
    for name, values in (("killed", killed), ("injured", injured)):
        if not any(v is not None for v in values):
            continue
        points += sum(v is not None for v in values)
        fig.add_trace(go.Bar(name=name, x=[xs_event, xs_source], y=values, customdata=cd, hovertext=hover,
                             text=[number(v) for v in values], textposition="outside",
                             hovertemplate=f"%{{hovertext}}<br>{name}: %{{y}}<br>click for every source"
                                           f"<extra></extra>"))
    if none_cd:
        points += len(none_cd)
        fig.add_trace(go.Scatter(name="gives no figure", x=[none_x_event, none_x_source], y=[0] * len(none_cd),
                                 mode="markers", marker=dict(symbol="x", size=10, color="#888"), customdata=none_cd,
                                 hovertemplate="this source gives no figure<br>click for every source<extra></extra>"))
    _layout(fig, 460, barmode="group", yaxis=dict(title="toll in this source", rangemode="tozero"),
            margin=dict(l=60, r=20, t=30, b=130))
    if not charted:
        _placeholder(fig, "No event reported by several documents gives a toll")

    listed = []
    for r in rows.rows:
        if r["key_row"] > r["row_limit"]:
            continue  # drawn on the chart, counted in the table
        e = by_id[r["event_id"]]
        listed.append((keys.keys[r["event_id"]], {
            "event": labels[r["event_id"]],
            "killed_agreement": _agreement(e["killed_values"] or [], e["killed_missing"]),
            "injured_agreement": _agreement(e["injured_values"] or [], e["injured_missing"]),
            "source": source_label(r), "published_date": r["published_date"],
            "killed": " ".join(x for x in (r["killed_qualifier"], number(r["killed"])) if x),
            "injured": " ".join(x for x in (r["injured_qualifier"], number(r["injured"])) if x),
            "event_killed": _range(r["killed_low"], r["killed_high"]),
            "event_injured": _range(r["injured_low"], r["injured_high"]),
            "sentence_text": r["sentence_text"], "event_id": r["event_id"]}))
    with_figures = sum(1 for e in events.rows if e["killed_values"] or e["injured_values"])
    no_figure = len(by_id) - with_figures
    note = (f"{len(by_id)} event(s) are reported by two or more articles; {with_figures} of them have a "
            f"figure in at least one source" + (f", the first {len(charted)} are charted" if len(charted) <
                                                 with_figures else "") +
            (f"; {no_figure} give none in any source (they are in the table)." if no_figure else "."))
    return Chart(
        "tolls_by_source", "Every source's toll, for events several articles report",
        "For each event that two or more articles report, each article's own killed and injured figures side by "
        f"side (≠: the sources give different figures; an event more than {MAX_DRAWN_SOURCES} articles report "
        f"shows its first {MAX_DRAWN_SOURCES}), the events where they disagree first. The event's range "
        "(low = the lowest, high = the highest source) is in the table. Click a bar for every source of that event "
        "with the sentence its figure comes from.",
        fig,
        [table("Sources of events reported by several articles", [
            Column("event", "event"), Column("killed_agreement", "killed: sources"),
            Column("injured_agreement", "injured: sources"), SOURCE, Column("published_date", "published"),
            Column("killed", "killed (this source)"), Column("injured", "injured (this source)"),
            Column("event_killed", "event killed range"), Column("event_injured", "event injured range"),
            SENTENCE, Column("event_id", "event_id")], listed, "No event is reported by several articles.",
            {keys.keys[eid]: e["sources"] for eid, e in by_id.items()})],
        keys.labels, points, note)


# 3 ---------------------------------------------------------------------------------------------
def _claimant(actor: str | None, written: str | None) -> tuple[str, str]:
    """(group, label): the gazetteer actor when resolved, else the claimant as written (case and
    spacing folded), else the agentless group."""
    if actor:
        return "actor:" + actor, actor
    written = re.sub(r"\s+", " ", written or "").strip()
    if not written:
        return "none", NO_CLAIMANT
    return "text:" + written.casefold(), written


class ClaimantBars(NamedTuple):
    named: dict[tuple[str, str], str]  # (claimant_actor or '', claimant_text or '') -> its bar
    order: list[str]                                  # the bars, top to bottom
    other: str | None                                 # the bar of every claimant not in `named`


def claimant_bars(counts: Result) -> ClaimantBars:
    """The bars of the claims chart (`counts`: queries.CLAIMANT_COUNTS): the MAX_CLAIMANTS
    claimants with the most claims by name, each claimant as given (actor, text) mapped to its
    bar, then one "N other claimant(s)" bar for the rest. A claimant written several ways is named
    by its most frequent way (then the first in sort order). A missing actor or text is '' in
    `named` (the same claimant for the chart)."""
    totals: Counter = Counter()
    forms: dict[str, Counter] = defaultdict(Counter)
    for r in counts.rows:
        group, name = _claimant(r["claimant_actor"], r["claimant_text"])
        totals[group] += r["claims"]
        forms[group][name] += r["claims"]
    names = {g: min(f, key=lambda n: (-f[n], n)) for g, f in forms.items()}
    top = sorted(totals, key=lambda g: (-totals[g], names[g].casefold(), g))[:MAX_CLAIMANTS]
    rest = len(totals) - len(top)
    other = f"{rest} other claimant(s)"
    order = list(dict.fromkeys([names[g] for g in top] + ([other] if rest else [])))
    named = {}
    for r in counts.rows:
        group = _claimant(r["claimant_actor"], r["claimant_text"])[0]
        if group in top:
            named[(r["claimant_actor"] or "", r["claimant_text"] or "")] = names[group]
    return ClaimantBars(named, order, other if rest else None)


def claims_by_claimant(counts: Result, rows: Result) -> Chart:
    """`counts`: queries.CLAIMANT_COUNTS; `rows`: queries.claim_rows for claimant_bars(counts),
    the capped claims behind each bar with `key_rows`."""
    keys = Keys("claims")
    bars = claimant_bars(counts)
    unique_order = bars.order
    per_bar: Counter = Counter()
    for r in counts.rows:
        bar = bars.named.get((r["claimant_actor"] or "", r["claimant_text"] or ""), bars.other)
        per_bar[(bar, r["claim_type"])] += r["claims"]
    types = sorted({t for _, t in per_bar}, key=lambda t: (-sum(n for (_, tt), n in per_bar.items() if tt == t), t))
    fig = go.Figure()
    points = 0
    for kind in types:
        xs, cd = [], []
        for who in unique_order:
            n = per_bar.get((who, kind))
            xs.append(n)
            cd.append(keys((who, kind), f"{kind} claims by {who}") if n else None)
            points += bool(n)
        fig.add_trace(go.Bar(name=esc(kind), orientation="h", y=[esc(w) for w in unique_order], x=xs, customdata=cd,
                             hovertemplate=f"%{{y}}<br>{esc(kind)}: %{{x}} claim(s)<br>click for the claims"
                                           f"<extra></extra>"))
    _layout(fig, max(320, 120 + 24 * len(unique_order)), barmode="stack",
            yaxis=dict(type="category", autorange="reversed", automargin=True), xaxis=dict(title="claims"),
            margin=dict(l=200, r=20, t=30, b=50))
    if not per_bar:
        _placeholder(fig, "No claim in this warehouse")
    listed, key_rows = [], {}
    for r in rows.rows:
        key = keys.keys[(r["shown"], r["claim_type"])]
        key_rows[key] = r["key_rows"]
        listed.append((key, {
            "claimant": r["shown"], "claimant_text": r["claimant_text"], "claimant_actor": r["claimant_actor"],
            "claim_type": r["claim_type"], "cue": r["cue"], "is_direct_quote": r["is_direct_quote"],
            "claim_text": r["claim_text"], "sentence_text": r["sentence_text"], "mark_start": r["mark_start"],
            "mark_end": r["mark_end"], "source": source_label(r)}))
    return Chart(
        "claims_by_claimant", "Claims by claimant",
        "Attributed statements by who makes them: the gazetteer actor when the claimant resolves to one, else the "
        f"claimant as written; the {MAX_CLAIMANTS} claimants with the most claims, by claim type. Click a bar for "
        "its claims with the sentence (the claim marked).",
        fig,
        [table("Claims", [
            Column("claimant", "claimant (chart)"), Column("claimant_text", "as written"),
            Column("claimant_actor", "actor"), Column("claim_type", "type"), Column("cue", "cue"),
            Column("is_direct_quote", "quote"), Column("claim_text", "claim", "long"), SENTENCE, SOURCE],
            listed, "No claim in this warehouse.", key_rows)],
        keys.labels, points)


# 4 ---------------------------------------------------------------------------------------------
def actors_together(result: Result) -> Chart:
    keys = Keys("actors")
    pair_events: dict[tuple[str, str], set[str]] = defaultdict(set)
    actor_events: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    rank: dict[str, int] = {}  # the query's rank over all actors (it fetches the pairs of the top ones only)
    pair_total: dict[tuple[str, str], int] = {}  # the query's events per pair (it fetches the first ones only)
    for r in result.rows:
        pair_events[(r["actor_a"], r["actor_b"])].add(r["event_id"])
        if r.get("pair_events") is not None:
            pair_total[(r["actor_a"], r["actor_b"])] = r["pair_events"]
        for side in ("a", "b"):
            actor_events[r[f"actor_{side}"]].add(r["event_id"])
            names[r[f"actor_{side}"]] = r[f"actor_{side}_name"] or r[f"actor_{side}"]
            if r.get(f"actor_{side}_rank") is not None:
                rank[r[f"actor_{side}"]] = r[f"actor_{side}_rank"]
    top = sorted(actor_events, key=lambda a: (rank.get(a, 0), -len(actor_events[a]), names[a].casefold(), a))[
        :MAX_ACTORS]
    duplicates = Counter(names[a] for a in top)
    label = {a: names[a] if duplicates[names[a]] == 1 else f"{names[a]} ({a[:6]})" for a in top}
    index = {a: i for i, a in enumerate(top)}
    size = len(top)
    z: list[list[Any]] = [[None] * size for _ in range(size)]
    cd: list[list[Any]] = [[None] * size for _ in range(size)]
    points = 0
    for (a, b), evs in pair_events.items():
        if a in index and b in index:
            key = keys((a, b), f"events with {label[a]} and {label[b]}")
            for i, j in ((index[a], index[b]), (index[b], index[a])):
                z[i][j], cd[i][j] = pair_total.get((a, b), len(evs)), key
            points += 1
    axis = [esc(label[a]) for a in top]
    fig = go.Figure()
    if size:
        fig.add_trace(go.Heatmap(z=z, x=axis, y=axis, customdata=cd, colorscale="Blues", hoverongaps=False,
                                 colorbar=dict(title="events"),
                                 hovertemplate="%{y} and %{x}: %{z} event(s)<br>click for the events<extra></extra>"))
    _layout(fig, max(360, 160 + 26 * size), xaxis=dict(type="category", tickangle=-45, automargin=True),
            yaxis=dict(type="category", autorange="reversed", automargin=True),
            margin=dict(l=160, r=20, t=30, b=160))
    if not points:
        _placeholder(fig, "No two actors share an event")
    rows = []
    for r in result.rows:
        key = keys.keys.get((r["actor_a"], r["actor_b"]))
        if key is None:
            continue
        rows.append((key, {
            "actor_a": f"{label[r['actor_a']]} ({r['actor_a_roles']})",
            "actor_b": f"{label[r['actor_b']]} ({r['actor_b_roles']})",
            "event_type": r["event_type"], "date": r["event_date_start"], "place": r["location_text"],
            "description": r["description"], "sentence_text": r["sentence_text"], "source": source_label(r),
            "event_id": r["event_id"]}))
    drill = table("Events shared by two actors", [
        Column("actor_a", "actor (roles)"), Column("actor_b", "actor (roles)"), Column("event_type", "event"),
        Column("date", "date"), Column("place", "place"), Column("description", "description", "long"), SENTENCE,
        SOURCE, Column("event_id", "event_id")], rows, "No two actors share an event.")
    if pair_total:  # rows the query did not fetch are omitted too
        if ROWS_PER_POINT > ROWS_PER_FETCHED_PAIR:
            raise ValueError("charts.ROWS_PER_POINT is over the rows the co-occurrence query fetches per pair")
        kept = Counter(key for key, _ in drill.rows)
        drill.omitted = {keys.keys[pair]: n - kept[keys.keys[pair]] for pair, n in pair_total.items()
                         if pair in keys.keys and n > kept[keys.keys[pair]]}
    return Chart(
        "actors_together", "Actors that appear together in events",
        f"How many events each pair of actors shares (any roles: perpetrator, target, participant, mediator, host), "
        f"for the {MAX_ACTORS} actors that share the most events with others. Click a cell for those events, with "
        "the sentence of the first report of each.",
        fig,
        [drill],
        keys.labels, points)


# 5 ---------------------------------------------------------------------------------------------
def run_label(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)[:19].replace("T", " ")


def run_summaries(runs: Result, figure_counts: Result, quarantined: Result) -> list[dict[str, Any]]:
    """Per run in the file: figures by type (`figure_counts`: queries.FIGURE_COUNTS) and
    quarantined files by stage and reason (what the asset stores in its metadata so that later
    dashboards can show earlier publishes)."""
    out: dict[str, dict[str, Any]] = {}

    def entry(run: str) -> dict[str, Any]:
        return out.setdefault(run, {"run_at": run, "figures": {}, "quarantined": {}})

    for r in runs.rows:
        entry(run_label(r["run_at"]))
    for r in figure_counts.rows:
        figures = entry(r["run"])["figures"]
        figures[r["figure_type"]] = figures.get(r["figure_type"], 0) + r["figures"]
    for r in quarantined.rows:
        files, name = entry(run_label(r["run_at"]))["quarantined"], f"{r['stage']}: {r['reason']}"
        files[name] = files.get(name, 0) + 1
    return [out[k] for k in sorted(out)]


def figures_and_quarantine(runs: Result, figure_counts: Result, figure_rows: Result, quarantined: Result,
                           history: list[dict[str, Any]] | None = None) -> Chart:
    """`figure_counts`: queries.FIGURE_COUNTS; `figure_rows`: queries.figure_rows, the capped
    figures behind each bar with `key_rows`; `quarantined`: queries.QUARANTINED, every file."""
    keys = Keys("runs")
    current = run_summaries(runs, figure_counts, quarantined)
    in_file = {s["run_at"] for s in current}
    earlier = [h for h in (history or []) if h.get("run_at") and h["run_at"] not in in_file]
    summaries = sorted(earlier + current, key=lambda s: s["run_at"])
    labels = [s["run_at"] + ("" if s["run_at"] in in_file else " (earlier publish)") for s in summaries]

    fig = make_subplots(rows=1, cols=2, subplot_titles=("figures extracted, by type",
                                                        "files quarantined, by stage: reason"))
    points = 0
    palette = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#bcbd22", "#8c564b", "#e377c2"]
    warm = ["#d62728", "#ff7f0e", "#e377c2", "#8c564b", "#bcbd22", "#7f7f7f"]
    for col, part, colors in ((1, "figures", palette), (2, "quarantined", warm)):
        names = sorted({n for s in summaries for n in s[part]})
        for k, name in enumerate(names):
            ys, cd = [], []
            for s in summaries:
                n = s[part].get(name)
                ys.append(n)
                cd.append((keys((part, s["run_at"], name), f"{part} of the run {s['run_at']}: {name}")
                           if s["run_at"] in in_file else "") if n else None)
                points += bool(n)
            fig.add_trace(go.Bar(name=esc(name), x=labels, y=ys, customdata=cd, legendgroup=part,
                                 legendgrouptitle_text=part, marker_color=colors[k % len(colors)],
                                 hovertemplate=f"%{{x}}<br>{esc(name)}: %{{y}}<br>click for the rows<extra></extra>"),
                          row=1, col=col)
        if not names:
            fig.add_trace(go.Bar(name=f"no {part}", x=labels, y=[0] * len(labels), legendgroup=part,
                                 marker_color="#bbb", hovertemplate=f"no {part} in this run<extra></extra>"),
                          row=1, col=col)
            fig.add_annotation(text=f"none ({part}: 0)", showarrow=False, xref=f"x{col if col > 1 else ''} domain",
                               yref=f"y{col if col > 1 else ''} domain", x=0.5, y=0.5, font=dict(color="#666"))
    _layout(fig, 420, barmode="stack", legend=dict(groupclick="toggleitem"))
    fig.update_xaxes(type="category")
    if not summaries:
        _placeholder(fig, "No run in this warehouse")

    fig_rows, q_rows, fig_totals = [], [], {}
    for r in figure_rows.rows:
        key = keys.keys[("figures", r["run"], r["figure_type"])]
        fig_totals[key] = r["key_rows"]
        fig_rows.append((key, {
            "run": r["run"], "type": r["figure_type"], "value": number(r["value"]), "unit": r["unit"],
            "qualifier": r["qualifier"], "subject": r["subject"], "surface_text": r["surface_text"],
            "sentence_text": r["sentence_text"], "mark_start": r["mark_start"], "mark_end": r["mark_end"],
            "source": source_label(r)}))
    for r in quarantined.rows:
        key = keys.keys[("quarantined", run_label(r["run_at"]), f"{r['stage']}: {r['reason']}")]
        q_rows.append((key, {
            "run": run_label(r["run_at"]), "stage": r["stage"], "reason": r["reason"], "detail": r["detail"],
            "size_bytes": r["size_bytes"], "source": r["source_file"], "quarantined_at": run_label(r["quarantined_at"])}))
    note = (f"This file holds {len(current)} run(s)" +
            (f"; {len(earlier)} earlier publish(es) from the asset's history are shown without rows (their rows are "
             f"not in this file)." if earlier else "."))
    return Chart(
        "figures_and_quarantine", "Figures and quarantined files per run",
        "A run is one ingest of the input folder (dim_document.ingested_at; a rejected file belongs to the latest "
        "run that started at or before its quarantined_at). Left: figures extracted from the run's articles by "
        "type; right: the files it quarantined, by stage and reason. Click a bar for its figures (with their "
        "sentence) or files (a quarantined file has no sentence: its reason and detail say why).",
        fig,
        [table("Figures", [
            Column("run", "run"), Column("type", "type"), Column("value", "value", "number"), Column("unit", "unit"),
            Column("qualifier", "qualifier"), Column("subject", "subject"), Column("surface_text", "as written"),
            SENTENCE, SOURCE], fig_rows, "No figure in this warehouse.", fig_totals),
         table("Quarantined files", [
             Column("run", "run"), Column("stage", "stage"), Column("reason", "reason"), Column("detail", "detail"),
             Column("size_bytes", "bytes", "number"), Column("source", "file"),
             Column("quarantined_at", "quarantined at")], q_rows, "No file was quarantined.")],
        keys.labels, points, note)


BUILDERS: dict[str, Callable[..., Chart]] = {
    "events_over_time": events_over_time,
    "tolls_by_source": tolls_by_source,
    "claims_by_claimant": claims_by_claimant,
    "actors_together": actors_together,
    "figures_and_quarantine": figures_and_quarantine,
}
