-- One row per seller name seen in any listing or result, classified in this order:
--   seed       an explicit row of seeds/sellers.csv (matched on the institution key);
--   reference  the parent institution found in the reference lists (seeds/institutions.csv,
--              the seed's head offices, and former names mapped to the current institution):
--              the seller is the institution itself or a unit of it (…分行/支行/信用卡中心);
--   rule       the name says what it is (…农村商业银行/农村合作银行/农村信用(合作)联社/农信/
--              村镇银行 → 农商行/农信, …消费金融… → 消费金融公司, …银行（中国）有限公司 → 外资行,
--              …市/州商业银行 → 城商行, trusts, leasing, auto finance → 其他); a unit's parent is
--              the name before its unit suffix;
--   none       未分类, kept and listed by the warn test assert_all_sellers_classified.

with

listing_sellers as (
    select {{ normalise_name('seller') }} as seller, count(*) as listing_documents
    from {{ source('raw', 'listings') }}
    where seller is not null
    group by 1
),

result_sellers as (
    select {{ normalise_name('seller') }} as seller, count(*) as result_documents
    from {{ source('raw', 'results') }}
    where seller is not null
    group by 1
),

-- the documents each name appears in, so the unclassified list says what it weighs
names as (
    select
        seller,
        coalesce(listing_sellers.listing_documents, 0) as listing_documents,
        coalesce(result_sellers.result_documents, 0) as result_documents
    from listing_sellers
    full outer join result_sellers using (seller)
),

keyed as (
    select
        seller,
        listing_documents,
        result_documents,
        {{ institution_key('seller') }} as seller_key,
        -- the head office part of a unit's name: everything up to the last 银行/联社/信用社/公司
        -- before a unit suffix; the name itself when it names no unit
        coalesce(
            nullif(
                regexp_extract(
                    seller, '^(.*(银行|联社|信用社|公司))(.*)' || {{ unit_suffix_pattern() }}, 1
                ),
                ''
            ),
            seller
        ) as rule_parent
    from names
),

seed as (
    select
        {{ institution_key('seller') }} as seller_key,
        parent_institution,
        seller_type
    from {{ ref('sellers') }}
),

institutions as (
    select * from {{ ref('institutions') }}
),

reference as (
    -- the seed's head offices first: they carry the names the 2023 marts use
    select
        {{ institution_key('seller') }} as reference_key,
        seller as institution,
        seller_type,
        0 as priority
    from {{ ref('sellers') }}
    where seller = parent_institution

    union all

    select
        {{ institution_key('institution') }} as reference_key,
        institution,
        seller_type,
        1 as priority
    from institutions

    union all

    -- a former name leads to the current institution
    select
        {{ institution_key('former.former_name') }} as reference_key,
        institutions.institution,
        institutions.seller_type,
        2 as priority
    from {{ ref('institution_former_names') }} as former
    inner join institutions on institutions.institution = former.institution
),

seed_matches as (
    select keyed.seller, seed.parent_institution, seed.seller_type
    from keyed
    inner join seed on seed.seller_key = keyed.seller_key
    qualify row_number() over (
        partition by keyed.seller order by seed.parent_institution, seed.seller_type
    ) = 1
),

-- the longest reference name the seller is, or is a unit of
reference_matches as (
    select keyed.seller, reference.institution as parent_institution, reference.seller_type
    from keyed
    inner join reference
        on {{ is_same_or_unit_of('keyed.seller_key', 'reference.reference_key') }}
    qualify row_number() over (
        partition by keyed.seller
        order by length(reference.reference_key) desc, reference.priority, reference.institution
    ) = 1
),

rule_matches as (
    select
        seller,
        rule_parent as parent_institution,
        case
            when regexp_matches(
                seller_key,
                '农村商业银行|农商银行|农商行|农村合作银行|农村信用合作联社|农村信用联社|农村信用社'
                || '|信用合作联社|农信|村镇银行|农村资金互助社'
            ) then '农商行/农信'
            when seller_key like '%消费金融%' then '消费金融公司'
            when seller_key like '%银行（中国）%' then '外资行'
            when regexp_matches(seller_key, '[市州]商业银行') then '城商行'
            when regexp_matches(seller_key, '信托|金融租赁|汽车金融|财务公司|小额贷款') then '其他'
        end as seller_type
    from keyed
),

final as (
    select
        keyed.seller,
        coalesce(
            seed_matches.parent_institution,
            reference_matches.parent_institution,
            keyed.rule_parent
        ) as parent_institution,
        coalesce(
            seed_matches.seller_type,
            reference_matches.seller_type,
            rule_matches.seller_type,
            '未分类'
        ) as seller_type,
        case
            when seed_matches.seller is not null then 'seed'
            when reference_matches.seller is not null then 'reference'
            when rule_matches.seller_type is not null then 'rule'
            else 'none'
        end as seller_type_source,
        keyed.listing_documents,
        keyed.result_documents
    from keyed
    left join seed_matches using (seller)
    left join reference_matches using (seller)
    left join rule_matches using (seller)
)

select
    *,
    seller_type_source <> 'none' as seller_known
from final
