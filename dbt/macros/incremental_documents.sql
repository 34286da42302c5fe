{#-
    Incremental marts keyed on the article (issue 9): a run rebuilds the rows of the articles
    that are new, changed or gone, and nothing else; the tests of those marts read the same
    rows.

    State lives in the pipeline database's schema dbt_state (never published):
    - current_documents: (document_id, fingerprint) of this run. The fingerprint covers what
      the document-grain marts are made of: the normalized text and every column of the
      article's row, its input file's attributes, the versions of the extraction stages that
      read it (their ledgers raw.done_*; a gazetteer or stage change moves them), the event
      each of its reports belongs to (linking crosses articles: an article that did not change
      changes here when a new article's report joins its event and takes the event's key), and
      the code of every model and (through the var macros_checksum that the Dagster asset
      passes) every macro, so that an edited model redoes every article.
    - built_documents: the fingerprints the marts were last built from, written at the end of
      a `dbt build` or `dbt run` in which every incremental model succeeded and nothing
      failed (a failed run leaves it, so the next run redoes the same articles).
    - changed_documents: the articles whose fingerprint differs from built_documents, and the
      ones built before that are gone.
    - current_events, built_events, changed_events: the same for the marts that gather the
      articles of an event (fct_event, bridge_event_actor). An event's fingerprint covers its
      row of raw.events and the fingerprints of the articles whose reports it holds: it changes
      when its row changes, when an article joins or leaves it (that article's fingerprint
      covers its reports' keys) and when one of its articles changes.

    An incremental model filters its input with only_changed_documents() and deletes the rows
    of changed_documents first (delete_changed_documents(), a pre-hook; the event marts:
    only_changed_events() and delete_changed_events(), with meta incremental_key: event_id):
    an article whose new
    version has no rows of that kind loses its old ones, an article that is gone leaves. The
    first build, `dbt build --full-refresh` (what `python3 tasks.py build --full` runs) and a
    missing table build the whole mart. During an incremental `dbt build`, the generic tests of
    those marts, and of the per-article views they are built from (meta rows_per_document), read
    only the rows of changed_documents (get_where_subquery below): the rows this run wrote.
    So do the singular tests that check one article's rows at a time (dbt/tests/); those that
    compare events with their articles, or files with articles, read whole tables.
-#}

{% macro changed_documents() %}{{ return(target.database ~ '.dbt_state.changed_documents') }}{% endmacro %}

{% macro document_fingerprints() %}
with

ledgers as (

    {% for stage in ['sentences', 'actor_mentions', 'statistics', 'date_mentions', 'claims', 'event_reports'] %}
    select document_id, '{{ stage }}' as stage, version from raw.done_{{ stage }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

versions as (

    select
        document_id,
        string_agg(stage || '=' || version, ',' order by stage) as stage_versions

    from ledgers
    group by document_id

),

-- the events of the article's reports: set by linking, which reads every article (an
-- order-independent checksum with fixed-size state, as for the events below)
event_links as (

    select
        document_id,
        count(*)::varchar || ':' || sum(hash(trigger_char_start, event_key)::hugeint)::varchar as event_keys

    from raw.event_reports
    group by document_id

),

-- the article's own row and its file's, each hashed before any join: no join carries body_text
-- (1.5 GB at 100,000 documents: the hash table of a join that did ran out of memory under the
-- 2 GB cap). concat_ws skips nulls: every value is written, null as the empty string. The text
-- goes in as DuckDB's 64-bit hash, not md5: 0.7 s against 3.7 s for every article's text at
-- 100,000 documents, at every run; a changed text is missed only if both 64-bit values collide,
-- and a DuckDB whose hash differs marks every article changed (rebuilt, never missed).
articles as (

    select
        document_id,
        file_id,
        md5(concat_ws(
            '|',
            hash(body_text)::varchar,
            {% for column in ['title', 'authors', 'publisher', 'published_date', 'source_file', 'article_index',
                              'file_id', 'body_char_start', 'word_count', 'content_sha256', 'language',
                              'content_type', 'extraction_method', 'removed_lines'] %}
            coalesce({{ column }}::varchar, ''){% if not loop.last %},{% endif %}
            {% endfor %}
        )) as article_hash

    from raw.normalized_documents

),

files as (

    select
        file_id,
        md5(concat_ws(
            '|',
            {% for column in ['size_bytes', 'content_sha256', 'encoding', 'decode_errors', 'content_type',
                              'modified_at', 'ingested_at'] %}
            coalesce({{ column }}::varchar, ''){% if not loop.last %},{% endif %}
            {% endfor %}
        )) as file_hash

    from raw.raw_documents

)

select
    articles.document_id,
    md5(concat_ws(
        '|',
        articles.article_hash,
        coalesce(files.file_hash, ''),
        coalesce(versions.stage_versions, ''),
        coalesce(event_links.event_keys, ''),
        '{{ project_code_checksum() }}'
    )) as fingerprint

from articles
left join files
    on articles.file_id = files.file_id
left join versions
    on articles.document_id = versions.document_id
left join event_links
    on articles.document_id = event_links.document_id
{% endmacro %}

{% macro changed_events() %}{{ return(target.database ~ '.dbt_state.changed_events') }}{% endmacro %}

{# needs this run's current_documents #}
{% macro event_fingerprints() %}
with

memberships as (

    select distinct
        event_key,
        document_id

    from raw.event_reports
    where event_key is not null

),

-- an order-independent checksum of the articles' fingerprints with fixed-size state (a sorted
-- list per event ran out of memory under the 2 GB cap at 100,000 documents)
members as (

    select
        memberships.event_key,
        count(*) as member_count,
        sum(hash(current_documents.fingerprint)::hugeint) as member_checksum

    from memberships
    inner join {{ target.database }}.dbt_state.current_documents as current_documents
        on memberships.document_id = current_documents.document_id
    group by memberships.event_key

)

select
    events.event_key as event_id,
    md5(concat_ws(
        '|',
        -- the whole row as DuckDB's 64-bit hash (md5 of its text took 3.2 s against 0.5 s for the
        -- 1.4 million events of 100,000 documents)
        hash(events)::varchar,
        coalesce(members.member_count::varchar, ''),
        coalesce(members.member_checksum::varchar, '')
    )) as fingerprint

from raw.events as events
left join members
    on events.event_key = members.event_key
{% endmacro %}

{% macro project_code_checksum() %}
    {%- set parts = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
            {%- do parts.append(node.unique_id ~ ':' ~ node.checksum.checksum) -%}
        {%- endfor -%}
        {#- macros are not in the graph: the Dagster asset passes a checksum of dbt/macros -#}
        {%- do parts.append('macros:' ~ var('macros_checksum', '')) -%}
    {%- endif -%}
    {{- return(local_md5(parts | sort | join(','))) -}}
{% endmacro %}

{# the state of one kind ('document' or 'event'): this run's fingerprints (current_<kind>s),
   and changed_<kind>s: the ids whose fingerprint differs from built_<kind>s, those built that
   are gone, and those an incremental mart of that kind holds that are gone (mart_rows_gone) #}
{% macro changes_of(kind, fingerprints) %}
    {%- set state = target.database ~ '.dbt_state' -%}
    {%- set id = kind ~ '_id' -%}
        create table if not exists {{ state }}.built_{{ kind }}s ({{ id }} varchar, fingerprint varchar);
        create or replace table {{ state }}.current_{{ kind }}s as {{ fingerprints }};
        create or replace table {{ state }}.changed_{{ kind }}s as
        select current_ids.{{ id }}
        from {{ state }}.current_{{ kind }}s as current_ids
        where not exists (
            select 1 from {{ state }}.built_{{ kind }}s as built_ids
            where built_ids.{{ id }} = current_ids.{{ id }}
                and built_ids.fingerprint = current_ids.fingerprint
        )
        union
        select built_ids.{{ id }}
        from {{ state }}.built_{{ kind }}s as built_ids
        where not exists (
            select 1 from {{ state }}.current_{{ kind }}s as current_ids
            where current_ids.{{ id }} = built_ids.{{ id }}
        )
        {{ mart_rows_gone(id, state ~ '.current_' ~ kind ~ 's') }};
{% endmacro %}

{# on-run-start: what this run has to rebuild #}
{% macro prepare_changed_documents() %}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set state = target.database ~ '.dbt_state' -%}
        create schema if not exists {{ state }};
        {#- first: if a statement below fails, the models find no list of changes (and fail)
            instead of the previous run's -#}
        drop table if exists {{ state }}.changed_documents;
        drop table if exists {{ state }}.changed_events;
        {{ changes_of('document', document_fingerprints()) }}
        {{ changes_of('event', event_fingerprints()) }}
    {%- endif -%}
{% endmacro %}

{# The ids that an incremental mart of this kind of id (`column`: document_id, or event_id for
   the marts with meta incremental_key: event_id) holds and this run has not: gone, though no
   built state lists them. Every such mart is read, not one: a run killed between two marts
   leaves the first rebuilt and the second not, and built state is recorded only at the end of
   a run that built them all. At 100,000 documents a run killed after fct_event had dropped
   events left their rows in bridge_event_actor, which no later state listed, and publishing
   failed on the foreign key; before that an old fct_event's events stayed when it became
   incremental. Marts not built yet are skipped. #}
{% macro mart_rows_gone(column, current) %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'incremental'
        and ((node.config.meta or {}).get('incremental_key') or 'document_id') == column -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema,
                                                identifier=node.alias or node.name) -%}
        {%- if relation is not none %}
        union
        select mart.{{ column }}
        from {{ relation }} as mart
        where not exists (select 1 from {{ current }} as current_ids where current_ids.{{ column }} = mart.{{ column }})
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}

{# on-run-end: the marts now hold this run's articles, unless something failed #}
{% macro record_built_documents(results) %}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set incremental = [] -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- do incremental.append(node.unique_id) -%}
        {%- endfor -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'skipped', 'runtime error']) | list -%}
        {%- set built = results | selectattr('status', 'equalto', 'success')
                                | selectattr('node.unique_id', 'in', incremental) | list -%}
        {%- if not failed and built | length == incremental | length -%}
            create or replace table {{ target.database }}.dbt_state.built_documents as
            select document_id, fingerprint from {{ target.database }}.dbt_state.current_documents;
            create or replace table {{ target.database }}.dbt_state.built_events as
            select event_id, fingerprint from {{ target.database }}.dbt_state.current_events;
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{# This run's changed articles (kind 'document') or events ('event') as the right side of an
   IN: a list of literals when there are at most 20,000 of them, else a subquery. DuckDB pushes a list of constants through the views' joins down to the scans of
   the raw tables, and a subquery it does not: at 100,000 documents, 353 changed articles of
   int_actor_mentions_enriched took 7.4 s with the subquery and 2.2 s with the list, which costs
   the same at 10,000 (a /tmp script over the benchmark's database). Read when the node runs,
   after on-run-start wrote the tables; at parse time (execute false) it is the subquery. #}
{% macro changed_ids(kind='document') %}
    {%- set table = changed_documents() if kind == 'document' else changed_events() -%}
    {%- set subquery = '(select ' ~ kind ~ '_id from ' ~ table ~ ')' -%}
    {%- if not execute -%}{{ return(subquery) }}{%- endif -%}
    {%- set ids = run_query('select ' ~ kind ~ '_id from ' ~ table ~ ' order by 1 limit 20001').columns[0].values() -%}
    {%- if ids | length > 20000 -%}{{ return(subquery) }}{%- endif -%}
    {%- if not ids -%}{{ return('(null)') }}{%- endif -%}
    {%- set quoted = [] -%}
    {%- for id in ids -%}{%- do quoted.append("'" ~ (id | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {{ return('(' ~ quoted | join(', ') ~ ')') }}
{% endmacro %}

{# the where clause of an incremental model's input #}
{% macro only_changed_documents(column='document_id') %}
    {%- if is_incremental() -%}
        where {{ column }} in {{ changed_ids('document') }}
    {%- endif -%}
{% endmacro %}

{# pre-hook of an incremental model #}
{% macro delete_changed_documents() %}
    {%- if is_incremental() -%}
        delete from {{ this }} where document_id in (select document_id from {{ changed_documents() }})
    {%- endif -%}
{% endmacro %}

{# the same two for the marts of events (meta incremental_key: event_id) #}
{% macro only_changed_events(column='event_id') %}
    {%- if is_incremental() -%}
        where {{ column }} in {{ changed_ids('event') }}
    {%- endif -%}
{% endmacro %}

{% macro delete_changed_events() %}
    {%- if is_incremental() -%}
        delete from {{ this }} where event_id in (select event_id from {{ changed_events() }})
    {%- endif -%}
{% endmacro %}

{# the condition under which the tests on `relation` read only this run's rows, or none: an
   incremental mart (its incremental_key: document_id, or event_id for the marts of events), or a
   view whose rows for an article depend on what the article's fingerprint covers (meta
   rows_per_document: the staging and intermediate views of the per-article stages, the event
   reports with their keys). An unchanged article's or event's rows are the ones tested when it
   last changed. The singular tests of per-article or per-event rows read tested_rows(ref(...))
   for the same reason. #}
{% macro changed_rows_condition(relation) %}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and (node.config.materialized == 'incremental' or (node.config.meta or {}).get('rows_per_document'))
        and (node.alias or node.name) == relation.identifier and node.schema == relation.schema -%}
        {%- set key = (node.config.meta or {}).get('incremental_key') -%}
        {%- if node.config.materialized == 'incremental' and key == 'event_id' -%}
            {{ return('event_id in ' ~ changed_ids('event')) }}
        {%- endif -%}
        {{ return('document_id in ' ~ changed_ids('document')) }}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}

{# what a singular test of per-article or per-event rows reads (dbt/tests/): `relation`, or
   during an incremental build this run's rows of it, as the generic tests read them #}
{% macro tested_rows(relation) -%}
    {%- set condition = changed_rows_condition(relation) -%}
    {%- if condition -%}
        {{- return('(select * from ' ~ relation ~ ' where ' ~ condition ~ ')') -}}
    {%- else -%}
        {{- return(relation) -}}
    {%- endif -%}
{%- endmacro %}

{# dbt's get_where_subquery (the relation a generic test reads), with this run's rows only
   (changed_rows_condition) during an incremental build #}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set changed = changed_rows_condition(relation) -%}
    {%- if changed -%}{%- do conditions.append(changed) -%}{%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
