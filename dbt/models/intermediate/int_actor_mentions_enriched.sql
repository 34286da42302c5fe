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

-- sentences of an article do not overlap (assert_dim_sentence_spans_do_not_overlap), so the
-- range join finds at most one sentence per fact: the one whose span holds its char_start
sentences as (

    select
        sentence_id,
        document_id,
        char_start,
        char_end

    from {{ ref('stg_sentences') }}

),

enriched as (

    select
        mentions.mention_id,
        mentions.document_id,
        sentences.sentence_id,
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
        on
            mentions.document_id = sentences.document_id
            and mentions.char_start >= sentences.char_start
            and mentions.char_start < sentences.char_end

)

select * from enriched
