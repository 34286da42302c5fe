with

actors as (

    select * from {{ ref('stg_actor_gazetteer') }}

),

-- from the mart, not int_actor_mentions_enriched: the same rows, without the view's joins to the
-- articles and their sentences (a scan of three columns)
mention_totals as (

    select
        actor_id,
        count(*) as mention_count,
        count(distinct document_id) as document_count,
        min(published_date) as first_published_date,
        max(published_date) as last_published_date

    from {{ ref('fct_actor_mention') }}
    group by actor_id

),

final as (

    select
        actors.actor_id,
        actors.canonical_name,
        actors.actor_type,
        actors.country_code,
        actors.aliases,
        actors.actor_key,
        len(actors.aliases) as alias_count,
        coalesce(mention_totals.mention_count, 0) as mention_count,
        coalesce(mention_totals.document_count, 0) as document_count,
        mention_totals.first_published_date,
        mention_totals.last_published_date

    from actors
    left join mention_totals
        on actors.actor_id = mention_totals.actor_id

)

select * from final
