-- Per seller and quarter, projects counted in the quarter of their FIRST listing (as
-- Yindeng's statistics count them), with the latest figures of each project.

with

projects as (
    select * from {{ ref('projects') }}
),

final as (
    select
        seller,
        parent_institution,
        seller_type,
        seller_known,
        first_listing_quarter as quarter,
        {{ quarterly_measures() }},
        -- how seller_type was found: seed, reference, rule or none (new columns go last)
        seller_type_source
    from projects
    group by
        seller, parent_institution, seller_type, seller_known, seller_type_source,
        first_listing_quarter
)

select * from final
order by quarter, seller
