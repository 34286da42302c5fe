with

source as (

    select * from {{ source('raw', 'actor_mentions') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['document_id', 'char_start', 'char_end', 'actor_id']) }} as mention_id,
        cast(document_id as varchar) as document_id,
        cast(actor_id as varchar) as actor_id,

        -- span in normalized body_text (0-based, end-exclusive)
        cast(surface_text as varchar) as surface_text,
        cast(char_start as integer) as char_start,
        cast(char_end as integer) as char_end

    from source

)

select * from renamed
