{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

documents as (

    select * from {{ ref('int_documents_with_file_context') }}
    {{ only_changed_documents() }}

),

extraction_counts as (

    select * from {{ ref('int_document_extraction_counts') }}
    {{ only_changed_documents() }}

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
        documents.language,
        -- the languages the statistics and date extractors read (EXTRACTION_LANGUAGES in
        -- dagster_project/assets/extraction.py); actor mentions are extracted for every language
        coalesce(documents.language in ('en', 'und'), false) as extraction_supported,
        documents.body_text,
        documents.body_char_start,
        documents.word_count,
        documents.content_sha256,
        documents.content_type,
        documents.extraction_method,
        documents.removed_lines,
        documents.removed_line_count,
        documents.file_id,
        documents.source_encoding,
        documents.source_decode_errors,
        documents.source_size_bytes,
        documents.source_modified_at,
        documents.ingested_at,
        -- one row per article, zero when nothing was extracted (not_null tests guard it)
        extraction_counts.actor_mention_count,
        extraction_counts.distinct_actor_count,
        extraction_counts.statistic_count,
        extraction_counts.date_mention_count

    from documents
    left join extraction_counts
        on documents.document_id = extraction_counts.document_id

)

select * from final
