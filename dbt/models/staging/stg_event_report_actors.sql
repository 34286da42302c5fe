with

source as (

    select * from {{ source('raw', 'event_report_actors') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['document_id', 'trigger_char_start', 'actor_id', 'role']) }} as event_report_actor_id,
        {{ surrogate_key(['document_id', 'trigger_char_start']) }} as event_report_id,
        cast(document_id as varchar) as document_id,
        cast(sentence_index as integer) as sentence_index,
        cast(trigger_char_start as integer) as trigger_char_start,
        cast(actor_id as varchar) as actor_id,

        -- the actor's part in the event
        cast(role as varchar) as role,

        -- span in normalized body_text (0-based, end-exclusive)
        cast(surface_text as varchar) as surface_text,
        cast(char_start as integer) as char_start,
        cast(char_end as integer) as char_end

    from source

)

select * from renamed
