-- One row per sale: each result (the same result announced twice counts once), with the
-- listed project it belongs to, or a null project_id when its listing is not in the data
-- (e.g. a project listed before the crawl window).

with

results as (
    select * from {{ ref('stg_results') }}
),

listings as (
    select * from {{ ref('stg_listings') }}
),

-- the latest announcement of each result stands for it
deduplicated as (
    select *
    from results
    qualify row_number() over (
        partition by result_id
        order by result_date desc nulls last, agreement_signed_date desc nulls last, sha256 desc
    ) = 1
),

listed_projects as (
    select distinct project_id, project_key, seller, parent_institution
    from listings
),

-- a result belongs to a listed project with the same key and the same seller, or a seller
-- that differs only by branch naming (same parent, or one name extends the other)
candidates as (
    select
        deduplicated.result_id,
        listed_projects.project_id,
        case
            when deduplicated.seller = listed_projects.seller then 1
            when deduplicated.parent_institution = listed_projects.parent_institution then 2
            else 3
        end as match_rank
    from deduplicated
    inner join listed_projects
        on listed_projects.project_key = deduplicated.project_key
    where deduplicated.seller = listed_projects.seller
        or deduplicated.parent_institution = listed_projects.parent_institution
        or starts_with(listed_projects.seller, deduplicated.seller)
        or starts_with(deduplicated.seller, listed_projects.seller)
),

best_project_per_result as (
    select *
    from candidates
    qualify row_number() over (
        partition by result_id order by match_rank, project_id
    ) = 1
),

-- a project is sold once: should two results claim it, the closer seller name wins and the
-- other stays a sale without a matched listing (the warn test on projects shows it)
best_result_per_project as (
    select best_project_per_result.*
    from best_project_per_result
    inner join deduplicated using (result_id)
    qualify row_number() over (
        partition by best_project_per_result.project_id
        order by
            best_project_per_result.match_rank,
            deduplicated.agreement_signed_date desc nulls last,
            deduplicated.sha256 desc
    ) = 1
),

final as (
    select
        deduplicated.result_id,
        deduplicated.sha256 as result_sha256,
        deduplicated.project_key,
        deduplicated.project_name,
        deduplicated.project_code,
        deduplicated.seller,
        deduplicated.parent_institution,
        deduplicated.seller_type,
        deduplicated.buyer,
        deduplicated.buyer_type,
        deduplicated.buyer_type_source,
        deduplicated.agreement_signed_date,
        deduplicated.result_date,
        deduplicated.quarter as result_quarter,
        best_result_per_project.project_id,
        best_result_per_project.match_rank,
        best_project_per_result.project_id as claimed_project_id
    from deduplicated
    left join best_result_per_project using (result_id)
    left join best_project_per_result using (result_id)
)

select * from final
