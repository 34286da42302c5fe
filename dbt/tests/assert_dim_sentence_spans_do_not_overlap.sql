-- The sentences of an article do not overlap and are in reading order: each
-- starts at or after the end of the one before it. The range joins that give
-- every fact its sentence_id rely on it (at most one sentence holds a
-- char_start). Returns the sentences that start before their predecessor ends.
-- During an incremental build it reads the rows of this run's articles only, like the
-- generic tests of the incremental marts (macros/incremental_documents.sql).

with

sentences as (

    select
        sentence_id,
        document_id,
        sentence_index,
        char_start,
        char_end,
        lag(char_end) over (
            partition by document_id
            order by sentence_index
        ) as previous_char_end

    from {{ tested_rows(ref('dim_sentence')) }}

)

select *
from sentences
where
    char_end <= char_start
    or char_start < previous_char_end
