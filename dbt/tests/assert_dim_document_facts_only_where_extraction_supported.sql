-- Statistics and date mentions are extracted only from articles whose language
-- is en or und (dim_document.extraction_supported). Returns the other articles
-- that nevertheless have some: the flag and the extractors disagree.
-- During an incremental build it reads the rows of this run's articles only, like the
-- generic tests of the incremental marts (macros/incremental_documents.sql).

select
    document_id,
    source_file,
    language,
    statistic_count,
    date_mention_count

from {{ tested_rows(ref('dim_document')) }}
where
    not extraction_supported
    and (statistic_count > 0 or date_mention_count > 0)
