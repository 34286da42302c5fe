with

mentions as (

    select * from {{ ref('stg_actor_mentions') }}

),

actors as (

    select * from {{ ref('stg_actor_gazetteer') }}

),

documents as (

    select * from {{ ref('stg_normalized_documents') }}

),

-- the sentence holding each fact (macros/sentence_of.sql)
sentences as (

    {{ sentence_spans() }}

),

enriched as (

    select
        mentions.mention_id,
        mentions.document_id,
        {{ sentence_id_of('sentences') }} as sentence_id,
        mentions.actor_id,
        mentions.surface_text,
        mentions.char_start,
        mentions.char_end,
        actors.canonical_name,
        actors.actor_type,
        documents.source_file,
        documents.published_date

    from mentions
    left join actors
        on mentions.actor_id = actors.actor_id
    left join documents
        on mentions.document_id = documents.document_id
    left join sentences
        on {{ holds_char_start('mentions') }}

)

select * from enriched
