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

    select * from {{ ref('int_actor_mentions_enriched') }}
    {{ only_changed_documents() }}

),

final as (

    select
        mention_id,
        document_id,
        sentence_id,
        actor_id,
        surface_text,
        char_start,
        char_end,
        published_date

    from mentions

)

select * from final
