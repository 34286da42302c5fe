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

    select * from {{ ref('stg_normalized_documents') }}

),

-- every figure whose whole span lies inside the claim's span, the first (by position) ranked 1
claim_statistic_candidates as (

    select
        claims.claim_id,
        statistics.statistic_id,
        row_number() over (
            partition by claims.claim_id
            order by statistics.char_start, statistics.char_end, statistics.statistic_id
        ) as statistic_rank

    from claims
    inner join statistics
        on
            claims.document_id = statistics.document_id
            and claims.char_start <= statistics.char_start
            and claims.char_end >= statistics.char_end

),

claim_statistics as (

    select
        claim_id,
        statistic_id

    from claim_statistic_candidates
    where statistic_rank = 1

),

-- the event of the first occurred report (by trigger position) in the claim's sentence
claim_events as (

    select
        claims.claim_id,
        min_by(occurred_reports.event_id, occurred_reports.trigger_char_start) as event_id

    from claims
    inner join occurred_reports
        -- the sentence id holds the article's; the article's id lets a filter on it reach both sides
        on
            claims.document_id = occurred_reports.document_id
            and claims.sentence_id = occurred_reports.sentence_id
    group by claims.claim_id

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
        claim_statistics.statistic_id,
        claim_events.event_id,
        documents.published_date

    from claims
    left join claim_statistics
        on claims.claim_id = claim_statistics.claim_id
    left join claim_events
        on claims.claim_id = claim_events.claim_id
    left join documents
        on claims.document_id = documents.document_id

)

select * from enriched
