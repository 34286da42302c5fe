"""Events: event reports (one per article sentence that reports an event), their actors with
roles, and the linked events (one per real-world event across articles).

Claims and event reports are per article (new articles only, assets/stages.py); linking is
across articles, so it runs over every article's document-level events at each run (no text is
read: the within-article step is done with the reports; only the columns linking reads are
fetched), and the event table follows."""

import dagster as dg
import polars as pl

from dagster_project.assets.extraction import gazetteer_version
from dagster_project.assets.table_metadata import table_metadata
from dagster_project.assets.stages import batch_rows, run_document_stage, stage_metadata
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

    def process(docs: pl.DataFrame) -> dict[str, pl.DataFrame]:
        ids = docs["document_id"].to_list()
        return {"claims": extract_claims(docs, batch_rows(duckdb, "sentences", ids, "document_id, sentence_index"),
                                         batch_rows(duckdb, "actor_mentions", ids, "document_id, char_start"), gaz)}

    run = run_document_stage(context, duckdb, "claims", {"claims": CLAIM_SCHEMA}, process,
                             version=gazetteer_version(duckdb))
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

    def process(docs: pl.DataFrame) -> dict[str, pl.DataFrame]:
        ids = docs["document_id"].to_list()
        sents = batch_rows(duckdb, "sentences", ids, "document_id, sentence_index")
        reports, actors = event_reports(
            docs, sents, batch_rows(duckdb, "statistics", ids, "document_id, char_start"),
            batch_rows(duckdb, "date_mentions", ids, "document_id, char_start"),
            batch_rows(duckdb, "actor_mentions", ids, "document_id, char_start"), gaz,
            batch_rows(duckdb, "claims", ids, "document_id, char_start"))
        return {"event_report_rows": within_document(reports, sents).select(list(REPORT_ROW_SCHEMA)),
                "event_report_actors": actors}

    run = run_document_stage(
        context, duckdb, "event_reports",
        {"event_report_rows": REPORT_ROW_SCHEMA, "event_report_actors": REPORT_ACTOR_SCHEMA}, process,
        columns=("document_id", "body_text", "published_date"), version=gazetteer_version(duckdb))
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
    # one row per event from its reports (the linked ones only) and its first report's sentence
    with duckdb.connect(read_only=True) as con:
        con.register("event_keys", keys.to_arrow())
        linked = con.sql(f"select {', '.join('r.' + c for c in REPORT_SCHEMA)}, k.event_key "
                         "from raw.event_report_rows r join event_keys k using (document_id, trigger_char_start)"
                         ).pl().cast(LINKED_SCHEMA)
        firsts = (linked.sort("document_id", "trigger_char_start").group_by("event_key", maintain_order=True).first()
                  .select("document_id", "sentence_index").unique())
        con.register("firsts", firsts.to_arrow())
        sents = con.sql("select s.document_id, s.sentence_index, s.sentence_text from raw.sentences s "
                        "join firsts using (document_id, sentence_index)").pl()
    events = event_table(linked, sents)
    # every report with its event's key (null unless linked), written inside DuckDB
    duckdb.apply(replaces={"events": events}, frames={"event_keys": keys}, replace_queries={"event_reports": (
        f"select {', '.join('r.' + c for c in REPORT_SCHEMA)}, k.event_key from raw.event_report_rows r "
        "left join event_keys k using (document_id, trigger_char_start) order by r.document_id, r.trigger_char_start")})
    by_status = dict(duckdb.query("select status, count(*) as n from raw.event_reports group by 1 order by 1"
                                  ).iter_rows())
    by_role = dict(duckdb.query("select role, count(*) as n from raw.event_report_actors group by 1 order by 1"
                                ).iter_rows())
    yield dg.Output(None, "event_reports", metadata={
        **stage_metadata(run, duckdb, "event_reports"), "by_status": dg.MetadataValue.json(by_status)})
    yield dg.Output(None, "event_report_actors", metadata={
        **stage_metadata(run, duckdb, "event_report_actors"),
        "by_role": dg.MetadataValue.json(by_role)})
    yield dg.Output(None, "events", metadata={
        **table_metadata(duckdb, "events"), "dagster/row_count": events.height,
        "reported_by_several_documents": int((events["n_documents"] > 1).sum()) if events.height else 0,
        "by_type": dg.MetadataValue.json(dict(events.group_by("event_type").len().sort("event_type").iter_rows())
                                         if events.height else {}),
    })
