-- Every sale is in the league exactly once, and the matched ones are the sold projects.
with

league as (
    select
        sum(projects_bought) as projects_bought,
        sum(projects_with_listing) as projects_with_listing,
        sum(unpaid_total_yuan) as unpaid_total_yuan
    from {{ ref('buyer_league') }}
),

sales as (
    select count(*) as projects_bought from {{ ref('int_result_matches') }}
),

sold as (
    select
        count(*) as projects_with_listing,
        sum(unpaid_total_yuan) as unpaid_total_yuan
    from {{ ref('projects') }}
    where sold
)

select *
from league, sales, sold
where coalesce(league.projects_bought, 0) <> sales.projects_bought
    or coalesce(league.projects_with_listing, 0) <> sold.projects_with_listing
    or league.unpaid_total_yuan is distinct from sold.unpaid_total_yuan
