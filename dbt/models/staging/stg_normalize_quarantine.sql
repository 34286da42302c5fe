with

source as (

    select * from {{ source('raw', 'normalize_quarantine') }}

),

renamed as (

    select
        -- ids
        cast(file_id as varchar) as file_id,
        cast(source_file as varchar) as source_file,

        -- file attributes
        cast(size_bytes as bigint) as size_bytes,
        cast(content_sha256 as varchar) as content_sha256,

        -- rejection
        cast(stage as varchar) as stage,
        cast(reason as varchar) as reason,
        cast(detail as varchar) as detail,

        -- timestamps
        cast(quarantined_at as timestamp) as quarantined_at

    from source

)

select * from renamed
