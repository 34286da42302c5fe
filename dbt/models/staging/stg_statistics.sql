with

source as (

    select * from {{ source('raw', 'statistics') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['document_id', 'char_start', 'char_end', 'statistic_type', 'casualty_type']) }}
            as statistic_id,
        cast(document_id as varchar) as document_id,

        -- figure
        cast(statistic_type as varchar) as statistic_type,
        cast(value as double) as value,
        cast(qualifier as varchar) as qualifier,
        cast(casualty_type as varchar) as casualty_type,
        cast(subject as varchar) as subject,
        cast(unit as varchar) as unit,

        -- span in normalized body_text (0-based, end-exclusive)
        cast(surface_text as varchar) as surface_text,
        cast(char_start as integer) as char_start,
        cast(char_end as integer) as char_end

    from source

)

select * from renamed
