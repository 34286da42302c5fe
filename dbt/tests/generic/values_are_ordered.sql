{#-
    Fails for every row whose given columns, taken in order, are not
    non-decreasing (e.g. killed_low <= killed_best <= killed_high). Null values
    are skipped, so low <= high is still checked when best is null: the
    non-null values, in column order, must already be sorted.
-#}
{% test values_are_ordered(model, columns) %}

{%- set values = '[' ~ (columns | join(', ')) ~ ']' %}

select *
from {{ model }}
where
    list_filter({{ values }}, x -> x is not null)
    <> list_sort(list_filter({{ values }}, x -> x is not null))

{% endtest %}
