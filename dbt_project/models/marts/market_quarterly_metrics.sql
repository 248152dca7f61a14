-- The market per quarter, seller type and asset type; same measures and the same quarter
-- rule (first listing) as seller_quarterly_metrics.

with

projects as (
    select * from {{ ref('projects') }}
),

renamed as (
    select
        * exclude (asset_type),
        coalesce(asset_type, '未分类') as asset_type
    from projects
),

final as (
    select
        first_listing_quarter as quarter,
        seller_type,
        asset_type,
        count(distinct seller) as sellers,
        {{ quarterly_measures() }}
    from renamed
    group by first_listing_quarter, seller_type, asset_type
)

select * from final
order by quarter, seller_type, asset_type
