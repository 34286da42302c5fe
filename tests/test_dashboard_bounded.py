"""The dashboard's co-occurrence chart fetches a bounded number of rows however large the
warehouse (dashboard/queries.py CO_OCCURRENCE): the top MAX_ACTORS actors are ranked in SQL, each
pair brings its first ROWS_PER_POINT events and its count, and the chart still shows every
pair's true count and says how many rows it left out."""

from __future__ import annotations

import duckdb
import pytest

from dagster_project.dashboard import charts, queries

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
