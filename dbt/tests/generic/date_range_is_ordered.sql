{#-
    Fails for every row whose end date is before its start date
    (date_end >= date_start must hold; rows with a null bound are ignored).
-#}
{% test date_range_is_ordered(model, start_column='date_start', end_column='date_end') %}

select *
from {{ model }}
where
    {{ start_column }} is not null
    and {{ end_column }} is not null
    and {{ end_column }} < {{ start_column }}

{% endtest %}
