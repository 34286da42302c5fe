{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_events() }}",
    )
}}

with

events as (

    select * from {{ ref('stg_events') }}
    {{ only_changed_events() }}

),

final as (

    select
        event_id,
        event_type,
        acled_event_type,
        acled_sub_event_type,
        plover_event_type,
        event_clarity,
        status,
        event_date_start,
        event_date_end,
        date_precision,
        location_actor_id,
        location_text,
        country_code,
        killed_low,
        killed_best,
        killed_high,
        injured_low,
        injured_best,
        injured_high,
        n_documents,
        n_reports,
        description,
        first_document_id,
        first_sentence_id

    from events

)

select * from final
