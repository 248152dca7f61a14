-- Sellers missing from seeds/sellers.csv: they stay in the marts as '未分类' (seller_known
-- false); add them to the seed with their parent and type.
{{ config(severity='warn') }}

select seller, 'listing' as document_type, count(*) as documents
from {{ ref('stg_listings') }}
where not seller_known
group by seller

union all

select seller, 'result' as document_type, count(*) as documents
from {{ ref('stg_results') }}
where not seller_known
group by seller
