"""The queries behind the dashboard: read-only SQL against the published `marts` schema.

Each query returns the rows behind one chart (one row per fact, with the sentence it came from
and the file it was read from); the charts aggregate those rows in Python, so a bar and the rows
it drills down to always come from the same result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

# The same settings as the pipeline's own connections: never fetch an extension at run time.
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
SCHEMA = "marts"

# table -> columns the dashboard reads (a warehouse without one of them is an error that names it)
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "dim_document": ("document_id", "source_file", "article_index", "title", "published_date", "ingested_at"),
    "dim_sentence": ("sentence_id", "char_start", "sentence_text"),
    "dim_actor": ("actor_id", "canonical_name", "actor_type"),
    "fct_event": ("event_id", "event_type", "event_date_start", "event_date_end", "location_text", "country_code",
                  "killed_low", "killed_high", "injured_low", "injured_high", "n_documents", "description",
                  "first_document_id", "first_sentence_id"),
    "bridge_event_document": ("event_id", "document_id", "killed", "injured", "killed_qualifier",
                              "injured_qualifier", "sentence_id"),
    "bridge_event_actor": ("event_id", "actor_id", "role"),
    "fct_claim": ("claim_id", "document_id", "sentence_id", "claimant_actor_id", "claimant_text", "cue", "claim_text",
                  "char_start", "char_end", "is_direct_quote", "claim_type"),
    "fct_statistic": ("statistic_id", "document_id", "sentence_id", "statistic_type", "value", "qualifier",
                      "casualty_type", "subject", "unit", "surface_text", "char_start", "char_end"),
    "quarantined_documents": ("source_file", "stage", "reason", "detail", "size_bytes", "quarantined_at"),
}


class DashboardError(RuntimeError):
    """The warehouse cannot be read or lacks a table or column the dashboard needs."""


@dataclass
class Result:
    columns: list[str]
    rows: list[dict[str, Any]]


def connect(path: str) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(path, read_only=True, config=DUCKDB_CONFIG)
    except duckdb.Error as exc:
        raise DashboardError(f"cannot open the published warehouse {path} read-only: {exc}") from None


def check_schema(con: duckdb.DuckDBPyConnection) -> None:
    have: dict[str, set[str]] = {}
    for table, column in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ?",
            [SCHEMA]).fetchall():
        have.setdefault(table, set()).add(column)
    missing = []
    for table, columns in REQUIRED_COLUMNS.items():
        if table not in have:
            missing.append(f"{SCHEMA}.{table}")
        else:
            missing += [f"{SCHEMA}.{table}.{c}" for c in columns if c not in have[table]]
    if missing:
        raise DashboardError(f"the warehouse lacks what the dashboard reads: {', '.join(missing)} "
                             f"(is it a published snapshot of this project?)")


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> Result:
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    return Result(columns, [dict(zip(columns, row)) for row in cur.fetchall()])


# Events, one row per event x reporting document (an event with no document row keeps its first
# sentence). chart_date: the event's own date, else the earliest publication date of its reports.
EVENTS = f"""
with first_published as (
    select b.event_id, min(d.published_date) as published_date
    from {SCHEMA}.bridge_event_document b
    join {SCHEMA}.dim_document d using (document_id)
    group by b.event_id
)
select
    e.event_id, e.event_type, e.event_date_start, e.event_date_end,
    coalesce(e.event_date_start, f.published_date) as chart_date,
    case when e.event_date_start is not null then 'event date'
         when f.published_date is not null then 'publication date'
         else 'undated' end as date_basis,
    e.location_text, e.country_code, e.killed_low, e.killed_high, e.n_documents, e.description,
    b.killed, b.injured,
    d.source_file, d.article_index, d.title,
    s.sentence_text
from {SCHEMA}.fct_event e
left join first_published f using (event_id)
left join {SCHEMA}.bridge_event_document b using (event_id)
left join {SCHEMA}.dim_document d on d.document_id = coalesce(b.document_id, e.first_document_id)
left join {SCHEMA}.dim_sentence s on s.sentence_id = coalesce(b.sentence_id, e.first_sentence_id)
order by e.event_id, d.source_file, d.article_index
"""

# Every source of every event that several documents report: its own killed / injured figures.
TOLLS = f"""
with several as (
    select event_id from {SCHEMA}.bridge_event_document
    group by event_id having count(distinct document_id) >= 2
)
select
    e.event_id, e.event_type, e.event_date_start, e.location_text, e.country_code,
    e.killed_low, e.killed_high, e.injured_low, e.injured_high,
    b.document_id, b.killed, b.killed_qualifier, b.injured, b.injured_qualifier,
    d.source_file, d.article_index, d.title, d.published_date,
    s.sentence_text
from several
join {SCHEMA}.fct_event e using (event_id)
join {SCHEMA}.bridge_event_document b using (event_id)
join {SCHEMA}.dim_document d using (document_id)
left join {SCHEMA}.dim_sentence s on s.sentence_id = b.sentence_id
order by e.event_id, d.source_file, d.article_index
"""

# Every claim with its claimant (the gazetteer actor when resolved, else as written).
CLAIMS = f"""
select
    c.claim_id, c.claimant_text, a.canonical_name as claimant_actor, a.actor_type as claimant_type,
    c.claim_type, c.cue, c.claim_text, c.is_direct_quote,
    c.char_start - s.char_start as mark_start, c.char_end - s.char_start as mark_end,
    d.source_file, d.article_index, d.title,
    s.sentence_text
