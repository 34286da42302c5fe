with

source as (

    select * from {{ source('raw', 'normalized_documents') }}

),

renamed as (

    select
        -- ids
        cast(document_id as varchar) as document_id,
        cast(file_id as varchar) as file_id,

        -- position in the input file
        cast(source_file as varchar) as source_file,
        cast(article_index as integer) as article_index,

        -- article metadata (blank strings become null)
        nullif(trim(cast(title as varchar)), '') as title,
        nullif(trim(cast(authors as varchar)), '') as authors,
        nullif(trim(cast(publisher as varchar)), '') as publisher,
        cast(published_date as date) as published_date,

        -- text (never trimmed: extraction offsets point into it)
        cast(body_text as varchar) as body_text,
        cast(word_count as integer) as word_count,
        cast(content_sha256 as varchar) as content_sha256

    from source

)

select * from renamed
