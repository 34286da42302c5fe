with

date_mentions as (

    select * from {{ ref('stg_date_mentions') }}

),

documents as (

    select * from {{ ref('stg_normalized_documents') }}

),

-- sentences of an article do not overlap (assert_dim_sentence_spans_do_not_overlap), so the
-- range join finds at most one sentence per fact: the one whose span holds its char_start
sentences as (

    select
        sentence_id,
        document_id,
        char_start,
        char_end

    from {{ ref('stg_sentences') }}

),

enriched as (

    select
        date_mentions.date_mention_id,
        date_mentions.document_id,
        sentences.sentence_id,
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
        on
            date_mentions.document_id = sentences.document_id
            and date_mentions.char_start >= sentences.char_start
            and date_mentions.char_start < sentences.char_end

)

select * from enriched
