-- One row per project (seller + project key): a listing, its relistings (（重新挂牌）) and
-- repeated announcements of the same title merged. Yindeng counts a relisted project once,
-- at its first listing date; the figures are those of the latest announcement.

with

listings as (
    select * from {{ ref('stg_listings') }}
),

sales as (
    select * from {{ ref('int_result_matches') }}
    where project_id is not null
),

announcements as (
    select
        project_id,
        min(listing_date) as first_listing_date,
        max(listing_date) as latest_listing_date,
        count(*) as announcements,
        count(*) filter (where is_relisting) as relisting_announcements
    from listings
    group by project_id
),

-- latest publication wins; ties go to the later auction, then the higher hash (arbitrary
-- but stable, so reruns agree)
latest as (
    select *
    from listings
    qualify row_number() over (
        partition by project_id
        order by listing_date desc nulls last, bid_date desc nulls last, sha256 desc
    ) = 1
),

final as (
    select
        latest.project_id,
        latest.seller,
        latest.parent_institution,
        latest.seller_type,
        latest.seller_known,
        latest.project_key,
        latest.project_name,
        latest.asset_type,
        latest.batch_year,
        latest.batch_no,
        announcements.first_listing_date,
        {{ quarter_label('announcements.first_listing_date') }} as first_listing_quarter,
        announcements.latest_listing_date,
        announcements.announcements,
        announcements.relisting_announcements,
        announcements.relisting_announcements > 0 as relisted,
        latest.sha256 as latest_sha256,
        latest.title as latest_title,
        latest.transaction_base_date,
        latest.loans,
        latest.borrowers,
        latest.unpaid_principal_yuan,
        latest.unpaid_interest_yuan,
        latest.unpaid_total_yuan,
        latest.other_fees_yuan,
        latest.weighted_avg_overdue_days,
        latest.max_single_borrower_unpaid_yuan,
        latest.avg_borrower_unpaid_yuan,
        latest.weighted_avg_borrower_age,
        latest.weighted_avg_credit_limit_yuan,
        latest.registration_deadline,
        latest.bid_date,
        latest.transfer_method,
        latest.bidding_method,
        latest.starting_price_yuan,
        latest.bid_increment_yuan,
        latest.starting_price_yuan / nullif(latest.unpaid_total_yuan, 0) as starting_price_ratio,
        sales.result_id is not null as sold,
        sales.buyer,
        sales.project_code,
        sales.agreement_signed_date,
        sales.result_sha256,
        sales.match_rank as result_match_rank,
        -- new columns last: how seller_type was found, and the buyer's type
        latest.seller_type_source,
        sales.buyer_type
    from latest
    inner join announcements using (project_id)
    left join sales using (project_id)
)

select * from final
