{#-
    Fails for every row of a fact model whose character span does not point at
    its surface_text in the article's normalized body_text. Offsets are 0-based
    and end-exclusive, so the span is
        substr(body_text, char_start + 1, char_end - char_start).
    Rows with null/negative/inverted offsets or offsets past the end of the
    body also fail. Facts whose document is missing are left to the
    relationships test.
-#}
{% test offsets_match_body(
    model,
    document_id_column='document_id',
    surface_text_column='surface_text',
    char_start_column='char_start',
    char_end_column='char_end'
) %}

with

facts as (

    select
        {{ document_id_column }} as document_id,
        {{ surface_text_column }} as surface_text,
        {{ char_start_column }} as char_start,
        {{ char_end_column }} as char_end

    from {{ model }}

),

documents as (

    select
        document_id,
        body_text

    from {{ ref('stg_normalized_documents') }}

),

compared as (

    select
        facts.document_id,
        facts.surface_text,
        facts.char_start,
        facts.char_end,
        length(documents.body_text) as body_length,
        substr(
            documents.body_text,
            facts.char_start + 1,
            facts.char_end - facts.char_start
        ) as body_slice

    from facts
    inner join documents
        on facts.document_id = documents.document_id

)

select *
from compared
where
    char_start is null
    or char_end is null
    or char_start < 0
    or char_end < char_start
    or char_end > body_length
    or body_slice is distinct from surface_text

{% endtest %}
