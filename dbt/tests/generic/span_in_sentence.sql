{#-
    Fails for every row of a fact model whose span does not lie in the sentence
    it names: its char_start must be in [sentence.char_start, sentence.char_end)
    of the same article and, when char_end_column is given, its char_end must
    not pass sentence.char_end. Rows with a null sentence_id are left to a
    not_null test; sentence ids missing from stg_sentences to the relationships test.
-#}
{% test span_in_sentence(
    model,
    sentence_id_column='sentence_id',
    document_id_column='document_id',
    char_start_column='char_start',
    char_end_column=none
) %}

with

facts as (

    select
        {{ sentence_id_column }} as sentence_id,
        {{ document_id_column }} as document_id,
        {{ char_start_column }} as char_start,
        {{ char_end_column if char_end_column else 'null' }} as char_end

    from {{ model }}
    where {{ sentence_id_column }} is not null

),

sentences as (

    {{ sentence_spans() }}

),

compared as (

    select
        facts.sentence_id,
        facts.document_id,
        facts.char_start,
        facts.char_end,
        sentences.document_id as sentence_document_id,
        sentences.char_start as sentence_char_start,
        sentences.char_end as sentence_char_end

    from facts
    inner join sentences
        on facts.sentence_id = sentences.sentence_id

)

select *
from compared
where
    document_id is distinct from sentence_document_id
    or char_start is null
    or char_start < sentence_char_start
    or char_start >= sentence_char_end
    {% if char_end_column -%}
        or char_end is null
        or char_end > sentence_char_end
    {%- endif %}

{% endtest %}
