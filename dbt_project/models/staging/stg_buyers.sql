-- One row per buyer name seen in a result, with its canonical name and type:
--   canonical  an explicit alias (seeds/buyer_aliases.csv: misspellings, former names) wins;
--              then a reference buyer or alias the name is, or is a branch (…分公司) of
--              (seeds/buyers.csv, matched on the institution key); else the name as published.
--   type       全国性AMC, 地方AMC, 金融资产投资公司 or 其他 from seeds/buyers.csv for the canonical
--              name (source 'reference'); else by rule (…金融资产投资… → 金融资产投资公司);
--              else 未分类 (source 'none'), listed by the warn test assert_all_buyers_classified.

with

names as (
    select {{ normalise_name('buyer') }} as buyer_as_published, count(*) as result_documents
    from {{ source('raw', 'results') }}
    where buyer is not null
    group by 1
),

keyed as (
    select
        buyer_as_published,
        result_documents,
        {{ institution_key('buyer_as_published') }} as buyer_key
    from names
),

aliases as (
    select {{ normalise_name('alias') }} as alias, buyer
    from {{ ref('buyer_aliases') }}
),

buyers as (
    select buyer, buyer_type, {{ institution_key('buyer') }} as reference_key
    from {{ ref('buyers') }}
),

reference as (
    select reference_key, buyer, 0 as priority from buyers
    union all
    select {{ institution_key('alias') }} as reference_key, buyer, 1 as priority from aliases
),

alias_matches as (
    select keyed.buyer_as_published, aliases.buyer
    from keyed
    inner join aliases on aliases.alias = keyed.buyer_as_published
),

-- the longest reference name the buyer is, or is a branch of
reference_matches as (
    select keyed.buyer_as_published, reference.buyer
    from keyed
    inner join reference
        on {{ is_same_or_unit_of('keyed.buyer_key', 'reference.reference_key') }}
    qualify row_number() over (
        partition by keyed.buyer_as_published
        order by length(reference.reference_key) desc, reference.priority, reference.buyer
    ) = 1
),

canonical as (
    select
        keyed.buyer_as_published,
        keyed.result_documents,
        coalesce(alias_matches.buyer, reference_matches.buyer, keyed.buyer_as_published) as buyer
    from keyed
    left join alias_matches using (buyer_as_published)
    left join reference_matches using (buyer_as_published)
),

final as (
    select
        canonical.buyer_as_published,
        canonical.buyer,
        coalesce(
            buyers.buyer_type,
            case
                when {{ institution_key('canonical.buyer') }} like '%金融资产投资%'
                    then '金融资产投资公司'
            end,
            '未分类'
        ) as buyer_type,
        case
            when buyers.buyer is not null then 'reference'
            when {{ institution_key('canonical.buyer') }} like '%金融资产投资%' then 'rule'
            else 'none'
        end as buyer_type_source,
        canonical.result_documents
    from canonical
    left join buyers on buyers.reference_key = {{ institution_key('canonical.buyer') }}
)

select * from final
