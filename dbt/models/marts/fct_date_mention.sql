with

date_mentions as (

    select * from {{ ref('int_date_mentions_enriched') }}

),

final as (

    select
        date_mention_id,
        document_id,
        sentence_id,
        surface_text,
        date_start,
        date_end,
        granularity,
        year_inferred,
        char_start,
        char_end,
        calendar,
        days_covered,
        published_date

    from date_mentions

)

select * from final
