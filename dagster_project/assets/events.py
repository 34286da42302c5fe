"""Events: event reports (one per article sentence that reports an event), their actors with
roles, and the linked events (one per real-world event across articles)."""

import dagster as dg

from dagster_project.events.claims import extract_claims
from dagster_project.events.events import event_reports
from dagster_project.events.linking import link_events
from dagster_project.events.tolls import event_table
from dagster_project.resources import PipelineDuckDB

GROUP = "events"


@dg.asset(deps=["normalized_documents", "sentences", "actor_mentions", "actor_gazetteer"], group_name=GROUP,
          kinds={"python", "polars", "duckdb"})
def claims(duckdb: PipelineDuckDB) -> dg.MaterializeResult:
    """One row per attributed statement ("who says so"): claimant as written and as a gazetteer
    actor, cue, claim text, direct quote or not, and the kind of claim (direct, indirect, mixed,
    according_to, responsibility_claim, denial, passive), each with character offsets."""
    docs = duckdb.read_table("normalized_documents").select("document_id", "body_text")
    rows = extract_claims(docs, duckdb.read_table("sentences"), duckdb.read_table("actor_mentions"),
                          duckdb.read_table("actor_gazetteer"))
    duckdb.replace_table("claims", rows)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows.height,
        "by_type": dg.MetadataValue.json(dict(rows.group_by("claim_type").len().sort("claim_type").iter_rows())
                                         if rows.height else {}),
        "with_gazetteer_claimant": int(rows["claimant_actor_id"].is_not_null().sum()) if rows.height else 0,
    })


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
    """Event reports from the sentences and the extracted facts, linked into events."""
    docs = duckdb.read_table("normalized_documents").select("document_id", "body_text", "published_date")
    sents = duckdb.read_table("sentences")
    claims = duckdb.read_table("claims")
    reports, actors = event_reports(
        docs, sents, duckdb.read_table("statistics"), duckdb.read_table("date_mentions"),
        duckdb.read_table("actor_mentions"), duckdb.read_table("actor_gazetteer"), claims)
    linked = link_events(reports, actors, sents, docs, duckdb.read_table("actor_gazetteer").select("actor_id", "actor_type"))
    events = event_table(linked, sents)
    duckdb.replace_table("event_reports", linked)
    duckdb.replace_table("event_report_actors", actors)
    duckdb.replace_table("events", events)
    by_status = dict(linked.group_by("status").len().sort("status").iter_rows()) if linked.height else {}
    yield dg.Output(None, "event_reports", metadata={
        "dagster/row_count": linked.height, "by_status": dg.MetadataValue.json(by_status)})
    yield dg.Output(None, "event_report_actors", metadata={
        "dagster/row_count": actors.height,
        "by_role": dg.MetadataValue.json(dict(actors.group_by("role").len().sort("role").iter_rows()) if actors.height else {})})
    yield dg.Output(None, "events", metadata={
        "dagster/row_count": events.height,
        "reported_by_several_documents": int((events["n_documents"] > 1).sum()) if events.height else 0,
        "by_type": dg.MetadataValue.json(dict(events.group_by("event_type").len().sort("event_type").iter_rows())
                                         if events.height else {}),
    })
