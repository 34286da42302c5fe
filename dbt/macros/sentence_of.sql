{#-
    The sentence that holds a fact, for the facts that carry (document_id, char_start) but no
    sentence_id of their own (actor mentions, figures, dates).

    sentence_spans(): the body of a `sentences` CTE (sentence_id and its span, nothing else).
    holds_char_start(fact): the join condition on that CTE. Sentences of an article do not
    overlap (assert_dim_sentence_spans_do_not_overlap), so the range join finds at most one
    sentence per fact: the one whose [char_start, char_end) holds the fact's char_start.
-#}

{% macro sentence_spans() %}
select
    sentence_id,
    document_id,
    char_start,
    char_end

from {{ ref('stg_sentences') }}
{% endmacro %}

{% macro holds_char_start(fact, sentences='sentences') %}
{{ fact }}.document_id = {{ sentences }}.document_id
and {{ fact }}.char_start >= {{ sentences }}.char_start
and {{ fact }}.char_start < {{ sentences }}.char_end
{% endmacro %}
