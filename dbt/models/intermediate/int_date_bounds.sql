-- Smallest and largest calendar day referenced anywhere in the facts:
-- article publication dates plus the start and end of every resolved date
-- mention and of every dated event report (fct_event's dates are the reports'
-- min and max). Always exactly one row; both bounds are null when nothing is dated.

with

published_dates as (

    select published_date as date_day
    from {{ ref('stg_normalized_documents') }}
    where published_date is not null

),

mention_start_dates as (

    select date_start as date_day
    from {{ ref('stg_date_mentions') }}
    where date_start is not null

),

mention_end_dates as (

    select date_end as date_day
    from {{ ref('stg_date_mentions') }}
    where date_end is not null

),

report_start_dates as (

    select date_start as date_day
    from {{ ref('stg_event_reports') }}
    where date_start is not null

),

report_end_dates as (

    select date_end as date_day
    from {{ ref('stg_event_reports') }}
    where date_end is not null

),

all_dates as (

    select date_day from published_dates
    union all
    select date_day from mention_start_dates
    union all
    select date_day from mention_end_dates
    union all
    select date_day from report_start_dates
    union all
    select date_day from report_end_dates

),

bounds as (

    select
        min(date_day) as min_date,
        max(date_day) as max_date,
        count(*) as date_reference_count

    from all_dates

)

select * from bounds
