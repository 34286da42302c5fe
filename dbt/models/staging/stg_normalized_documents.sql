with

source as (

    select * from {{ source('raw', 'normalized_documents') }}

),

-- removed_lines arrives as a list of {reason, lines}, one entry per reason; summing per
-- reason keeps map_from_entries (which rejects repeated keys) safe if that ever changes
removed_line_entries as (

    select
        document_id,
        unnest(removed_lines) as removed_line

    from source

),

removed_line_totals as (

    select
        document_id,
        struct_extract(removed_line, 'reason') as reason,
        cast(sum(struct_extract(removed_line, 'lines')) as integer) as line_count

    from removed_line_entries
    group by
        document_id,
        reason

),

removed_line_maps as (

    select
        document_id,
        map_from_entries(list(struct_pack(reason, line_count) order by reason)) as removed_lines,
        cast(sum(line_count) as integer) as removed_line_count

    from removed_line_totals
    group by document_id

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
        coalesce(removed_line_maps.removed_lines, map()) as removed_lines,
        coalesce(removed_line_maps.removed_line_count, 0) as removed_line_count

    from source
    left join removed_line_maps
        on source.document_id = removed_line_maps.document_id

)

select * from renamed
