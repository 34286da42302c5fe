-- Example analyst question: every event involving ISKP, with its date and
-- killed range. "Involving" = ISKP has any role in the event (perpetrator,
-- target, participant, ...) in at least one report; roles lists them.
-- Compile with `dbt compile --select iskp_events`.

with

iskp as (

    select actor_id from {{ ref('dim_actor') }}
    where actor_key = 'iskp'

),

iskp_roles as (

    select
        event_actors.event_id,
        list(distinct event_actors.role order by event_actors.role) as iskp_roles

    from {{ ref('bridge_event_actor') }} as event_actors
    inner join iskp
        on event_actors.actor_id = iskp.actor_id
    group by event_actors.event_id

),

events as (

    select * from {{ ref('fct_event') }}

),

final as (

    select
        events.event_id,
        events.event_type,
        events.event_date_start,
        events.event_date_end,
        events.date_precision,
        events.location_text,
        events.country_code,
        events.killed_low,
        events.killed_best,
        events.killed_high,
        events.n_documents,
        iskp_roles.iskp_roles,
        events.description

    from events
    inner join iskp_roles
        on events.event_id = iskp_roles.event_id

)

select * from final
order by event_date_start asc nulls last, event_id asc
