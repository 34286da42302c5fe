{#-
    Fails for every row for which the boolean SQL expression is not true
    (false or null), e.g. "(event_id is not null) = (status = 'occurred')".
-#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
