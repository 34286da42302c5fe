-- Example analyst question: a monthly count of events by type. An event is
-- counted in the month it happened when its dates lie within one calendar
-- month (day- or month-precise, or a range inside a month); events dated
-- only to a year or longer, and undated events, cannot be placed in a month
-- and are left out (fct_event.date_precision says which they are).
-- Compile with `dbt compile --select monthly_events_by_type`.

with

events as (

    select * from {{ ref('fct_event') }}
    where
        event_date_start is not null
        and date_trunc('month', event_date_start) = date_trunc('month', event_date_end)

),

calendar as (

    select * from {{ ref('dim_date') }}

),

monthly as (

    select
        calendar.year_month,
        events.event_type,
        count(*) as event_count,
        sum(events.killed_best) as killed_best_total

    from events
    inner join calendar
        on events.event_date_start = calendar.date_day
    group by
        calendar.year_month,
        events.event_type

)

select * from monthly
order by year_month asc, event_type asc
