{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

statistics as (

    select * from {{ ref('int_statistics_enriched') }}
    {{ only_changed_documents() }}

),

final as (

    select
        statistic_id,
        document_id,
        sentence_id,
        statistic_type,
        value,
        qualifier,
        casualty_type,
        subject,
        surface_text,
        char_start,
        char_end,
        unit,
        published_date

    from statistics

)

select * from final
