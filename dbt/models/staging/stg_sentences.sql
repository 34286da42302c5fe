with

source as (

    select * from {{ source('raw', 'sentences') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['document_id', 'sentence_index']) }} as sentence_id,
        cast(document_id as varchar) as document_id,
        cast(sentence_index as integer) as sentence_index,

        -- span in normalized body_text (0-based, end-exclusive)
        cast(char_start as integer) as char_start,
        cast(char_end as integer) as char_end,
        cast(sentence_text as varchar) as sentence_text

    from source

)

select * from renamed
