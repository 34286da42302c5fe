with

source as (

    select * from {{ source('raw', 'normalized_documents') }}

),

renamed as (

    select
        -- ids
        cast(source.document_id as varchar) as document_id,
        cast(source.file_id as varchar) as file_id,

        -- position in the input file
        cast(source.source_file as varchar) as source_file,
        cast(source.article_index as integer) as article_index,

        -- article metadata (blank strings become null)
        nullif(trim(cast(source.title as varchar)), '') as title,
        nullif(trim(cast(source.authors as varchar)), '') as authors,
        nullif(trim(cast(source.publisher as varchar)), '') as publisher,
        cast(source.published_date as date) as published_date,
        cast(source.language as varchar) as language,

        -- text (never trimmed: extraction offsets point into it); it opens with the
        -- headline, the article text starts at body_char_start
        cast(source.body_text as varchar) as body_text,
        cast(source.body_char_start as integer) as body_char_start,
        cast(source.word_count as integer) as word_count,
        cast(source.content_sha256 as varchar) as content_sha256,

        -- how the article was extracted, and what was left out of it
        cast(source.content_type as varchar) as content_type,
        cast(source.extraction_method as varchar) as extraction_method,
        -- removed_lines arrives as a list of {reason, lines}, one entry per reason; summing
        -- per reason keeps map_from_entries (which rejects repeated keys) safe if that ever
        -- changes. Computed within the row, without an aggregate joined back on document_id,
        -- so that a filter on document_id reaches the scan of the raw table (a join back made
        -- DuckDB materialize the whole table, body_text included, before any filter)
        coalesce(
            map_from_entries(
                list_transform(
                    list_sort(list_distinct(list_transform(
                        source.removed_lines, lambda entry: struct_pack(reason := entry.reason)
                    ))),
                    lambda kept: struct_pack(
                        reason := kept.reason,
                        line_count := cast(list_sum(list_transform(
                            list_filter(source.removed_lines, lambda entry: entry.reason = kept.reason),
                            lambda entry: entry.lines
                        )) as integer)
                    )
                )
            ),
            map()
        ) as removed_lines,
        coalesce(
            cast(list_sum(list_transform(source.removed_lines, lambda entry: entry.lines)) as integer), 0
        ) as removed_line_count

    from source

)

select * from renamed
