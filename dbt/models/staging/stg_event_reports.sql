with

source as (

    select * from {{ source('raw', 'event_reports') }}

),

renamed as (

    select
        -- ids: the report, its sentence, and the event it belongs to (event_id is the
        -- Python's event_key, already a deterministic hash; null unless occurred)
        {{ surrogate_key(['document_id', 'trigger_char_start']) }} as event_report_id,
        cast(document_id as varchar) as document_id,
        {{ surrogate_key(['document_id', 'sentence_index']) }} as sentence_id,
        cast(sentence_index as integer) as sentence_index,
        cast(event_key as varchar) as event_id,

        -- the sentence and the trigger (0-based, end-exclusive spans in normalized body_text)
        cast(sentence_char_start as integer) as sentence_char_start,
        cast(sentence_char_end as integer) as sentence_char_end,
        cast(trigger_text as varchar) as trigger_text,
        cast(trigger_char_start as integer) as trigger_char_start,
        cast(trigger_char_end as integer) as trigger_char_end,

        -- what happened
        cast(event_type as varchar) as event_type,
        cast(acled_event_type as varchar) as acled_event_type,
        cast(acled_sub_event_type as varchar) as acled_sub_event_type,
        cast(plover_event_type as varchar) as plover_event_type,
        cast(violent as boolean) as violent,
        cast(status as varchar) as status,
        cast(event_clarity as varchar) as event_clarity,

        -- when and where
        cast(date_start as date) as date_start,
        cast(date_end as date) as date_end,
        cast(date_precision as varchar) as date_precision,
        cast(location_actor_id as varchar) as location_actor_id,
        cast(location_text as varchar) as location_text,
        cast(location_type as varchar) as location_type,
        cast(country_code as varchar) as country_code,

        -- toll according to this report
        cast(killed as double) as killed,
        cast(injured as double) as injured,
        cast(killed_qualifier as varchar) as killed_qualifier,
        cast(injured_qualifier as varchar) as injured_qualifier

    from source

)

select * from renamed
