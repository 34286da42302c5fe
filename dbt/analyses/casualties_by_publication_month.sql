-- Example analyst query: casualty figures reported per publication month.
-- Compile with `dbt compile --select casualties_by_publication_month`.

with

casualties as (

    select * from {{ ref('fct_statistic') }}
    where statistic_type = 'casualty'

),

calendar as (

    select * from {{ ref('dim_date') }}

),

monthly as (

    select
        calendar.year_month,
        casualties.casualty_type,
        count(*) as figure_count,
        sum(casualties.value) as reported_total

    from casualties
    inner join calendar
        on casualties.published_date = calendar.date_day
    group by
        calendar.year_month,
        casualties.casualty_type

)

select * from monthly
order by year_month, casualty_type
