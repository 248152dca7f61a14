-- What a buyer can still act on at build time ("as of"): every project whose latest listing
-- still takes registrations (status 'open': its 竞价报名截止时间 is after as_of), plus the
-- undecided ones: registration closed but the auction not over yet ('auction_pending'), and
-- the auction over with no result yet ('awaiting_result', for var awaiting_result_days after
-- the bid date). A project with a result signed by as_of is decided and left out.
--
-- "Now" is var as_of ('YYYY-MM-DD' = the start of that day, or 'YYYY-MM-DD HH:MM'), Beijing
-- wall-clock time like the deadlines; the dbt asset's run config (as_of) sets it. Without it,
-- the database's current time in Asia/Shanghai, taken once per build.
--
-- var known_then (default false): also hide listings published after as_of, i.e. answer as a
-- buyer saw it that day (`npl open --as-of` does so). At build time as_of is now and every
-- listing in the warehouse is already published, so the two agree.
--
-- This file is also rendered by `npl open --as-of` against the serving file (npl_assets/
-- openings/query.py), so it may use only ref() and var(): no macros, no source().
{%- set as_of = var('as_of', none) %}
{%- set awaiting_result_days = var('awaiting_result_days', 60) | int %}
{%- set known_then = var('known_then', false) %}

with

clock as (
    select
    {%- if as_of %}
        cast('{{ as_of | replace("'", "''") }}' as timestamp) as as_of
    {%- else %}
        cast(now() at time zone 'Asia/Shanghai' as timestamp) as as_of
    {%- endif %}
),

published as (
    select listings.*
    from {{ ref('stg_listings') }} as listings
    cross join clock
    {%- if known_then %}
    -- only what had been published by then (an unknown date cannot be ruled out)
    where listings.listing_date is null or listings.listing_date <= cast(clock.as_of as date)
    {%- endif %}
),

-- the same choice as projects.sql: latest publication, then later auction, then higher hash
latest as (
    select *
    from published
    qualify row_number() over (
        partition by project_id
        order by listing_date desc nulls last, bid_date desc nulls last, sha256 desc
    ) = 1
),

project_facts as (
    select * from {{ ref('projects') }}
),

classified as (
    select
        latest.*,
        clock.as_of,
        -- a result signed after as_of was not known then
        coalesce(projects.sold and projects.agreement_signed_date <= cast(clock.as_of as date), false)
            as decided,
        case
            when latest.registration_deadline > clock.as_of then 'open'
            when coalesce(
                latest.auction_end, cast(latest.bid_date as timestamp) + interval 1 day
            ) > clock.as_of then 'auction_pending'
            when latest.bid_date >= cast(clock.as_of as date) - {{ awaiting_result_days }}
                then 'awaiting_result'
        end as status
    from latest
    cross join clock
    left join project_facts as projects on projects.project_id = latest.project_id
),

final as (
    select
        classified.as_of,
        classified.status,
        classified.project_id,
        classified.project_name,
        classified.seller,
        projects.parent_institution,
        projects.seller_type,
        classified.asset_type,
        classified.unpaid_principal_yuan,
        classified.unpaid_interest_yuan,
        classified.unpaid_total_yuan,
        classified.borrowers,
        classified.loans,
        classified.weighted_avg_overdue_days,
        classified.starting_price_yuan,
        -- null where the price is not disclosed (every listing from 2025-10-27 on)
        classified.starting_price_yuan / nullif(classified.unpaid_total_yuan, 0)
            as starting_price_ratio,
        classified.bid_increment_yuan,
        classified.registration_deadline,
        classified.bid_date,
        classified.auction_start,
        classified.auction_end,
        -- whole days from as_of's date to the deadline's (0: the deadline is today)
        date_diff(
            'day', cast(classified.as_of as date), cast(classified.registration_deadline as date)
        ) as days_left,
        classified.publication_date,
        classified.listing_date,
        projects.first_listing_date,
        projects.announcements,
        projects.relisted,
        classified.is_relisting,
        classified.sha256 as listing_sha256,
        classified.title,
        classified.announcement_url,
        classified.announcement_pdf_url
    from classified
    left join project_facts as projects on projects.project_id = classified.project_id
    where classified.status is not null and not classified.decided
)

select * from final
