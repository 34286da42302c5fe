{#-
    Deterministic id of a row from its natural key: md5 (32 hex characters) of the
    key's values cast to varchar, nulls as '', joined by '|'. Computed here rather
    than in the Python extractors: hashing millions of mentions in Python took as
    long as finding them, DuckDB does it in parallel, and anyone can recompute an
    id in SQL from the row itself.
-#}
{% macro surrogate_key(columns) -%}
md5(concat_ws('|'{% for column in columns %}, coalesce(cast({{ column }} as varchar), ''){% endfor %}))
{%- endmacro %}
