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
        documents.body_text,
        documents.word_count,
        documents.content_sha256,
        files.encoding as source_encoding,
        files.size_bytes as source_size_bytes,
        files.ingested_at

    from documents
    left join files
        on documents.file_id = files.file_id

)

select * from joined
