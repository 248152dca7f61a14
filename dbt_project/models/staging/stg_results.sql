with

source as (
    select * from {{ source('raw', 'results') }}
),

-- every seller and buyer name classified once
sellers as (
    select * from {{ ref('stg_sellers') }}
),

buyers as (
    select * from {{ ref('stg_buyers') }}
),

-- the index date of the announcement: a fallback when the PDF footer date was not parsed
documents as (
    select sha256, min(list_date) as list_date
    from {{ source('raw', 'documents') }}
    where doc_type = 'result'
    group by sha256
),

renamed as (
    select
        source.sha256,
        source.parser_version,
        source.parsed_at,
        source.title,
        source.project_name,
        {{ project_key('source.project_name') }} as project_key,
        source.project_code,
        {{ normalise_name('source.seller') }} as seller,
        {{ normalise_name('source.buyer') }} as buyer_as_published,
        source.agreement_signed_date,
        source.publication_date,
        source.unread_fields,
        coalesce(source.publication_date, documents.list_date) as result_date
    from source
    left join documents on documents.sha256 = source.sha256
),

final as (
    select
        md5(renamed.seller || '|' || renamed.project_key) as result_id,
        renamed.sha256,
        renamed.parser_version,
        renamed.parsed_at,
        renamed.title,
        renamed.project_name,
        renamed.project_key,
        renamed.project_code,
        renamed.seller,
        coalesce(sellers.parent_institution, renamed.seller) as parent_institution,
        coalesce(sellers.seller_type, '未分类') as seller_type,
        coalesce(sellers.seller_type_source, 'none') as seller_type_source,
        coalesce(sellers.seller_known, false) as seller_known,
        -- one buyer under one name: renamed companies, branches and misspellings map to the
        -- current name of the company
        coalesce(buyers.buyer, renamed.buyer_as_published) as buyer,
        renamed.buyer_as_published,
        buyers.buyer_type,
        buyers.buyer_type_source,
        renamed.agreement_signed_date,
        renamed.publication_date,
        renamed.unread_fields,
        renamed.result_date,
        {{ quarter_label('renamed.result_date') }} as quarter
    from renamed
    left join sellers on sellers.seller = renamed.seller
    left join buyers on buyers.buyer_as_published = renamed.buyer_as_published
)

select * from final
