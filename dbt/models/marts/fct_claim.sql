{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

claims as (

    select * from {{ ref('int_claims_enriched') }}
    {{ only_changed_documents() }}

),

final as (

    select
        claim_id,
        document_id,
        sentence_id,
        claimant_actor_id,
        claimant_text,
        claimant_char_start,
        claimant_char_end,
        cue,
        cue_char_start,
        cue_char_end,
        claim_text,
        char_start,
        char_end,
        is_direct_quote,
        claim_type,
        statistic_id,
        event_id,
        published_date

    from claims

)

select * from final
