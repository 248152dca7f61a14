-- Per quarter, the seller marts must add up to the projects they summarise.
with

metrics as (
    select
        quarter,
        sum(listings) as listings,
        sum(unpaid_total_yuan) as unpaid_total_yuan,
        sum(unpaid_principal_yuan) as unpaid_principal_yuan,
        sum(borrowers) as borrowers,
        sum(loans) as loans,
        sum(starting_price_yuan) as starting_price_yuan,
        sum(sold_listings) as sold_listings
    from {{ ref('seller_quarterly_metrics') }}
    group by quarter
),

projects as (
    select
        first_listing_quarter as quarter,
        count(*) as listings,
        sum(unpaid_total_yuan) as unpaid_total_yuan,
        sum(unpaid_principal_yuan) as unpaid_principal_yuan,
        sum(borrowers) as borrowers,
        sum(loans) as loans,
        sum(starting_price_yuan) as starting_price_yuan,
        count(*) filter (where sold) as sold_listings
    from {{ ref('projects') }}
    group by first_listing_quarter
)

select
    coalesce(metrics.quarter, projects.quarter) as quarter,
    metrics.listings as metric_listings,
    projects.listings as project_listings,
    metrics.unpaid_total_yuan as metric_unpaid_total_yuan,
    projects.unpaid_total_yuan as project_unpaid_total_yuan
from metrics
full outer join projects on metrics.quarter is not distinct from projects.quarter
where metrics.listings is distinct from projects.listings
    or metrics.unpaid_total_yuan is distinct from projects.unpaid_total_yuan
    or metrics.unpaid_principal_yuan is distinct from projects.unpaid_principal_yuan
    or metrics.borrowers is distinct from projects.borrowers
    or metrics.loans is distinct from projects.loans
    or metrics.starting_price_yuan is distinct from projects.starting_price_yuan
    or metrics.sold_listings is distinct from projects.sold_listings
