with

reports as (

    select * from {{ ref('stg_event_reports') }}

),

documents as (

    select * from {{ ref('stg_normalized_documents') }}

),

enriched as (

    select
        reports.event_report_id,
        reports.document_id,
        reports.sentence_id,
        reports.event_id,
        reports.sentence_index,
        reports.sentence_char_start,
        reports.sentence_char_end,
        reports.trigger_text,
        reports.trigger_char_start,
        reports.trigger_char_end,
        reports.event_type,
        reports.acled_event_type,
        reports.acled_sub_event_type,
        reports.plover_event_type,
        reports.violent,
        reports.status,
        reports.event_clarity,
        reports.date_start,
        reports.date_end,
        reports.date_precision,
        reports.location_actor_id,
        reports.location_text,
        reports.location_type,
        reports.country_code,
        reports.killed,
        reports.injured,
        reports.killed_qualifier,
        reports.injured_qualifier,
        documents.source_file,
        documents.published_date

    from reports
    left join documents
        on reports.document_id = documents.document_id

)

select * from enriched
