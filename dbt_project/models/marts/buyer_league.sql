-- Buyers (受让方, mostly AMCs) ranked by projects bought. A sale whose listing is not in the
-- data still counts as a project bought; its unpaid total is unknown, so it is counted
-- separately and adds nothing to the money columns.

with

sales as (
    select * from {{ ref('int_result_matches') }}
),

projects as (
    select * from {{ ref('projects') }}
),

joined as (
    select
        coalesce(sales.buyer, '未披露') as buyer,
        -- a result naming no buyer has no buyer type either
        coalesce(sales.buyer_type, '未披露') as buyer_type,
        coalesce(sales.buyer_type_source, 'none') as buyer_type_source,
        sales.seller,
        sales.agreement_signed_date,
        sales.project_id is not null as listing_matched,
        projects.unpaid_principal_yuan,
        projects.unpaid_total_yuan,
        projects.borrowers,
        projects.loans,
        projects.starting_price_yuan
    from sales
    left join projects using (project_id)
),

aggregated as (
    select
        buyer,
        count(*) as projects_bought,
        count(*) filter (where listing_matched) as projects_with_listing,
        count(*) filter (where not listing_matched) as projects_without_listing,
        cast(sum(unpaid_total_yuan) as decimal(18, 2)) as unpaid_total_yuan,
        cast(sum(unpaid_principal_yuan) as decimal(18, 2)) as unpaid_principal_yuan,
        cast(sum(borrowers) as bigint) as borrowers,
        cast(sum(loans) as bigint) as loans,
        cast(sum(starting_price_yuan) as decimal(18, 2)) as starting_price_yuan,
        count(distinct seller) as sellers,
        min(agreement_signed_date) as first_agreement_date,
        max(agreement_signed_date) as last_agreement_date,
        -- one type per canonical buyer (stg_buyers types the canonical name); new columns last
        any_value(buyer_type) as buyer_type,
        any_value(buyer_type_source) as buyer_type_source
    from joined
    group by buyer
),

final as (
    select
        rank() over (order by projects_bought desc) as rank_by_projects,
        rank() over (order by unpaid_total_yuan desc nulls last) as rank_by_unpaid_total,
        *
    from aggregated
)

select * from final
order by rank_by_projects, buyer
