"""The queries behind the dashboard: read-only SQL against the published `marts` schema.

A chart reads two things: the numbers it plots, aggregated in SQL (events per month and type,
claims per claimant and type, figures per run and type, one row per multi-source event), and the
rows behind its points (one row per fact, with the sentence it came from and the file it was read
from), capped in SQL to what the page lists: at most `per_point` rows per point and about
`per_table` per table, each point keeping at least one. Every listed row carries `key_rows`, the
number of rows behind its point in the warehouse, so the page counts the rows it leaves out.

Why: reading every row into Python grew with the collection (171,778 event rows, 2 s to fetch
and 1.3 s to group at 10,000 documents, for a chart of a few hundred bars); the aggregates and
the capped rows stay about the same size however large the warehouse is."""

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
    """The warehouse, read-only, with DuckDB's memory capped at DUCKDB_MEMORY_LIMIT: uncapped, the
    blocks its scans read stay cached, up to 80 % of the machine by DuckDB's default (at 100,000
    documents the dashboard's queries peaked at 2.4 GiB uncapped, 2.1 GiB capped at 2GB)."""
    from dagster_project.paths import duckdb_memory_limit

    try:
        return duckdb.connect(path, read_only=True, config={**DUCKDB_CONFIG, "memory_limit": duckdb_memory_limit()})
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


def fetch(con: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any] | None = None) -> Result:
    cur = con.execute(sql, parameters) if parameters is not None else con.execute(sql)
    columns = [d[0] for d in cur.description]
    return Result(columns, [dict(zip(columns, row)) for row in cur.fetchall()])


def capped(base: str, keys: str, order: str, per_point: int, per_table: int) -> str:
    """The rows of `base` behind each point (the rows sharing the values of `keys`), the first
    `per_point` of each by `order`, fewer when there are many points: `per_table // points`,
    never under one. Adds `key_rows` (all rows of the point), `key_row` (the row's rank) and
    `row_limit` (the cap that was applied). Keep `base` narrow (ids and what the keys and the
    order need) and join the text onto the kept rows with `detailed`: the window sorts every
    row of the warehouse, the text is needed only for the rows kept."""
    return f"""
with base as ({base}),
keyed as (
    select
        *,
        count(*) over (partition by {keys}) as key_rows,
        row_number() over (partition by {keys} order by {order}) as key_row
    from base
),
row_limit as (
    select greatest(1, least({int(per_point)}, {int(per_table)} // greatest(count(*), 1))) as n
    from (select distinct {keys} from base)
)
select keyed.*, row_limit.n as row_limit
from keyed, row_limit
where keyed.key_row <= row_limit.n
"""


def detailed(rows: str, columns: str, joins: str, order: str) -> str:
    """`rows` (aliased `r`) with `columns` from the tables of `joins`, in `order`."""
    return f"select * from (select r.*, {columns} from ({rows}) r {joins}) order by {order}"


# One row per event: its chart_date (its own date, else the earliest publication date of its
# reports), the basis of that date, and its bucket on the chart (month when the dates span at
# most MONTHS_WHEN_SPAN_DAYS, else year; null: undated).
MONTHS_WHEN_SPAN_DAYS = 3 * 366
_EVENT_BUCKETS = f"""
with first_published as (
    select b.event_id, min(d.published_date) as published_date
    from {SCHEMA}.bridge_event_document b
    join {SCHEMA}.dim_document d using (document_id)
    group by b.event_id
),
dated as (
    select
        e.*,
        coalesce(e.event_date_start, f.published_date) as chart_date,
        case when e.event_date_start is not null then 'event date'
             when f.published_date is not null then 'publication date'
             else 'undated' end as date_basis
    from {SCHEMA}.fct_event e
    left join first_published f using (event_id)
),
span as (
    select coalesce(datediff('day', min(chart_date), max(chart_date)) <= {MONTHS_WHEN_SPAN_DAYS}, false) as by_month
    from dated
)
select
    dated.*,
    span.by_month,
    case when dated.chart_date is null then null
         when span.by_month then strftime(dated.chart_date, '%Y-%m')
         else cast(year(dated.chart_date) as varchar) end as bucket
from dated, span
"""

