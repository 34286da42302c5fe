-- A rejected file (either stage) yields no article: no source_file is both in
-- quarantined_documents and in dim_document. Returns the files that are in both.

with

quarantined as (

    select
        source_file,
        stage,
        reason

    from {{ ref('quarantined_documents') }}

),

documents as (

    select distinct source_file
    from {{ ref('dim_document') }}

)

select
    quarantined.source_file,
    quarantined.stage,
    quarantined.reason

from quarantined
inner join documents
    on quarantined.source_file = documents.source_file
