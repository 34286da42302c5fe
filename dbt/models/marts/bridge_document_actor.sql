{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

mentions as (

    select * from {{ ref('fct_actor_mention') }}
    {{ only_changed_documents() }}

),

aggregated as (

    select
        document_id,
        actor_id,
        count(*) as mention_count,
        min(char_start) as first_char_start,
        max(char_end) as last_char_end,
        count(distinct surface_text) as distinct_surface_form_count

    from mentions
    group by
        document_id,
        actor_id

)

select * from aggregated
