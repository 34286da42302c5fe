{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_documents() }}",
    )
}}

with

article_reports as (

    select * from {{ ref('fct_event_report') }}
    {{ only_changed_documents() }}

),

reports as (

    select * from article_reports
    where event_id is not null

),

article_statistics as (

    select * from {{ ref('fct_statistic') }}
    {{ only_changed_documents() }}

),

casualty_statistics as (

    select
        statistic_id,
        sentence_id,
        char_start

    from article_statistics
    where statistic_type = 'casualty'

),

sentences as (

    select * from {{ ref('dim_sentence') }}
    {{ only_changed_documents() }}

),

-- an article's figure for the event is the largest any of its reports gives (an article
-- restating "six killed ... the six victims" reports one toll), as events/tolls.py has it;
-- the qualifier is that report's (the earliest one on a tie)
document_tolls as (

    select
        event_id,
        document_id,
        max(killed) as killed,
        max(injured) as injured,
        first(killed_qualifier order by killed desc, trigger_char_start asc) filter (
            where killed is not null
        ) as killed_qualifier,
        first(injured_qualifier order by injured desc, trigger_char_start asc) filter (
            where injured is not null
        ) as injured_qualifier,
        count(*) as n_reports

    from reports
    group by
        event_id,
        document_id

),

ranked_reports as (

    select
        event_id,
        document_id,
        sentence_id,
        row_number() over (
            partition by event_id, document_id
            order by trigger_char_start
        ) as report_rank

    from reports

),

first_sentences as (

    select
        ranked_reports.event_id,
        ranked_reports.document_id,
        ranked_reports.sentence_id,
        sentences.char_start as sentence_char_start,
        sentences.char_end as sentence_char_end

    from ranked_reports
    inner join sentences
        on ranked_reports.sentence_id = sentences.sentence_id
    where ranked_reports.report_rank = 1

),

reporting_sentences as (

    select distinct
        event_id,
        document_id,
        sentence_id

    from reports

),

sentence_statistics as (

    select
        reporting_sentences.event_id,
        reporting_sentences.document_id,
        list(
            casualty_statistics.statistic_id
            order by casualty_statistics.char_start, casualty_statistics.statistic_id
        ) as statistic_ids

    from reporting_sentences
    inner join casualty_statistics
        on reporting_sentences.sentence_id = casualty_statistics.sentence_id
    group by
        reporting_sentences.event_id,
        reporting_sentences.document_id

),

final as (

    select
        document_tolls.event_id,
        document_tolls.document_id,
        document_tolls.killed,
        document_tolls.injured,
        document_tolls.killed_qualifier,
        document_tolls.injured_qualifier,
        coalesce(sentence_statistics.statistic_ids, cast([] as varchar[])) as statistic_ids,
        first_sentences.sentence_id,
        first_sentences.sentence_char_start,
        first_sentences.sentence_char_end,
        document_tolls.n_reports

    from document_tolls
    left join first_sentences
        on
            document_tolls.event_id = first_sentences.event_id
            and document_tolls.document_id = first_sentences.document_id
    left join sentence_statistics
        on
            document_tolls.event_id = sentence_statistics.event_id
            and document_tolls.document_id = sentence_statistics.document_id

)

select * from final
