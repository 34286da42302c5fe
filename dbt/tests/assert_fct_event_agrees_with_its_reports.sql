-- fct_event's tolls and counts are those of its reports: killed_low / high
-- (injured_low / high) are the lowest and highest per-article figures of
-- bridge_event_document, n_documents its number of articles, n_reports the
-- number of fct_event_report rows with the event_id, and description the text
-- of first_sentence_id. Returns the events for which one of these differs.
-- During an incremental build it checks the events this run rebuilt only
-- (macros/incremental_documents.sql).

with

events as (

    select * from {{ tested_rows(ref('fct_event')) }}

),

per_document as (

    select
        event_id,
        min(killed) as killed_low,
        max(killed) as killed_high,
        min(injured) as injured_low,
        max(injured) as injured_high,
        count(*) as n_documents,
        sum(n_reports) as n_reports

    from {{ ref('bridge_event_document') }}
    group by event_id

),

report_counts as (

    select
        event_id,
        count(*) as n_reports

    from {{ ref('fct_event_report') }}
    where event_id is not null
    group by event_id

),

sentences as (

    select
        sentence_id,
        sentence_text

    from {{ ref('dim_sentence') }}

)

select
    events.event_id,
    events.killed_low,
    per_document.killed_low as documents_killed_low,
    events.killed_high,
    per_document.killed_high as documents_killed_high,
    events.injured_low,
    per_document.injured_low as documents_injured_low,
    events.injured_high,
    per_document.injured_high as documents_injured_high,
    events.n_documents,
    per_document.n_documents as documents,
    events.n_reports,
    report_counts.n_reports as reports,
    per_document.n_reports as documents_reports

from events
left join per_document
    on events.event_id = per_document.event_id
left join report_counts
    on events.event_id = report_counts.event_id
left join sentences
    on events.first_sentence_id = sentences.sentence_id
where
    events.killed_low is distinct from per_document.killed_low
    or events.killed_high is distinct from per_document.killed_high
    or events.injured_low is distinct from per_document.injured_low
    or events.injured_high is distinct from per_document.injured_high
    or events.n_documents is distinct from per_document.n_documents
    or events.n_reports is distinct from report_counts.n_reports
    or events.n_reports is distinct from per_document.n_reports
    or events.description is distinct from sentences.sentence_text
