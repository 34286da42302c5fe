{#-
    The sentence that holds a fact, for the facts that carry (document_id, char_start) but no
    sentence_id of their own (actor mentions, figures, dates).

    sentence_spans(): the body of a `sentences` CTE (the sentence's document, index and span,
    nothing else). holds_char_start(fact): the join condition on that CTE. Sentences of an
    article do not overlap (assert_dim_sentence_spans_do_not_overlap), so the range join finds at
    most one sentence per fact: the one whose [char_start, char_end) holds the fact's char_start.
    sentence_id_of(sentences): the id of the sentence found (stg_sentences.sentence_id), null
    when none was.

    The id is computed after the join, for the sentences found only. Taken from stg_sentences,
    it was an md5 of every sentence of the collection each time a view or test read the
    sentences: DuckDB does not carry a filter on the facts' documents across the range join, so
    at 100,000 documents each read hashed 8.7 million sentences (1.3 s), for 353 changed
    articles as for all of them.
-#}

{% macro sentence_spans() %}
select
    document_id,
    sentence_index,
    char_start,
    char_end

from {{ ref('stg_sentences') }}
{% endmacro %}

{% macro sentence_id_of(sentences='sentences') -%}
case
    when {{ sentences }}.sentence_index is not null
        then {{ surrogate_key([sentences ~ '.document_id', sentences ~ '.sentence_index']) }}
end
{%- endmacro %}

{% macro holds_char_start(fact, sentences='sentences') %}
{{ fact }}.document_id = {{ sentences }}.document_id
and {{ fact }}.char_start >= {{ sentences }}.char_start
and {{ fact }}.char_start < {{ sentences }}.char_end
{% endmacro %}
