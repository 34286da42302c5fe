-- Example analyst question: which actors appear in the most documents?
-- One row per actor mentioned at least once, with the number of articles and
-- mentions, most widely covered first.
-- Compile with `dbt compile --select actors_in_most_documents`.

with

document_actors as (

    select * from {{ ref('bridge_document_actor') }}

),

actors as (

    select * from {{ ref('dim_actor') }}

),

coverage as (

    select
        actors.actor_id,
        actors.canonical_name,
        actors.actor_type,
        actors.country_code,
        count(*) as document_count,
        sum(document_actors.mention_count) as mention_count

    from document_actors
    inner join actors
        on document_actors.actor_id = actors.actor_id
    group by
        actors.actor_id,
        actors.canonical_name,
        actors.actor_type,
        actors.country_code

)

select * from coverage
order by document_count desc, mention_count desc, canonical_name asc
