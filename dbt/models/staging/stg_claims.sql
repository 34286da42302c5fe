with

source as (

    select * from {{ source('raw', 'claims') }}

),

renamed as (

    select
        -- ids (the surrogate_key macro hashes a null cue_char_start as '')
        {{ surrogate_key(['document_id', 'char_start', 'cue_char_start', 'claimant_char_start']) }} as claim_id,
        cast(document_id as varchar) as document_id,
        {{ surrogate_key(['document_id', 'sentence_index']) }} as sentence_id,
        cast(sentence_index as integer) as sentence_index,

        -- who says so
        cast(claimant_actor_id as varchar) as claimant_actor_id,
        cast(claimant_text as varchar) as claimant_text,
        cast(claimant_char_start as integer) as claimant_char_start,
        cast(claimant_char_end as integer) as claimant_char_end,

        -- the attribution cue
        cast(cue as varchar) as cue,
        cast(cue_char_start as integer) as cue_char_start,
        cast(cue_char_end as integer) as cue_char_end,

        -- what is claimed (0-based, end-exclusive span in normalized body_text)
        cast(claim_text as varchar) as claim_text,
        cast(char_start as integer) as char_start,
        cast(char_end as integer) as char_end,
        cast(is_direct_quote as boolean) as is_direct_quote,
        cast(claim_type as varchar) as claim_type

    from source

)

select * from renamed
