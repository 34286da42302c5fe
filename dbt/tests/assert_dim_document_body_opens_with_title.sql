-- body_text opens with the headline: for every document with a title,
-- substr(body_text, 1, length(title)) = title, followed by a blank line, and
-- body_char_start = length(title) + 2; without a title body_char_start = 0.
-- Returns the documents for which that does not hold.
-- During an incremental build it reads the rows of this run's articles only, like the
-- generic tests of the incremental marts (macros/incremental_documents.sql).

with

documents as (

    select
        document_id,
        source_file,
        article_index,
        title,
        body_text,
        body_char_start

    from {{ tested_rows(ref('dim_document')) }}

)

select *
from documents
where
    body_char_start is null
    or body_char_start > length(body_text)
    or (title is null and body_char_start <> 0)
    or (
        title is not null
        and (
            substr(body_text, 1, length(title)) is distinct from title
            or substr(body_text, length(title) + 1, 2) is distinct from chr(10) || chr(10)
            or body_char_start <> length(title) + 2
        )
    )
