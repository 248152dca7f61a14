-- Sellers no seed row, reference list or name rule classifies: they stay in the marts as
-- '未分类' (seller_type_source 'none'). Add them to seeds/sellers.csv or, for an institution
-- that will sell again, to seeds/institutions.csv.
{{ config(severity='warn') }}

select seller, parent_institution, listing_documents, result_documents
from {{ ref('stg_sellers') }}
where seller_type_source = 'none'
order by listing_documents desc, seller
