-- A quarantined listing must never reach the marts: failing here makes `dbt build` skip them.
select stg.sha256
from {{ ref('stg_listings') }} as stg
inner join {{ source('raw', 'listing_quarantine') }} as quarantine using (sha256)
