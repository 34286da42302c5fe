with

documents as (

    select document_id from {{ ref('stg_normalized_documents') }}

),

actor_mentions as (

    select
        document_id,
        count(*) as actor_mention_count,
        count(distinct actor_id) as distinct_actor_count

    from {{ ref('stg_actor_mentions') }}
    group by document_id

),

statistics as (

    select
        document_id,
        count(*) as statistic_count,
        count(*) filter (where statistic_type = 'casualty') as casualty_statistic_count

    from {{ ref('stg_statistics') }}
    group by document_id

),

date_mentions as (

    select
        document_id,
        count(*) as date_mention_count

    from {{ ref('stg_date_mentions') }}
    group by document_id

),

joined as (

    select
        documents.document_id,
        coalesce(actor_mentions.actor_mention_count, 0) as actor_mention_count,
        coalesce(actor_mentions.distinct_actor_count, 0) as distinct_actor_count,
        coalesce(statistics.statistic_count, 0) as statistic_count,
        coalesce(statistics.casualty_statistic_count, 0) as casualty_statistic_count,
        coalesce(date_mentions.date_mention_count, 0) as date_mention_count

    from documents
    left join actor_mentions
        on documents.document_id = actor_mentions.document_id
    left join statistics
        on documents.document_id = statistics.document_id
    left join date_mentions
        on documents.document_id = date_mentions.document_id

)

select * from joined
