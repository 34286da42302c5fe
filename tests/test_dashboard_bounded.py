"""The dashboard fetches a bounded number of rows however large the warehouse.

- Co-occurrence (dashboard/queries.py CO_OCCURRENCE): the top MAX_ACTORS actors are ranked in
  SQL, each pair brings its first ROWS_PER_POINT events and its count, and the chart still shows
  every pair's true count and says how many rows it left out.
- Events, tolls, claims and figures: the bars come from SQL aggregates and the rows behind them
  are capped in SQL (queries.capped). On a warehouse with more rows than a page lists, each
  chart's bars and row counts equal what a plain query over all rows gives, every point lists at
  most its share of rows (its first ones) and counts the rest, and the fetch stays bounded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import duckdb
import pytest

from dagster_project.dashboard import build_charts, charts, queries

PAIR_EVENTS = queries.ROWS_PER_POINT + 50  # more events than one cell lists


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    s = queries.SCHEMA
    con.execute(f"create schema {s}")
    con.execute(f"create table {s}.dim_actor (actor_id varchar, canonical_name varchar)")
    con.execute(f"create table {s}.bridge_event_actor (event_id varchar, actor_id varchar, role varchar)")
    con.execute(f"create table {s}.fct_event (event_id varchar, event_type varchar, event_date_start date, "
                f"location_text varchar, description varchar, first_document_id varchar, first_sentence_id varchar)")
    con.execute(f"create table {s}.dim_document (document_id varchar, source_file varchar, article_index int)")
    con.execute(f"create table {s}.dim_sentence (sentence_id varchar, sentence_text varchar)")
    n_actors = queries.MAX_ACTORS + 10
    con.execute(f"insert into {s}.dim_actor select 'a' || lpad(i::varchar, 3, '0'), 'Actor ' || i "
                f"from range({n_actors}) t(i)")
    # a000 and a001 share PAIR_EVENTS events; actor i > 1 shares (n_actors - i) events with a000,
    # so the ranking by shared events is a000, a001, a002, ... and the last 10 fall outside the top
    con.execute(f"""insert into {s}.fct_event
        select 'e' || lpad(i::varchar, 5, '0'), 'attack', date '2024-01-01' + i::integer, 'Place', 'Event ' || i, 'd1', 's1'
        from range(10000) t(i)""")
    con.execute(f"""insert into {s}.bridge_event_actor
        select 'e' || lpad(i::varchar, 5, '0'), actor, 'participant'
        from range({PAIR_EVENTS}) t(i), (values ('a000'), ('a001')) v(actor)""")
    for i in range(2, n_actors):
        shared = n_actors - i
        base = 1000 + i * 100
        con.execute(f"""insert into {s}.bridge_event_actor
            select 'e' || lpad((j + {base})::varchar, 5, '0'), actor, 'participant'
            from range({shared}) t(j), (values ('a000'), ('a{i:03d}')) v(actor)""")
    con.execute(f"insert into {s}.dim_document values ('d1', 'f.txt', 0)")
    con.execute(f"insert into {s}.dim_sentence values ('s1', 'A sentence.')")
    yield con
    con.close()


def test_only_the_top_actors_pairs_are_fetched_and_each_at_most_one_cell_of_rows(con):
    result = queries.fetch(con, queries.CO_OCCURRENCE)
    actors = {r["actor_a"] for r in result.rows} | {r["actor_b"] for r in result.rows}
    assert len(actors) == queries.MAX_ACTORS
    assert "a000" in actors and f"a{queries.MAX_ACTORS + 9:03d}" not in actors
    per_pair: dict[tuple[str, str], int] = {}
    for r in result.rows:
        per_pair[(r["actor_a"], r["actor_b"])] = per_pair.get((r["actor_a"], r["actor_b"]), 0) + 1
    assert per_pair[("a000", "a001")] == queries.ROWS_PER_POINT
    assert {r["pair_events"] for r in result.rows if (r["actor_a"], r["actor_b"]) == ("a000", "a001")} == {PAIR_EVENTS}


def test_the_chart_shows_true_counts_and_counts_the_rows_left_out(con):
    chart = charts.actors_together(queries.fetch(con, queries.CO_OCCURRENCE))
    trace = chart.figure.to_plotly_json()["data"][0]
    names = trace["x"]
    assert names[:3] == ["Actor 0", "Actor 1", "Actor 2"]  # the SQL ranking: most shared events first
    z = {(names[i], names[j]): v for i, row in enumerate(trace["z"]) for j, v in enumerate(row) if v}
    assert z[("Actor 0", "Actor 1")] == PAIR_EVENTS
    assert z[("Actor 0", "Actor 2")] == queries.MAX_ACTORS + 8
    drill = chart.tables[0]
    key = next(k for k, label in chart.labels.items() if label == "events with Actor 0 and Actor 1")
    listed = sum(1 for k, _ in drill.rows if k == key)
    assert listed + drill.omitted[key] == PAIR_EVENTS
    assert drill.total == sum(z.values()) // 2  # every shared event of the top pairs is counted once


# ---------------------------------------------------------------------------------------------
# A warehouse larger than a page: 1,500 events in two months and three types, each reported by
# two articles (their killed figures differ for every seventh event), 3,000 claims by 40
# claimants, 3,000 figures of two types.
# ---------------------------------------------------------------------------------------------

N_DOCS, N_EVENTS, N_CLAIMS, N_FIGURES, N_CLAIMANTS = 2000, 1500, 3000, 3000, 40
RUN = dt.datetime(2024, 3, 1, 10, 0, 0)


@pytest.fixture(scope="module")
def large():
    con = duckdb.connect()
    s = queries.SCHEMA
    con.execute(f"create schema {s}")
    con.execute(f"""create table {s}.dim_document as
        select 'd' || lpad(i::varchar, 4, '0') as document_id, 'f' || lpad(i::varchar, 4, '0') || '.txt' as source_file,
               0 as article_index, 'Title ' || i as title, date '2024-01-01' + (i % 50)::integer as published_date,
               timestamp '{RUN}' as ingested_at
        from range({N_DOCS}) t(i)""")
    con.execute(f"""create table {s}.dim_sentence as
        select 's' || lpad(i::varchar, 4, '0') as sentence_id, 'd' || lpad(i::varchar, 4, '0') as document_id,
               0 as char_start, 40 as char_end, 'Sentence ' || i || ' of the article.' as sentence_text
        from range({N_DOCS}) t(i)""")
    con.execute(f"create table {s}.dim_actor (actor_id varchar, canonical_name varchar, actor_type varchar)")
    con.execute(f"insert into {s}.dim_actor values ('a1', 'Army', 'state'), ('a2', 'Rebels', 'armed group')")
    con.execute(f"""create table {s}.fct_event as
        select 'e' || lpad(i::varchar, 4, '0') as event_id, ['attack', 'arrest', 'talks'][i % 3 + 1] as event_type,
               case when i % 10 = 0 then null else date '2024-01-01' + (i % 60)::integer end as event_date_start,
               null::date as event_date_end, 'Town ' || (i % 9) as location_text, 'AF' as country_code,
               (i % 7)::double as killed_low, (i % 7 + case when i % 7 = 0 then 3 else 0 end)::double as killed_high,
               null::double as injured_low, null::double as injured_high, 2 as n_documents,
               'Event ' || i as description, 'd' || lpad((i % {N_DOCS})::varchar, 4, '0') as first_document_id,
               's' || lpad((i % {N_DOCS})::varchar, 4, '0') as first_sentence_id
        from range({N_EVENTS}) t(i)""")
    con.execute(f"""create table {s}.bridge_event_document as
        select 'e' || lpad(i::varchar, 4, '0') as event_id, 'd' || lpad(((i + k * 700) % {N_DOCS})::varchar, 4, '0')
                   as document_id,
               (i % 7 + case when k = 1 and i % 7 = 0 then 3 else 0 end)::double as killed, null::double as injured,
               null as killed_qualifier, null as injured_qualifier,
               's' || lpad(((i + k * 700) % {N_DOCS})::varchar, 4, '0') as sentence_id
        from range({N_EVENTS}) t(i), range(2) u(k)""")
    con.execute(f"""create table {s}.bridge_event_actor as
        select 'e' || lpad(i::varchar, 4, '0') as event_id, a as actor_id, 'participant' as role
        from range(20) t(i), (values ('a1'), ('a2')) v(a)""")
    con.execute(f"""create table {s}.fct_claim as
        select 'c' || lpad(i::varchar, 4, '0') as claim_id, 'd' || lpad((i % {N_DOCS})::varchar, 4, '0') as document_id,
               's' || lpad((i % {N_DOCS})::varchar, 4, '0') as sentence_id,
               case when i % {N_CLAIMANTS} = 0 then 'a1' end as claimant_actor_id,
               'Speaker ' || (i % {N_CLAIMANTS}) as claimant_text, 'said' as cue, 'Claim ' || i as claim_text,
               i % 30 as char_start, i % 30 + 5 as char_end, false as is_direct_quote,
               ['indirect', 'direct'][i % 2 + 1] as claim_type
        from range({N_CLAIMS}) t(i)""")
    con.execute(f"""create table {s}.fct_statistic as
        select 'st' || lpad(i::varchar, 4, '0') as statistic_id, 'd' || lpad((i % {N_DOCS})::varchar, 4, '0')
                   as document_id,
               's' || lpad((i % {N_DOCS})::varchar, 4, '0') as sentence_id, 'casualty' as statistic_type,
               (i % 50)::double as value, null as qualifier, ['killed', 'injured'][i % 2 + 1] as casualty_type,
               null as subject, 'people' as unit, (i % 50)::varchar as surface_text, i % 30 as char_start,
               i % 30 + 2 as char_end
        from range({N_FIGURES}) t(i)""")
    con.execute(f"""create table {s}.quarantined_documents (source_file varchar, stage varchar, reason varchar,
        detail varchar, size_bytes bigint, quarantined_at timestamp)""")
    yield con
    con.close()


def _charts(con) -> dict[str, charts.Chart]:
    built, _ = build_charts(con)
    return {c.id: c for c in built}


def _bars(chart: charts.Chart) -> dict[str, int]:
    """drill key -> the bar's value, summed over the figure's bar traces."""
    out: Counter = Counter()
    for trace in chart.figure.to_plotly_json()["data"]:
        values = trace["x"] if trace.get("orientation") == "h" else trace["y"]
        for key, value in zip(trace.get("customdata") or [], values):
            if key and value:
                out[key] += value
    return dict(out)


def _listed(table: charts.DrillTable) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for key, row in table.rows:
        out[key].append(row)
    return out


def _assert_capped(table: charts.DrillTable, behind: dict[str, int]) -> None:
    """Every point lists its share of rows and counts the rest; the table holds about a page."""
    listed = _listed(table)
    limit = max(1, min(charts.ROWS_PER_POINT, charts.ROWS_PER_TABLE // len(behind)))
    assert set(listed) == set(behind)
    for key, n in behind.items():
        assert len(listed[key]) == min(n, limit), key
        assert len(listed[key]) + table.omitted.get(key, 0) == n, key
    assert len(table.rows) <= max(charts.ROWS_PER_TABLE, len(behind))
    assert table.total == sum(behind.values())


def test_events_are_counted_in_sql_and_their_rows_capped(large):
    chart = _charts(large)["events_over_time"]
    m = queries.SCHEMA
    # every event x report row, computed here in Python: an event with no date of its own stands on
    # the earliest publication date of its reports (all in 2024: by month)
    published = dict(large.execute(f"select document_id, published_date from {m}.dim_document").fetchall())
    reports = defaultdict(list)
    for event_id, document_id in large.execute(f"select event_id, document_id from {m}.bridge_event_document").fetchall():
        reports[event_id].append(document_id)
    events, rows = Counter(), Counter()
    for event_id, kind, day in large.execute(f"select event_id, event_type, event_date_start from {m}.fct_event").fetchall():
        day = day or min(published[d] for d in reports[event_id])
        bar = f"{kind} events, {day:%Y-%m}"
        events[bar] += 1
        rows[bar] += max(1, len(reports[event_id]))
    bars = _bars(chart)
    assert {chart.labels[key]: n for key, n in bars.items()} == dict(events)
    key_of = {text: key for key, text in chart.labels.items()}
    table = chart.tables[0]
    _assert_capped(table, {key_of[bar]: n for bar, n in rows.items()})
    for listed in _listed(table).values():  # the first events of each bar, in event order
        ids = [r["event_id"] for r in listed]
        assert ids == sorted(ids)


def test_tolls_draw_every_source_of_the_charted_events_and_list_a_page(large, monkeypatch):
    monkeypatch.setattr(charts, "ROWS_PER_POINT", 1)
    chart = _charts(large)["tolls_by_source"]
    killed = next(t for t in chart.figure.to_plotly_json()["data"] if t["name"] == "killed")
    drawn = Counter(killed["customdata"])
    assert len(drawn) == charts.MAX_TOLL_EVENTS and set(drawn.values()) == {2}, "both sources of each charted event"
    assert all(chart.labels[key].endswith("≠") for key in drawn), "the events whose sources differ come first"
    table = chart.tables[0]
    behind = {key: 2 for key in {k for k, _ in table.rows}}
    assert len(behind) == N_EVENTS
    _assert_capped(table, behind)
    disagree = [row for _, row in table.rows if row["killed_agreement"].startswith("differ")]
    assert len(disagree) == len(range(0, N_EVENTS, 7))


def test_claims_are_ranked_from_sql_counts_and_their_rows_capped(large):
    chart = _charts(large)["claims_by_claimant"]
    trace_names = [t["y"] for t in chart.figure.to_plotly_json()["data"]][0]
    assert len(trace_names) == charts.MAX_CLAIMANTS + 1
    assert trace_names[-1] == f"{N_CLAIMANTS - charts.MAX_CLAIMANTS} other claimant(s)"
    assert "Army" in trace_names, "a resolved claimant is named by its actor"
    bars = _bars(chart)
    assert sum(bars.values()) == N_CLAIMS
    other = [k for k, text in chart.labels.items() if "other claimant(s)" in text]
    assert sum(bars[k] for k in other) == (N_CLAIMANTS - charts.MAX_CLAIMANTS) * N_CLAIMS // N_CLAIMANTS
    _assert_capped(chart.tables[0], bars)


def test_figures_are_counted_per_run_in_sql_and_their_rows_capped(large, monkeypatch):
    monkeypatch.setattr(charts, "ROWS_PER_POINT", 7)
    built, summaries = build_charts(large)
    chart = next(c for c in built if c.id == "figures_and_quarantine")
    assert summaries == [{"run_at": charts.run_label(RUN), "quarantined": {},
                          "figures": {"casualty: injured": N_FIGURES // 2, "casualty: killed": N_FIGURES // 2}}]
    bars = _bars(chart)
    assert sorted(bars.values()) == [N_FIGURES // 2] * 2
    _assert_capped(chart.tables[0], bars)
    assert len(chart.tables[0].rows) == 2 * 7


def test_what_is_fetched_stays_bounded(large):
    """The capped queries return a page of rows (each bar's first ROWS_PER_POINT), not the
    warehouse's rows."""
    caps = (charts.ROWS_PER_POINT, charts.ROWS_PER_TABLE)
    events = queries.fetch(large, queries.event_rows(*caps))
    assert len(events.rows) == 6 * charts.ROWS_PER_POINT < 2 * N_EVENTS  # 3 types x 2 months
    figures = queries.fetch(large, queries.figure_rows(*caps))
    assert len(figures.rows) == 2 * charts.ROWS_PER_POINT < N_FIGURES
    assert {r["key_rows"] for r in figures.rows} == {N_FIGURES // 2}


def test_a_charted_event_draws_at_most_max_drawn_sources_and_says_how_many_it_has(large, monkeypatch):
    """An event that more articles report than the chart draws for one event keeps its first
    MAX_DRAWN_SOURCES bars, and its label gives the number of sources; the others are counted."""
    monkeypatch.setattr(charts, "MAX_DRAWN_SOURCES", 1)
    chart = _charts(large)["tolls_by_source"]
    killed = next(t for t in chart.figure.to_plotly_json()["data"] if t["name"] == "killed")
    drawn = Counter(killed["customdata"])
    assert len(drawn) == charts.MAX_TOLL_EVENTS and set(drawn.values()) == {1}, "one bar per charted event"
    assert all(" · first 1 of 2 sources" in chart.labels[key] for key in drawn)
    assert all(chart.labels[key].endswith("≠") for key in drawn), "still flagged as disagreeing"
