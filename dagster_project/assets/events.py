"""Events: event reports (one per article sentence that reports an event), their actors with
roles, and the linked events (one per real-world event across articles).

Claims and event reports are per article (new articles only, assets/stages.py); linking is
across articles, so it runs over every article's document-level events at each run (no text is
read: the within-article step is done with the reports; only the columns linking reads are
fetched); then only the events it touched are computed and written again (write_linked)."""

from dataclasses import dataclass

import dagster as dg
import polars as pl

from dagster_project.assets.extraction import gazetteer_version
from dagster_project.assets.table_metadata import table_metadata
from dagster_project.assets.stages import BatchReader, run_document_stage, stage_metadata
from dagster_project.events.claims import CLAIM_SCHEMA, extract_claims
from dagster_project.events.events import REPORT_ACTOR_SCHEMA, REPORT_SCHEMA, event_reports
from dagster_project.events.linking import LINK_ACTOR_COLUMNS, LINK_COLUMNS, event_keys, within_document
from dagster_project.events.tolls import event_table
from dagster_project.resources import PipelineDuckDB

GROUP = "events"
# raw.event_report_rows: the reports as each article gives them, with doc_event (the report of
# the same article they belong to); raw.event_reports adds the event_key of the linked event
REPORT_ROW_SCHEMA = {**REPORT_SCHEMA, "doc_event": pl.Int32}
LINKED_SCHEMA = {**REPORT_SCHEMA, "event_key": pl.String}


@dg.asset(deps=["normalized_documents", "sentences", "actor_mentions", "actor_gazetteer"], group_name=GROUP,
          kinds={"python", "polars", "duckdb"})
