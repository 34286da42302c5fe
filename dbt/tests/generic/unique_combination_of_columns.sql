{#-
    Fails for every combination of the given columns that occurs more than
    once (a composite primary key check, without needing dbt_utils).
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set column_list = combination_of_columns | join(', ') %}

select
    {{ column_list }},
    count(*) as n_records

from {{ model }}
group by {{ column_list }}
having count(*) > 1

{% endtest %}
