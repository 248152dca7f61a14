-- The market mart and the seller mart cut the same projects two ways: per quarter they agree.
with

market as (
    select
        quarter,
        sum(listings) as listings,
        sum(unpaid_total_yuan) as unpaid_total_yuan,
        sum(starting_price_yuan) as starting_price_yuan,
        sum(sold_listings) as sold_listings
    from {{ ref('market_quarterly_metrics') }}
    group by quarter
),

sellers as (
    select
        quarter,
        sum(listings) as listings,
        sum(unpaid_total_yuan) as unpaid_total_yuan,
        sum(starting_price_yuan) as starting_price_yuan,
        sum(sold_listings) as sold_listings
    from {{ ref('seller_quarterly_metrics') }}
    group by quarter
)

select
    coalesce(market.quarter, sellers.quarter) as quarter,
    market.listings as market_listings,
    sellers.listings as seller_listings,
    market.unpaid_total_yuan as market_unpaid_total_yuan,
    sellers.unpaid_total_yuan as seller_unpaid_total_yuan
from market
full outer join sellers on market.quarter is not distinct from sellers.quarter
where market.listings is distinct from sellers.listings
    or market.unpaid_total_yuan is distinct from sellers.unpaid_total_yuan
    or market.starting_price_yuan is distinct from sellers.starting_price_yuan
    or market.sold_listings is distinct from sellers.sold_listings
