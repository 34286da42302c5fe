with

statistics as (

    select * from {{ ref('stg_statistics') }}

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
        statistics.statistic_id,
        statistics.document_id,
        sentences.sentence_id,
        statistics.statistic_type,
        statistics.value,
        statistics.qualifier,
        statistics.casualty_type,
        statistics.subject,
        statistics.unit,
        statistics.surface_text,
        statistics.char_start,
        statistics.char_end,
        documents.source_file,
        documents.article_index,
        documents.title,
        documents.publisher,
        documents.published_date,
        statistics.statistic_type = 'casualty' as is_casualty,
        statistics.value is not null as has_value

    from statistics
    left join documents
        on statistics.document_id = documents.document_id
    left join sentences
        on
            statistics.document_id = sentences.document_id
            and statistics.char_start >= sentences.char_start
            and statistics.char_start < sentences.char_end

)

select * from enriched
