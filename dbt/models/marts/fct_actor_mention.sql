with

mentions as (

    select * from {{ ref('int_actor_mentions_enriched') }}

),

final as (

    select
        mention_id,
        document_id,
        sentence_id,
        actor_id,
        surface_text,
        char_start,
        char_end,
        published_date

    from mentions

)

select * from final
