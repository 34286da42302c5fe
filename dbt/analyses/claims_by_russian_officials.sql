-- Example analyst question: every claim made by a Russian official. A claimant
-- counts when it is a Russian person or government body of the gazetteer
-- (dim_actor.country_code = 'RUS' and actor_type person or government_body:
-- Sergey Lavrov, Zamir Kabulov, the Russian Foreign Ministry, ...), or when
-- the claimant as written names Russia or the Kremlin as the speaker
-- ("Russia", "Russian policymakers", "the Kremlin envoy ...") rather than as
-- a possessive or a modifier ("Russia's Afghan strategy", "Kremlin-aligned
-- former Afghan president"). matched_by says which rule matched.
-- Compile with `dbt compile --select claims_by_russian_officials`.

with

claims as (

    select * from {{ ref('fct_claim') }}

),

actors as (

    select * from {{ ref('dim_actor') }}

),

documents as (

    select * from {{ ref('dim_document') }}

),

classified as (

    select
        claims.claim_id,
        claims.document_id,
        claims.claimant_text,
        actors.canonical_name as claimant_actor,
        actors.actor_type as claimant_actor_type,
        claims.cue,
        claims.claim_type,
        claims.claim_text,
        claims.is_direct_quote,
        claims.char_start,
        coalesce(
            actors.country_code = 'RUS' and actors.actor_type in ('person', 'government_body'),
            false
        ) as is_russian_official_actor,
        coalesce(
            regexp_matches(claims.claimant_text, '(?i)\b(russia|russian|russians|kremlin)\b([^-''’]|$)'),
            false
        ) as names_russia

    from claims
    left join actors
        on claims.claimant_actor_id = actors.actor_id

),

final as (

    select
        classified.claim_id,
        documents.source_file,
        documents.published_date,
        classified.claimant_text,
        classified.claimant_actor,
        classified.claimant_actor_type,
        classified.cue,
        classified.claim_type,
        classified.claim_text,
        classified.is_direct_quote,
        case
            when classified.is_russian_official_actor then 'gazetteer_actor'
            else 'claimant_text'
        end as matched_by

    from classified
    inner join documents
        on classified.document_id = documents.document_id
    where
        classified.is_russian_official_actor
        or classified.names_russia

)

select * from final
order by source_file asc, claim_text asc
