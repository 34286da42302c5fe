{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

reports as (

    select * from {{ ref('int_event_reports_enriched') }}
    {{ only_changed_documents() }}

),

final as (

    select
        event_report_id,
        document_id,
        sentence_id,
        event_id,
        trigger_text,
        trigger_char_start,
        trigger_char_end,
        event_type,
        acled_event_type,
        acled_sub_event_type,
        plover_event_type,
        violent,
        status,
        event_clarity,
        date_start,
        date_end,
        date_precision,
        location_actor_id,
        location_text,
        location_type,
        country_code,
        killed,
        injured,
        killed_qualifier,
        injured_qualifier,
        published_date

    from reports

)

select * from final
