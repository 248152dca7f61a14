{#- The measures shared by seller_quarterly_metrics and market_quarterly_metrics, aggregated
    over rows of `projects` (one row per project, latest figures).

    Money sums stay DECIMAL(18,2). Ratios are ratios of sums over the projects that report the
    numerator, never averages of per-project ratios. Averages are weighted by unpaid total,
    as Yindeng's own 注1 defines them. -#}
{% macro quarterly_measures() -%}
    count(*) as listings,
    cast(sum(announcements) as bigint) as announcements,
    count(*) filter (where relisted) as relisted_listings,
    cast(sum(unpaid_principal_yuan) as decimal(18, 2)) as unpaid_principal_yuan,
    cast(sum(unpaid_interest_yuan) as decimal(18, 2)) as unpaid_interest_yuan,
    cast(sum(unpaid_total_yuan) as decimal(18, 2)) as unpaid_total_yuan,
    cast(sum(borrowers) as bigint) as borrowers,
    cast(sum(loans) as bigint) as loans,
    cast(round(
        -- days x yuan outgrows DECIMAL(18,2) at scale: the product is taken at DECIMAL(38,4)
        sum(cast(weighted_avg_overdue_days as decimal(38, 4)) * unpaid_total_yuan)
            filter (where weighted_avg_overdue_days is not null)
        / nullif(sum(unpaid_total_yuan) filter (where weighted_avg_overdue_days is not null), 0),
        2
    ) as decimal(12, 2)) as weighted_avg_overdue_days,
    count(*) filter (
        where weighted_avg_overdue_days is not null and unpaid_total_yuan is not null
    ) as listings_with_overdue_days,
    cast(
        sum(unpaid_total_yuan) filter (where weighted_avg_overdue_days is not null)
        as double
    ) / nullif(cast(sum(unpaid_total_yuan) as double), 0) as overdue_days_coverage,
    cast(sum(starting_price_yuan) as decimal(18, 2)) as starting_price_yuan,
    cast(sum(starting_price_yuan) filter (where unpaid_total_yuan is not null) as double)
        / nullif(cast(sum(unpaid_total_yuan) filter (where starting_price_yuan is not null) as double), 0)
        as starting_price_ratio,
    -- the ratio's denominator, so that rollups (the report) stay exact
    cast(sum(unpaid_total_yuan) filter (where starting_price_yuan is not null) as decimal(18, 2))
        as starting_price_base_yuan,
    count(*) filter (where starting_price_yuan is not null) as listings_with_starting_price,
    count(*) filter (where starting_price_yuan is null) as listings_without_starting_price,
    count(*) filter (where sold) as sold_listings,
    cast(sum(unpaid_total_yuan) filter (where sold) as decimal(18, 2)) as sold_unpaid_total_yuan
{%- endmacro %}
