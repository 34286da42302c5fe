{#-
    Fails for every row of a fact model whose character span does not point at
    its surface_text in the article's normalized body_text. Offsets are 0-based
    and end-exclusive, so the span is
        substr(body_text, char_start + 1, char_end - char_start).
    Rows with null/negative/inverted offsets or offsets past the end of the
    body also fail. Facts whose document is missing are left to the
    relationships test.

    The span is not cut with substr from the whole body: DuckDB counts characters
    from the start of the string (UTF-8 has no character index), so each row read
    the article up to its offset. At 100,000 documents that was 48 s of this test on
    22 million actor mentions. Each article's byte offset of every piece_chars-th
    character is computed once (byte_offsets: one substr per piece, read from the
    nearer end), and a row's span is cut from the bytes of the pieces that hold it:
    0-based character c is in piece c // piece_chars, which starts at byte
    byte_offsets[c // piece_chars + 1] (a DuckDB list is 1-based). The pieces start
    on characters, so the bytes between two of them are valid UTF-8. The comparison
    is the same, character for character (tests/test_warehouse.py checks it against
    Python slicing on multi-byte text).
-#}
{% test offsets_match_body(
    model,
    document_id_column='document_id',
    surface_text_column='surface_text',
    char_start_column='char_start',
    char_end_column='char_end',
    piece_chars=1024
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

-- the articles of the rows tested (during an incremental build: this run's), first as ids: a
-- semi-join of the texts themselves built its hash table of every text (1.5 GB at 100,000
-- documents) beside the one of the join below, and ran out of memory under the 2 GB cap
tested_documents as (

    select document_id

    from {{ ref('stg_normalized_documents') }}
    where document_id in (select distinct {{ document_id_column }} from {{ model }})

),

documents as (

    select
        articles.document_id,
        articles.body_text,
        length(articles.body_text) as body_length

    from {{ ref('stg_normalized_documents') }} as articles
    inner join tested_documents
        on articles.document_id = tested_documents.document_id

),

-- the byte length of each piece of piece_chars characters
pieces as (

    select
        document_id,
        body_text,
        body_length,
        list_transform(
            range(0, (body_length + {{ piece_chars }} - 1) // {{ piece_chars }}),
            piece -> strlen(substr(
                body_text,
                case
                    when piece * {{ piece_chars }} * 2 < body_length then piece * {{ piece_chars }} + 1
                    else piece * {{ piece_chars }} - body_length
                end,
                {{ piece_chars }}
            ))
        ) as piece_bytes

    from documents

),

-- the byte offset of each piece's first character, and of the end of the body
indexed as (

    select
        document_id,
        body_length,
        encode(body_text) as body_bytes,
        list_transform(
            range(0, len(piece_bytes) + 1),
            piece -> coalesce(list_sum(piece_bytes[1:piece]), 0)
        ) as byte_offsets

    from pieces

),

compared as (

    select
        facts.document_id,
        facts.surface_text,
        facts.char_start,
        facts.char_end,
        indexed.body_length,
        case
            when
                facts.char_start < 0
                or facts.char_end < facts.char_start
                or facts.char_end > indexed.body_length
                then null
            when facts.char_end = facts.char_start then ''
            else substr(
                decode(
                    indexed.body_bytes[
                        indexed.byte_offsets[facts.char_start // {{ piece_chars }} + 1] + 1:
                        indexed.byte_offsets[(facts.char_end - 1) // {{ piece_chars }} + 2]
                    ]
                ),
                facts.char_start % {{ piece_chars }} + 1,
                facts.char_end - facts.char_start
            )
        end as body_slice

    from facts
    inner join indexed
        on facts.document_id = indexed.document_id

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
