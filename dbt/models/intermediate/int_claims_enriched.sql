with

claims as (

    select * from {{ ref('stg_claims') }}

),

statistics as (

    select
        statistic_id,
        document_id,
        char_start,
        char_end

    from {{ ref('stg_statistics') }}

),

occurred_reports as (

    select
        event_id,
        document_id,
        sentence_id,
        trigger_char_start

    from {{ ref('stg_event_reports') }}
    where status = 'occurred'

),

documents as (

    select
        document_id,
        published_date

    from {{ ref('stg_normalized_documents') }}

),

-- One chain of left joins from the claims, each ranked within (document_id, claim_id): a filter
-- on document_id then reaches the scan of the claims through every step (DuckDB pushes a
-- filter on a partition key through a window, and into the left side of a left join only).
-- Ranking in separate CTEs joined back on claim_id ranked every claim of the collection
-- whenever an incremental build read a few hundred articles of this view.

-- every figure whose whole span lies inside the claim's span, the first (by position) ranked 1
claim_statistic_candidates as (

    select
        claims.*,
        statistics.statistic_id,
        row_number() over (
            partition by claims.document_id, claims.claim_id
            order by statistics.char_start, statistics.char_end, statistics.statistic_id
        ) as statistic_rank

    from claims
    left join statistics
        on
            claims.document_id = statistics.document_id
            and claims.char_start <= statistics.char_start
            and claims.char_end >= statistics.char_end

),

-- the event of the first occurred report (by trigger position) in the claim's sentence
claim_event_candidates as (

    select
        claim_statistic_candidates.*,
        occurred_reports.event_id,
        row_number() over (
            partition by claim_statistic_candidates.document_id, claim_statistic_candidates.claim_id
            order by occurred_reports.trigger_char_start, occurred_reports.event_id
        ) as event_rank

    from claim_statistic_candidates
    left join occurred_reports
        on
            claim_statistic_candidates.document_id = occurred_reports.document_id
            and claim_statistic_candidates.sentence_id = occurred_reports.sentence_id
    where claim_statistic_candidates.statistic_rank = 1

),

enriched as (

    select
        claims.claim_id,
        claims.document_id,
        claims.sentence_id,
        claims.claimant_actor_id,
        claims.claimant_text,
        claims.claimant_char_start,
        claims.claimant_char_end,
        claims.cue,
        claims.cue_char_start,
        claims.cue_char_end,
        claims.claim_text,
        claims.char_start,
        claims.char_end,
        claims.is_direct_quote,
        claims.claim_type,
        claims.statistic_id,
        claims.event_id,
        documents.published_date

    from claim_event_candidates as claims
    left join documents
        on claims.document_id = documents.document_id
    where claims.event_rank = 1

)

select * from enriched
