-- Contiguous calendar from the earliest to the latest day referenced by the
-- facts (see int_date_bounds). No rows when nothing is dated.

with

bounds as (

    select
        min_date,
        max_date

    from {{ ref('int_date_bounds') }}
    where
        min_date is not null
        and max_date is not null

),

day_offsets as (

    select
        min_date,
        unnest(range(0, max_date - min_date + 1)) as day_offset

    from bounds

),

date_spine as (

    select min_date + cast(day_offset as integer) as date_day
    from day_offsets

),

final as (

    select
        date_day,
        cast(strftime(date_day, '%Y%m%d') as integer) as date_key,
        cast(year(date_day) as integer) as year,
        cast(quarter(date_day) as integer) as quarter,
        cast(month(date_day) as integer) as month,
        monthname(date_day) as month_name,
        strftime(date_day, '%Y-%m') as year_month,
        cast(day(date_day) as integer) as day_of_month,
        cast(isodow(date_day) as integer) as day_of_week,
        dayname(date_day) as day_name,
        cast(dayofyear(date_day) as integer) as day_of_year,
        cast(isoyear(date_day) as integer) as iso_year,
        cast(weekofyear(date_day) as integer) as iso_week,
        cast(date_trunc('week', date_day) as date) as week_start_date,
        cast(date_trunc('month', date_day) as date) as month_start_date,
        cast(date_trunc('quarter', date_day) as date) as quarter_start_date,
        cast(date_trunc('year', date_day) as date) as year_start_date,
        isodow(date_day) in (6, 7) as is_weekend

    from date_spine

)

select * from final
