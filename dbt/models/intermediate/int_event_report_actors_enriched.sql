with

report_actors as (

    select * from {{ ref('stg_event_report_actors') }}

),

reports as (

    select * from {{ ref('stg_event_reports') }}

),

enriched as (

    select
        report_actors.event_report_actor_id,
        report_actors.event_report_id,
        report_actors.document_id,
        reports.event_id,
        reports.sentence_id,
        reports.status,
        reports.event_type,
        report_actors.actor_id,
        report_actors.role,
        report_actors.surface_text,
        report_actors.char_start,
        report_actors.char_end

    from report_actors
    left join reports
        on report_actors.event_report_id = reports.event_report_id

)

select * from enriched