# Events per bucket and type (each event once) and the rows behind each bar.
EVENT_COUNTS = f"""
with buckets as ({_EVENT_BUCKETS})
select bucket, event_type, any_value(by_month) as by_month, count(*) as events
from buckets
group by bucket, event_type
order by bucket nulls last, event_type
"""


def event_rows(per_point: int, per_table: int) -> str:
    """One row per event x reporting document (an event with no document row keeps its first
    sentence), capped per (bucket, event_type): what `capped` gives, without sorting every row
    of the warehouse. The rows are ordered by event first, and every event has a row, so the
    first n rows of a bar are among its first n events: only those events' rows are ranked,
    and each bar's count of rows (key_rows) is an aggregate (at 100,000 documents: 2.7 s
    against 3.9 s, the same rows)."""
    order = "event_id, source_file nulls first, article_index nulls first, document_id, sentence_id"
    rows = f"""
with buckets as ({_EVENT_BUCKETS}),
counts as (
    select e.event_id, e.bucket, e.event_type, greatest(count(b.event_id), 1) as n_rows
    from buckets e
    left join {SCHEMA}.bridge_event_document b using (event_id)
    group by e.event_id, e.bucket, e.event_type
),
points as (
    select bucket, event_type, sum(n_rows) as key_rows from counts group by bucket, event_type
),
row_limit as (
    select greatest(1, least({int(per_point)}, {int(per_table)} // greatest(count(*), 1))) as n from points
),
kept_events as (
    select event_id from counts, row_limit
    qualify row_number() over (partition by bucket, event_type order by event_id) <= any_value(row_limit.n) over ()
),
base as (
    select
        e.event_id, e.event_type, e.bucket, e.chart_date, e.date_basis,
        e.location_text, e.country_code, e.killed_low, e.killed_high, e.n_documents,
        b.killed, b.injured, b.document_id, b.sentence_id,
        coalesce(b.sentence_id, e.first_sentence_id) as shown_sentence_id,
        d.source_file, d.article_index
    from buckets e
    semi join kept_events k on k.event_id = e.event_id
    left join {SCHEMA}.bridge_event_document b on b.event_id = e.event_id
    left join {SCHEMA}.dim_document d on d.document_id = coalesce(b.document_id, e.first_document_id)
),
keyed as (
    select
        base.*,
        p.key_rows,
        row_number() over (partition by base.bucket, base.event_type order by {order}) as key_row
    from base
    join points p on p.bucket is not distinct from base.bucket and p.event_type is not distinct from base.event_type
)
select keyed.*, row_limit.n as row_limit
from keyed, row_limit
where keyed.key_row <= row_limit.n
"""
    return detailed(rows, "e.description, s.sentence_text",
                    f"join {SCHEMA}.fct_event e on e.event_id = r.event_id "
                    f"left join {SCHEMA}.dim_sentence s on s.sentence_id = r.shown_sentence_id", order)


# One row per event that several documents report, with what the toll chart ranks and labels
# it by: its sources, the distinct killed / injured figures they give, and whether some give none.
# the events several documents report (the toll chart's events)
_SEVERAL = f"""several as (
    select event_id from {SCHEMA}.bridge_event_document
    group by event_id having count(distinct document_id) >= 2
)"""
TOLL_EVENTS = f"""
with {_SEVERAL}
select
    e.event_id, e.event_type, e.event_date_start, e.location_text, e.country_code,
    count(*) as sources,
    list(distinct b.killed order by b.killed) filter (where b.killed is not null) as killed_values,
    list(distinct b.injured order by b.injured) filter (where b.injured is not null) as injured_values,
    bool_or(b.killed is null) as killed_missing,
    bool_or(b.injured is null) as injured_missing,
    max(b.killed) as max_killed
from several
join {SCHEMA}.fct_event e using (event_id)
join {SCHEMA}.bridge_event_document b using (event_id)
group by all
order by e.event_id
"""


