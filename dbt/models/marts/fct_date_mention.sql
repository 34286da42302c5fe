{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

date_mentions as (

    select * from {{ ref('int_date_mentions_enriched') }}
    {{ only_changed_documents() }}

),

final as (

    select
        date_mention_id,
        document_id,
        sentence_id,
        surface_text,
        date_start,
        date_end,
        granularity,
        year_inferred,
        char_start,
        char_end,
        calendar,
        days_covered,
        published_date

    from date_mentions

)

select * from final
