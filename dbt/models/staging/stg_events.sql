with

source as (

    select * from {{ source('raw', 'events') }}

),

renamed as (

    select
        -- ids: event_key is a deterministic hash already (sha256 of the earliest report's
        -- document_id and trigger offset), so it is the event_id as is, and it does not
        -- change when a later article joins the event
        cast(event_key as varchar) as event_id,
        cast(first_document_id as varchar) as first_document_id,
        {{ surrogate_key(['first_document_id', 'first_sentence_index']) }} as first_sentence_id,

        -- what happened
        cast(event_type as varchar) as event_type,
        cast(acled_event_type as varchar) as acled_event_type,
        cast(acled_sub_event_type as varchar) as acled_sub_event_type,
        cast(plover_event_type as varchar) as plover_event_type,
        cast(event_clarity as varchar) as event_clarity,
        cast(status as varchar) as status,

        -- when and where
        cast(event_date_start as date) as event_date_start,
        cast(event_date_end as date) as event_date_end,
        cast(date_precision as varchar) as date_precision,
        cast(location_actor_id as varchar) as location_actor_id,
        cast(location_text as varchar) as location_text,
        cast(country_code as varchar) as country_code,

        -- tolls across the reporting articles
        cast(killed_low as double) as killed_low,
        cast(killed_best as double) as killed_best,
        cast(killed_high as double) as killed_high,
        cast(injured_low as double) as injured_low,
        cast(injured_best as double) as injured_best,
        cast(injured_high as double) as injured_high,

        -- coverage
        cast(n_documents as integer) as n_documents,
        cast(n_reports as integer) as n_reports,
        cast(first_sentence_index as integer) as first_sentence_index,
        cast(description as varchar) as description

    from source

)

select * from renamed