def toll_rows(per_point: int, per_table: int, drawn: int | None = None) -> str:
    """Every source of every event several documents report (its own killed / injured figures),
    capped per event; the events of the parameter ($1, a list of event ids: the charted ones)
    keep their first `drawn` sources (every source when None), those over the cap marked by
    key_row > row_limit (drawn, not listed); key_rows counts them all."""
    base = f"""
    with {_SEVERAL}
    select
        e.event_id, e.killed_low, e.killed_high, e.injured_low, e.injured_high,
        b.document_id, b.sentence_id, b.killed, b.killed_qualifier, b.injured, b.injured_qualifier,
        d.source_file, d.article_index, d.published_date
    from several
    join {SCHEMA}.fct_event e using (event_id)
    join {SCHEMA}.bridge_event_document b using (event_id)
    join {SCHEMA}.dim_document d using (document_id)
    """
    order = "event_id, source_file, article_index, document_id, sentence_id"
    rows = f"""
with listed as ({capped(base, "event_id", order, per_point, per_table)}),
row_limit as (select any_value(row_limit) as n from listed),
charted as (
    select
        base.*,
        count(*) over (partition by event_id) as key_rows,
        row_number() over (partition by event_id order by {order}) as key_row
    from ({base}) base
    where list_contains($1::varchar[], base.event_id)
)
select * from listed where not list_contains($1::varchar[], event_id)
union all by name
select charted.*, row_limit.n as row_limit from charted, row_limit
{"" if drawn is None else f"where charted.key_row <= {int(drawn)}"}
"""
    return detailed(rows, "s.sentence_text", f"left join {SCHEMA}.dim_sentence s on s.sentence_id = r.sentence_id",
                    order)


# Claims per claimant as given (the gazetteer actor's name when resolved, else as written) and
# type: the chart groups and ranks claimants from these counts.
CLAIMANT_COUNTS = f"""
select a.canonical_name as claimant_actor, c.claimant_text, c.claim_type, count(*) as claims
from {SCHEMA}.fct_claim c
left join {SCHEMA}.dim_actor a on a.actor_id = c.claimant_actor_id
group by all
order by claimant_actor nulls last, claimant_text nulls last, claim_type
"""


def encoded(values: list[str | None]) -> str:
    """Strings as one query parameter (`decoded` reads them back; None reads back as ''): DuckDB
    binds a Python list parameter at about 60 µs an element (3,589 claimant forms: 0.9 s), one
    string in microseconds. Each value is 'x' + its UTF-8 in hex, so any text survives."""
    return ",".join("x" + (v or "").encode("utf-8").hex() for v in values)


def decoded(parameter: str) -> str:
    return (f"(select list(decode(unhex(substr(v, 2)))) from unnest(string_split({parameter}, ',')) t(v) "
            f"where v <> '')")


