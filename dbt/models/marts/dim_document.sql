with

documents as (

    select * from {{ ref('int_documents_with_file_context') }}

),

extraction_counts as (

    select * from {{ ref('int_document_extraction_counts') }}

),

final as (

    select
        documents.document_id,
        documents.source_file,
        documents.article_index,
        documents.title,
        documents.authors,
        documents.publisher,
        documents.published_date,
        documents.body_text,
        documents.word_count,
        documents.content_sha256,
        documents.file_id,
        documents.source_encoding,
        documents.source_size_bytes,
        documents.ingested_at,
        coalesce(extraction_counts.actor_mention_count, 0) as actor_mention_count,
        coalesce(extraction_counts.distinct_actor_count, 0) as distinct_actor_count,
        coalesce(extraction_counts.statistic_count, 0) as statistic_count,
        coalesce(extraction_counts.date_mention_count, 0) as date_mention_count

    from documents
    left join extraction_counts
        on documents.document_id = extraction_counts.document_id

)

select * from final
