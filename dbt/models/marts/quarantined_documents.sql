with

quarantined as (

    select * from {{ ref('stg_quarantined_documents') }}

),

final as (

    select
        source_file,
        reason,
        detail,
        size_bytes,
        content_sha256,
        quarantined_at

    from quarantined

)

select * from final
