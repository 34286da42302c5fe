with

sentences as (

    select * from {{ ref('stg_sentences') }}

),

final as (

    select
        sentence_id,
        document_id,
        sentence_index,
        char_start,
        char_end,
        sentence_text

    from sentences

)

select * from final
