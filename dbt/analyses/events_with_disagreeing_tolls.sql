-- Example analyst question: which events do the sources disagree about the
-- toll of, and what does each source say? One row per (event, article) for
-- the events whose articles give different killed or injured figures (an
-- article without a figure does not count as disagreeing), with that
-- article's figure, its qualifier and the sentence it comes from.
-- Compile with `dbt compile --select events_with_disagreeing_tolls`.

with

event_documents as (

    select * from {{ ref('bridge_event_document') }}

),

disagreements as (

    select event_id
    from event_documents
    group by event_id
    having
        count(distinct killed) > 1
        or count(distinct injured) > 1

),

events as (

    select * from {{ ref('fct_event') }}

),

documents as (

    select * from {{ ref('dim_document') }}

),

sentences as (

    select * from {{ ref('dim_sentence') }}

),

final as (

    select
        events.event_id,
        events.event_type,
        events.event_date_start,
        events.location_text,
        events.killed_low,
        events.killed_best,
        events.killed_high,
        events.injured_low,
        events.injured_high,
        documents.source_file,
        documents.publisher,
        documents.published_date,
        event_documents.killed,
        event_documents.killed_qualifier,
        event_documents.injured,
        event_documents.injured_qualifier,
        sentences.sentence_text

    from disagreements
    inner join events
        on disagreements.event_id = events.event_id
    inner join event_documents
        on disagreements.event_id = event_documents.event_id
    inner join documents
        on event_documents.document_id = documents.document_id
    inner join sentences
        on event_documents.sentence_id = sentences.sentence_id

)

select * from final
order by event_id asc, killed asc nulls last, injured asc nulls last, source_file asc
