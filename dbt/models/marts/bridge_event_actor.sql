{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_events() }}",
    )
}}

with

event_report_actors as (

    select * from {{ ref('int_event_report_actors_enriched') }}
    {{ only_changed_events() }}

),

report_actors as (

    select * from event_report_actors
    where event_id is not null

),

aggregated as (

    select
        event_id,
        actor_id,
        role,
        count(distinct document_id) as n_documents,
        count(*) as n_mentions

    from report_actors
    group by
        event_id,
        actor_id,
        role

)

select * from aggregated