def claim_rows(per_point: int, per_table: int) -> str:
    """Every claim with its claimant and the bar it is behind. The parameters: three equal lists
    (claimant_actor, claimant_text, bar), each `encoded`, that name the bar of each top claimant
    as given (only the charted claimants; a missing actor or text as ''), and the bar of every
    other claimant ($4)."""
    base = f"""
    with named as (
        select unnest({decoded('$1')}) as claimant_actor, unnest({decoded('$2')}) as claimant_text,
               unnest({decoded('$3')}) as shown
    )
    select
        c.claim_id, coalesce(m.shown, $4::varchar) as shown, c.claimant_text, a.canonical_name as claimant_actor,
        c.claim_type, c.char_start, c.char_end, c.sentence_id,
        d.source_file, d.article_index
    from {SCHEMA}.fct_claim c
    left join {SCHEMA}.dim_actor a on a.actor_id = c.claimant_actor_id
    left join named m on m.claimant_actor = coalesce(a.canonical_name, '')
        and m.claimant_text = coalesce(c.claimant_text, '')
    join {SCHEMA}.dim_document d using (document_id)
    """
    order = "source_file, article_index, char_start, claim_id"
    return detailed(capped(base, "shown, claim_type", order, per_point, per_table),
                    "c.cue, c.claim_text, c.is_direct_quote, s.sentence_text, "
                    "r.char_start - s.char_start as mark_start, r.char_end - s.char_start as mark_end",
                    f"join {SCHEMA}.fct_claim c on c.claim_id = r.claim_id "
                    f"left join {SCHEMA}.dim_sentence s on s.sentence_id = r.sentence_id", order)


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
    -- the distinct roles sorted within each list: string_agg(distinct role order by role) gave
    -- the same text in 8.9 s against 2.2 s over 2.2 million rows (100,000 documents)
    select
        event_id, actor_id,
        array_to_string(list_sort(list_distinct(list(role) filter (where role is not null))), ', ') as roles
    from {SCHEMA}.bridge_event_actor
    group by event_id, actor_id
),
-- an actor shares an event with another when the event has two actors or more: counted from
-- the (event, actor) rows without pairing them (every pair of every event, 1.8 s against 1.2 s
-- for the whole query at 20,000 documents)
shared as (
    select event_id from roles group by event_id having count(*) >= 2
),
actor_events as (
    select actor_id, count(*) as shared_events
    from roles semi join shared using (event_id)
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
),
kept as (
    -- narrow first: the window sorts every shared event of the top pairs, the text is joined
    -- onto the ROWS_PER_POINT kept per pair
    select
        x.actor_id as actor_a, x.roles as actor_a_roles, ra.actor_rank as actor_a_rank,
        y.actor_id as actor_b, y.roles as actor_b_roles, rb.actor_rank as actor_b_rank,
        count(*) over (partition by x.actor_id, y.actor_id) as pair_events,
        e.event_id, e.event_date_start
    from roles x
    join top_actors ra on ra.actor_id = x.actor_id
    join roles y on y.event_id = x.event_id and x.actor_id < y.actor_id
    join top_actors rb on rb.actor_id = y.actor_id
    join {SCHEMA}.fct_event e on e.event_id = x.event_id
    qualify row_number() over (
        partition by x.actor_id, y.actor_id order by e.event_date_start nulls last, e.event_id
    ) <= {ROWS_PER_POINT}
)
select
    k.actor_a, ax.canonical_name as actor_a_name, k.actor_a_roles, k.actor_a_rank,
    k.actor_b, ay.canonical_name as actor_b_name, k.actor_b_roles, k.actor_b_rank,
    k.pair_events,
    e.event_id, e.event_type, e.event_date_start, e.location_text, e.description,
    d.source_file, d.article_index,
    s.sentence_text
from kept k
join {SCHEMA}.dim_actor ax on ax.actor_id = k.actor_a
join {SCHEMA}.dim_actor ay on ay.actor_id = k.actor_b
join {SCHEMA}.fct_event e on e.event_id = k.event_id
left join {SCHEMA}.dim_document d on d.document_id = e.first_document_id
left join {SCHEMA}.dim_sentence s on s.sentence_id = e.first_sentence_id
order by k.actor_a, k.actor_b, e.event_date_start nulls last, e.event_id
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

# A run's label: its ingest time to the second (charts.run_label of the same value).
_RUN = "coalesce(strftime(d.ingested_at, '%Y-%m-%d %H:%M:%S'), 'None')"
_FIGURE_TYPE = ("case when coalesce(st.casualty_type, '') <> '' then st.statistic_type || ': ' || st.casualty_type "
                "else st.statistic_type end")

# Figures per run and type.
FIGURE_COUNTS = f"""
select {_RUN} as run, {_FIGURE_TYPE} as figure_type, count(*) as figures
from {SCHEMA}.fct_statistic st
join {SCHEMA}.dim_document d using (document_id)
group by all
order by run, figure_type
"""


def figure_rows(per_point: int, per_table: int) -> str:
    """Every figure with its sentence, capped per (run, figure type)."""
    base = f"""
    select
        {_RUN} as run, {_FIGURE_TYPE} as figure_type, d.ingested_at,
        st.statistic_id, st.sentence_id, st.char_start, st.char_end,
        d.source_file, d.article_index
    from {SCHEMA}.fct_statistic st
    join {SCHEMA}.dim_document d using (document_id)
    """
    order = "ingested_at nulls last, source_file, article_index, char_start, statistic_id"
    return detailed(capped(base, "run, figure_type", order, per_point, per_table),
                    "st.statistic_type, st.casualty_type, st.value, st.unit, st.qualifier, st.subject, "
                    "st.surface_text, s.sentence_text, "
                    "r.char_start - s.char_start as mark_start, r.char_end - s.char_start as mark_end",
                    f"join {SCHEMA}.fct_statistic st on st.statistic_id = r.statistic_id "
                    f"left join {SCHEMA}.dim_sentence s on s.sentence_id = r.sentence_id", order)


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
