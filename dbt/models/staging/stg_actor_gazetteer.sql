with

source as (

    select * from {{ source('raw', 'actor_gazetteer') }}

),

renamed as (

    select
        -- ids
        cast(actor_id as varchar) as actor_id,
        cast(actor_key as varchar) as actor_key,

        -- attributes
        cast(canonical_name as varchar) as canonical_name,
        cast(actor_type as varchar) as actor_type,
        nullif(upper(trim(cast(country_code as varchar))), '') as country_code,
        cast(aliases as varchar[]) as aliases

    from source

)

select * from renamed