def claims(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per attributed statement ("who says so"): claimant as written and as a gazetteer
    actor, cue, claim text, direct quote or not, and the kind of claim (direct, indirect, mixed,
    according_to, responsibility_claim, denial, passive), each with character offsets."""
    gaz = duckdb.read_table("actor_gazetteer")
    reader = BatchReader(duckdb)

    def process(docs: pl.DataFrame) -> dict[str, pl.DataFrame]:
        ids = docs["document_id"].to_list()
        return {"claims": extract_claims(docs, reader.rows("sentences", ids, "document_id, sentence_index"),
                                         reader.rows("actor_mentions", ids, "document_id, char_start"), gaz)}

    run = run_document_stage(context, duckdb, "claims", {"claims": CLAIM_SCHEMA}, process,
                             version=gazetteer_version(duckdb), reader=reader)
    meta = stage_metadata(run, duckdb, "claims")
    meta["by_type"] = dg.MetadataValue.json(dict(duckdb.query(
        "select claim_type, count(*) from raw.claims group by 1 order by 1").iter_rows()))
    meta["with_gazetteer_claimant"] = int(duckdb.query(
        "select count(claimant_actor_id) as n from raw.claims")["n"][0])
    return dg.MaterializeResult(metadata=meta)


@dg.multi_asset(
    outs={
        "event_reports": dg.AssetOut(group_name=GROUP, kinds={"python", "polars", "duckdb"}, description=(
            "One row per event a sentence reports: trigger, type (taxonomy, ACLED, PLOVER), status (occurred, "
            "negated, future, hypothetical), clarity (incident or summary), date, place, toll, and the event_key of "
            "the real-world event it belongs to (null unless occurred).")),
        "event_report_actors": dg.AssetOut(group_name=GROUP, kinds={"python", "polars", "duckdb"}, description=(
            "One row per actor of an event report with its role (perpetrator, target, participant, mediator, host) "
            "and the mention it was read from.")),
        "events": dg.AssetOut(group_name=GROUP, kinds={"python", "polars", "duckdb"}, description=(
            "One row per real-world event, linked across articles: type, earliest and latest date, place, "
            "killed / injured low, best and high across the articles, number of articles.")),
    },
    deps=["normalized_documents", "sentences", "statistics", "date_mentions", "actor_mentions", "actor_gazetteer",
          "claims"],
    can_subset=False,
)
def extract_events(context: dg.AssetExecutionContext, duckdb: PipelineDuckDB):
    """Event reports of the new articles (with their within-article links), then every
    article's events linked across articles, then one row per event."""
    gaz = duckdb.read_table("actor_gazetteer")
    reader = BatchReader(duckdb)

    def process(docs: pl.DataFrame) -> dict[str, pl.DataFrame]:
        ids = docs["document_id"].to_list()
        sents = reader.rows("sentences", ids, "document_id, sentence_index")
        reports, actors = event_reports(
            docs, sents, reader.rows("statistics", ids, "document_id, char_start"),
            reader.rows("date_mentions", ids, "document_id, char_start"),
            reader.rows("actor_mentions", ids, "document_id, char_start"), gaz,
            reader.rows("claims", ids, "document_id, char_start"))
        return {"event_report_rows": within_document(reports, sents).select(list(REPORT_ROW_SCHEMA)),
                "event_report_actors": actors}

    run = run_document_stage(
        context, duckdb, "event_reports",
        {"event_report_rows": REPORT_ROW_SCHEMA, "event_report_actors": REPORT_ACTOR_SCHEMA}, process,
        columns=("document_id", "body_text", "published_date"), version=gazetteer_version(duckdb), reader=reader)
    # across articles: every article's occurred reports, only the columns linking reads (at
    # 100,000 documents the whole tables were 2.8 million reports and 6.1 million actors)
    with duckdb.connect(read_only=True) as con:
        occurred = con.sql(f"select {', '.join(LINK_COLUMNS)} from raw.event_report_rows "
                           "where status = 'occurred'").pl().cast({c: REPORT_ROW_SCHEMA[c] for c in LINK_COLUMNS})
        actors = con.sql(f"select {', '.join('a.' + c for c in LINK_ACTOR_COLUMNS)} from raw.event_report_actors a "
                         "semi join (select document_id, trigger_char_start from raw.event_report_rows "
                         "where status = 'occurred') o using (document_id, trigger_char_start)"
                         ).pl().cast({c: REPORT_ACTOR_SCHEMA[c] for c in LINK_ACTOR_COLUMNS})
        docs = con.sql("select document_id, published_date from raw.normalized_documents").pl()
    keys = event_keys(occurred, actors, docs, gaz.select("actor_id", "actor_type"))
    del occurred, actors
    written = write_linked(duckdb, keys)
    by_status = dict(duckdb.query("select status, count(*) as n from raw.event_reports group by 1 order by 1"
                                  ).iter_rows())
    by_role = dict(duckdb.query("select role, count(*) as n from raw.event_report_actors group by 1 order by 1"
                                ).iter_rows())
    yield dg.Output(None, "event_reports", metadata={
        **stage_metadata(run, duckdb, "event_reports"), "by_status": dg.MetadataValue.json(by_status)})
    yield dg.Output(None, "event_report_actors", metadata={
        **stage_metadata(run, duckdb, "event_report_actors"),
        "by_role": dg.MetadataValue.json(by_role)})
    n_events, several = duckdb.query("select count(*) as n, count(*) filter (where n_documents > 1) as several "
                                     "from raw.events").row(0)
    yield dg.Output(None, "events", metadata={
        **table_metadata(duckdb, "events"), "dagster/row_count": n_events,
        "reported_by_several_documents": several,
        "by_type": dg.MetadataValue.json(dict(duckdb.query(
            "select event_type, count(*) as n from raw.events group by 1 order by 1").iter_rows())),
        "events_rewritten": written.events, "linking_written": written.mode,
        "articles_changed_since_last_linking": written.articles,
    })


# raw.linked_documents: (document_id, version) of the articles whose reports raw.event_reports
# and raw.events were last written from (the versions of their ledgers done_event_reports and
# done_sentences). Written in the same transaction as those tables, so a run killed after the
# event reports of new articles were committed, but before their events were, is caught up by
# the next run however many runs ago the articles were processed.
LINKED_LEDGER = "linked_documents"
# write_linked computes the rows of the events of at most about this many reports at a time
LINK_WRITE_ROWS = 500_000


def _event_code_version() -> str:
    """The code an event's row is computed with (events/tolls.py): part of every article's version
    in LINKED_LEDGER, so that after a change of it the next run writes every event again."""
    import hashlib
    import inspect

    from dagster_project.events import tolls

    return hashlib.sha256(inspect.getsource(tolls).encode()).hexdigest()[:16]


def _current_versions() -> str:
    return ("select e.document_id, e.version || '|' || coalesce(s.version, '') || "
            f"'|{_event_code_version()}' as version "
            "from raw.done_event_reports as e left join raw.done_sentences as s using (document_id)")


@dataclass
class LinkedWrite:
    mode: str       # 'whole' (every event and report written) or 'changes' (the touched events only)
    events: int     # event rows written
    articles: int   # articles whose reports changed since the last linking (all, when whole)


def write_linked(duckdb: PipelineDuckDB, keys: pl.DataFrame) -> LinkedWrite:
    """raw.events and raw.event_reports (the reports with the key of their event) from the keys
    linking gave every occurred report, in one transaction.

    Linking crosses articles, so it runs over every report at each run; but an event's row
    depends only on its own reports (and its first report's sentence), so only the events that
    can have changed are computed again: those of the reports whose key moved (joined, left or
    merged), and those holding a report of an article whose reports changed since the last
    linking (LINKED_LEDGER). Their rows are replaced, and so are the report rows of those
    articles and of the moved keys. At 100,000 documents that is a few thousand events of 1.4
    million, where every run rebuilt the event table and rewrote 2.8 million reports. The first
    run, a database without the ledger and a change of events/tolls.py write both tables whole. tests/test_incremental.py
    checks that the result equals a fresh build's."""
    report_columns = ", ".join("r." + c for c in REPORT_SCHEMA)
    with duckdb.connect() as con:
        con.register("event_keys", keys.to_arrow())
        have = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
        # a change of the event code (whose rows may have other columns now) writes everything
        incremental = {"event_reports", "events", LINKED_LEDGER} <= have and not con.execute(
            f"select count(*) from raw.{LINKED_LEDGER} where not ends_with(version, ?)",
            ["|" + _event_code_version()]).fetchone()[0]
        con.execute(f"create temp table current_versions as {_current_versions()}")
        if incremental:
            con.execute(f"""
                create temp table affected_docs as
                select coalesce(c.document_id, p.document_id) as document_id
                from current_versions as c full join raw.{LINKED_LEDGER} as p on p.document_id = c.document_id
                where c.version is distinct from p.version""")
            con.execute("""
                create temp table moved as
                select coalesce(o.document_id, n.document_id) as document_id,
                    coalesce(o.trigger_char_start, n.trigger_char_start) as trigger_char_start,
                    o.event_key as old_key, n.event_key as new_key
                from (select document_id, trigger_char_start, event_key from raw.event_reports
                      where event_key is not null) as o
                full join event_keys as n
                    on n.document_id = o.document_id and n.trigger_char_start = o.trigger_char_start
                where o.event_key is distinct from n.event_key""")
            con.execute("""
                create temp table touched_events as
                select old_key as event_key from moved where old_key is not null
                union select new_key from moved where new_key is not null
                union select event_key from raw.event_reports
                    where event_key is not null and document_id in (select document_id from affected_docs)
                union select event_key from event_keys where document_id in (select document_id from affected_docs)""")
            only = "where k.event_key in (select event_key from touched_events)"
            articles = con.execute("select count(*) from affected_docs").fetchone()[0]
        else:
            only, articles = "", con.execute("select count(*) from current_versions").fetchone()[0]
        # one row per touched event from its reports (the linked ones only) and its first report's
        # sentence; computed for a share of the events at a time (by their key's hash: an event's
        # row needs its own reports only), so that writing every event keeps the memory of
        # LINK_WRITE_ROWS reports: at 100,000 documents, 1.8 million reports with their texts
        # and 0.9 million sentences took 2.5 GiB at once
        rows = con.execute(f"select count(*) from event_keys as k {only}").fetchone()[0]
        shares = max(1, -(-rows // LINK_WRITE_ROWS))
        written = 0
        for share in range(shares):
            scope = f"{only} and " if only else "where "
            scope += f"hash(k.event_key) % {shares} = {share}"
            linked = con.sql(f"select {report_columns}, k.event_key from raw.event_report_rows as r "
                             f"join event_keys as k using (document_id, trigger_char_start) {scope}"
                             ).pl().cast(LINKED_SCHEMA)
            firsts = (linked.sort("document_id", "trigger_char_start").group_by("event_key", maintain_order=True)
                      .first().select("document_id", "sentence_index").unique())
            con.register("firsts", firsts.to_arrow())
            sents = con.sql("select s.document_id, s.sentence_index, s.sentence_text from raw.sentences as s "
                            "join firsts using (document_id, sentence_index)").pl()
            events = event_table(linked, sents)
            del linked, sents
            con.register("share_events", events.to_arrow())
            con.execute("create temp table new_events as select * from share_events" if share == 0 else
                        "insert into new_events select * from share_events")
            con.unregister("share_events")
            written += events.height
            del events
        reports = (f"select {report_columns}, k.event_key from raw.event_report_rows as r "
                   "left join event_keys as k using (document_id, trigger_char_start)")
        con.execute("begin")
        try:
            if incremental:
                con.execute("delete from raw.events where event_key in (select event_key from touched_events)")
                con.execute("insert into raw.events by name select * from new_events")
                con.execute("delete from raw.event_reports where document_id in (select document_id from affected_docs)")
                con.execute("delete from raw.event_reports as t using moved as m "
                            "where t.document_id = m.document_id and t.trigger_char_start = m.trigger_char_start")
                con.execute(f"insert into raw.event_reports by name {reports} "
                            "where r.document_id in (select document_id from affected_docs)")
                con.execute(f"insert into raw.event_reports by name {reports} "
                            "semi join moved as m on m.document_id = r.document_id "
                            "and m.trigger_char_start = r.trigger_char_start "
                            "where r.document_id not in (select document_id from affected_docs)")
            else:
                con.execute("create or replace table raw.events as select * from new_events")
                con.execute(f"create or replace table raw.event_reports as {reports} "
                            "order by r.document_id, r.trigger_char_start")
            con.execute(f"create or replace table raw.{LINKED_LEDGER} as select * from current_versions")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return LinkedWrite("changes" if incremental else "whole", written, articles)
