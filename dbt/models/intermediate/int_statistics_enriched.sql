with

statistics as (

    select * from {{ ref('stg_statistics') }}

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
        statistics.statistic_id,
        statistics.document_id,
        {{ sentence_id_of('sentences') }} as sentence_id,
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
        on {{ holds_char_start('statistics') }}

)

select * from enriched
