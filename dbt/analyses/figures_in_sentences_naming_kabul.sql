-- Example analyst question: which figures come from a sentence that names
-- Kabul? A sentence names Kabul when it holds a mention of a gazetteer actor
-- whose canonical name has the word Kabul (Kabul, Kabul International
-- Airport, whose aliases include "Kabul airport" and "HKIA").
-- Compile with `dbt compile --select figures_in_sentences_naming_kabul`.

with

kabul_actors as (

    select
        actor_id,
        canonical_name

    from {{ ref('dim_actor') }}
    where regexp_matches(canonical_name, '\bKabul\b')

),

kabul_sentences as (

    select
        mentions.sentence_id,
        list(distinct kabul_actors.canonical_name order by kabul_actors.canonical_name) as kabul_names

    from {{ ref('fct_actor_mention') }} as mentions
    inner join kabul_actors
        on mentions.actor_id = kabul_actors.actor_id
    group by mentions.sentence_id

),

statistics as (

    select * from {{ ref('fct_statistic') }}

),

sentences as (

    select * from {{ ref('dim_sentence') }}

),

documents as (

    select * from {{ ref('dim_document') }}

),

final as (

    select
        statistics.statistic_id,
        documents.source_file,
        statistics.statistic_type,
        statistics.casualty_type,
        statistics.value,
        statistics.qualifier,
        statistics.subject,
        statistics.surface_text,
        statistics.char_start,
        kabul_sentences.kabul_names,
        sentences.sentence_text

    from statistics
    inner join kabul_sentences
        on statistics.sentence_id = kabul_sentences.sentence_id
    inner join sentences
        on statistics.sentence_id = sentences.sentence_id
    inner join documents
        on statistics.document_id = documents.document_id

)

select * from final
order by source_file asc, char_start asc, statistic_id asc
