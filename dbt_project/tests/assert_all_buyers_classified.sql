-- Buyers neither the reference (seeds/buyers.csv, seeds/buyer_aliases.csv) nor a name rule
-- types: they count in the buyer league under their own name, buyer_type '未分类'. Add them
-- to seeds/buyers.csv (a new company) or seeds/buyer_aliases.csv (another name of a known one).
{{ config(severity='warn') }}

select buyer_as_published, buyer, result_documents
from {{ ref('stg_buyers') }}
where buyer_type_source = 'none'
order by result_documents desc, buyer_as_published