from {SCHEMA}.fct_claim c
left join {SCHEMA}.dim_actor a on a.actor_id = c.claimant_actor_id
join {SCHEMA}.dim_document d using (document_id)
left join {SCHEMA}.dim_sentence s on s.sentence_id = c.sentence_id
order by d.source_file, d.article_index, c.char_start
"""

# Pairs of actors in the same event (each pair once, actor_a < actor_b by id), with the event.
# The actors that share the most events with another actor (at most MAX_ACTORS, ranked in SQL:
# by those events, then name, then id), and the events shared by two of them: for each pair its
# number of events (pair_events) and its first ROWS_PER_POINT events, the most the page lists
# behind one cell. All pairs of a 10,000-document warehouse are 1.4 million rows, which took 24 s
# and 1.8 GB in Python for a chart that draws 20 actors; this stays bounded as the collection grows.
MAX_ACTORS = 20
ROWS_PER_POINT = 200
CO_OCCURRENCE = f"""
with roles as (
    select event_id, actor_id, string_agg(distinct role, ', ' order by role) as roles
    from {SCHEMA}.bridge_event_actor
    group by event_id, actor_id
),
pairs as (
    select x.event_id, x.actor_id as actor_a, y.actor_id as actor_b
    from roles x
    join roles y on y.event_id = x.event_id and x.actor_id < y.actor_id
),
actor_events as (
    select actor_id, count(distinct event_id) as shared_events
    from (select event_id, actor_a as actor_id from pairs union all select event_id, actor_b from pairs)
    group by actor_id
),
ranked as (
    select
        ae.actor_id,
        row_number() over (
            order by ae.shared_events desc, lower(coalesce(a.canonical_name, ae.actor_id)), ae.actor_id
        ) as actor_rank
    from actor_events ae
    join {SCHEMA}.dim_actor a on a.actor_id = ae.actor_id
),
top_actors as (
    select actor_id, actor_rank from ranked where actor_rank <= {MAX_ACTORS}
)
select
    x.actor_id as actor_a, ax.canonical_name as actor_a_name, x.roles as actor_a_roles, ra.actor_rank as actor_a_rank,
    y.actor_id as actor_b, ay.canonical_name as actor_b_name, y.roles as actor_b_roles, rb.actor_rank as actor_b_rank,
    count(*) over (partition by x.actor_id, y.actor_id) as pair_events,
    e.event_id, e.event_type, e.event_date_start, e.location_text, e.description,
    d.source_file, d.article_index,
    s.sentence_text
from roles x
join top_actors ra on ra.actor_id = x.actor_id
join roles y on y.event_id = x.event_id and x.actor_id < y.actor_id
join top_actors rb on rb.actor_id = y.actor_id
join {SCHEMA}.dim_actor ax on ax.actor_id = x.actor_id
join {SCHEMA}.dim_actor ay on ay.actor_id = y.actor_id
join {SCHEMA}.fct_event e on e.event_id = x.event_id
left join {SCHEMA}.dim_document d on d.document_id = e.first_document_id
left join {SCHEMA}.dim_sentence s on s.sentence_id = e.first_sentence_id
qualify row_number() over (
    partition by x.actor_id, y.actor_id order by e.event_date_start nulls last, e.event_id
) <= {ROWS_PER_POINT}
order by x.actor_id, y.actor_id, e.event_date_start nulls last, e.event_id
"""

# The runs in the file: every distinct ingest time of a published document; a warehouse whose
# files were all quarantined has no document, so its run is the time of the ingest rejections.
RUNS = f"""
select distinct ingested_at as run_at from {SCHEMA}.dim_document where ingested_at is not null
union
select distinct quarantined_at from {SCHEMA}.quarantined_documents
where stage = 'ingest' and quarantined_at is not null
  and not exists (select 1 from {SCHEMA}.dim_document where ingested_at is not null)
"""

FIGURES = f"""
select
    d.ingested_at as run_at,
    st.statistic_id, st.statistic_type, st.casualty_type, st.value, st.unit, st.qualifier, st.subject,
    st.surface_text,
    st.char_start - s.char_start as mark_start, st.char_end - s.char_start as mark_end,
    d.source_file, d.article_index, d.title,
    s.sentence_text
from {SCHEMA}.fct_statistic st
join {SCHEMA}.dim_document d using (document_id)
left join {SCHEMA}.dim_sentence s on s.sentence_id = st.sentence_id
order by d.ingested_at, d.source_file, d.article_index, st.char_start
"""

# Each rejected file belongs to the latest run that started at or before its rejection.
QUARANTINED = f"""
with runs as ({RUNS})
select coalesce(r.run_at, q.quarantined_at) as run_at,
       q.source_file, q.stage, q.reason, q.detail, q.size_bytes, q.quarantined_at
from {SCHEMA}.quarantined_documents q
asof left join runs r on q.quarantined_at >= r.run_at
order by run_at, q.stage, q.reason, q.source_file
"""


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the header says about the file: documents, runs, events, claims."""
    documents, first, last = con.execute(
        f"select count(*), min(ingested_at), max(ingested_at) from {SCHEMA}.dim_document").fetchone()
    counts = {t: con.execute(f"select count(*) from {SCHEMA}.{t}").fetchone()[0]
              for t in ("fct_event", "fct_claim", "fct_statistic", "quarantined_documents")}
    return {"documents": documents, "first_ingest": first, "last_ingest": last, **counts}
