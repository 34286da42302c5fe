with

date_mentions as (

    select * from {{ ref('stg_date_mentions') }}

),

documents as (

    select * from {{ ref('stg_normalized_documents') }}

),

-- the sentence holding each fact (macros/sentence_of.sql)
sentences as (

    {{ sentence_spans() }}

),

enriched as (

    select
        date_mentions.date_mention_id,
        date_mentions.document_id,
        {{ sentence_id_of('sentences') }} as sentence_id,
        date_mentions.surface_text,
        date_mentions.date_start,
        date_mentions.date_end,
        date_mentions.granularity,
        date_mentions.year_inferred,
        date_mentions.calendar,
        date_mentions.char_start,
        date_mentions.char_end,
        documents.published_date,
        date_mentions.date_end - date_mentions.date_start + 1 as days_covered

    from date_mentions
    left join documents
        on date_mentions.document_id = documents.document_id
    left join sentences
        on {{ holds_char_start('date_mentions') }}

)

select * from enriched
