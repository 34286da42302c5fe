-- Statistics and date mentions are extracted only from articles whose language
-- is en or und (dim_document.extraction_supported). Returns the other articles
-- that nevertheless have some: the flag and the extractors disagree.

select
    document_id,
    source_file,
    language,
    statistic_count,
    date_mention_count

from {{ ref('dim_document') }}
where
    not extraction_supported
    and (statistic_count > 0 or date_mention_count > 0)
