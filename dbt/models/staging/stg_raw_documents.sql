with

source as (

    select * from {{ source('raw', 'raw_documents') }}

),

renamed as (

    select
        -- ids
        cast(file_id as varchar) as file_id,

        -- file attributes
        cast(source_file as varchar) as source_file,
        cast(size_bytes as bigint) as size_bytes,
        cast(content_sha256 as varchar) as content_sha256,
        cast(encoding as varchar) as encoding,
        cast(decode_errors as integer) as decode_errors,
        cast(content_type as varchar) as content_type,
        cast(raw_text as varchar) as raw_text,

        -- timestamps
        cast(modified_at as timestamp) as modified_at,
        cast(ingested_at as timestamp) as ingested_at

    from source

)

select * from renamed
