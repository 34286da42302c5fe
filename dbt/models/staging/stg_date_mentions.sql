with

source as (

    select * from {{ source('raw', 'date_mentions') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['document_id', 'char_start', 'char_end']) }} as date_mention_id,
        cast(document_id as varchar) as document_id,

        -- resolved period
        cast(date_start as date) as date_start,
        cast(date_end as date) as date_end,
        cast(granularity as varchar) as granularity,
        cast(year_inferred as boolean) as year_inferred,
        cast(calendar as varchar) as calendar,

        -- span in normalized body_text (0-based, end-exclusive)
        cast(surface_text as varchar) as surface_text,
        cast(char_start as integer) as char_start,
        cast(char_end as integer) as char_end

    from source

)

select * from renamed
