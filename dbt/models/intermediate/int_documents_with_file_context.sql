with

documents as (

    select * from {{ ref('stg_normalized_documents') }}

),

files as (

    select * from {{ ref('stg_raw_documents') }}

),

joined as (

    select
        documents.document_id,
        documents.file_id,
        documents.source_file,
        documents.article_index,
        documents.title,
        documents.authors,
        documents.publisher,
        documents.published_date,
        documents.language,
        documents.body_text,
        documents.body_char_start,
        documents.word_count,
        documents.content_sha256,
        documents.content_type,
        documents.extraction_method,
        documents.removed_lines,
        documents.removed_line_count,
        files.encoding as source_encoding,
        files.decode_errors as source_decode_errors,
        files.content_type as source_content_type,
        files.size_bytes as source_size_bytes,
        files.modified_at as source_modified_at,
        files.ingested_at

    from documents
    left join files
        on documents.file_id = files.file_id

)

select * from joined
