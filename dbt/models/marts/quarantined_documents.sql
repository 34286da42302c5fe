with

ingest_rejections as (

    select * from {{ ref('stg_quarantined_documents') }}

),

normalize_rejections as (

    select * from {{ ref('stg_normalize_quarantine') }}

),

-- a file is rejected at most once: the ingest rejects it, or it decodes and normalization
-- empties it; unique source_file below holds that
unioned as (

    select
        source_file,
        stage,
        reason,
        detail,
        size_bytes,
        content_sha256,
        quarantined_at

    from ingest_rejections

    union all

    select
        source_file,
        stage,
        reason,
        detail,
        size_bytes,
        content_sha256,
        quarantined_at

    from normalize_rejections

)

select * from unioned
