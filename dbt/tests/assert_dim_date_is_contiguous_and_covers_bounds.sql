-- dim_date must have exactly one row per day from int_date_bounds.min_date to
-- int_date_bounds.max_date (and no rows when there are no dates). Returns a
-- row describing the problem when that does not hold.

with

bounds as (

    select
        min_date,
        max_date,
        coalesce(max_date - min_date + 1, 0) as expected_days

    from {{ ref('int_date_bounds') }}

),

calendar as (

    select
        min(date_day) as first_day,
        max(date_day) as last_day,
        count(*) as actual_days,
        count(distinct date_day) as distinct_days

    from {{ ref('dim_date') }}

)

select
    bounds.min_date,
    bounds.max_date,
    bounds.expected_days,
    calendar.first_day,
    calendar.last_day,
    calendar.actual_days,
    calendar.distinct_days

from bounds
cross join calendar
where
    calendar.actual_days <> bounds.expected_days
    or calendar.distinct_days <> calendar.actual_days
    or calendar.first_day is distinct from bounds.min_date
    or calendar.last_day is distinct from bounds.max_date
