{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

sentences as (

    select * from {{ ref('stg_sentences') }}
    {{ only_changed_documents() }}

),

final as (

    select
        sentence_id,
        document_id,
        sentence_index,
        char_start,
        char_end,
        sentence_text

    from sentences

)

select * from final
