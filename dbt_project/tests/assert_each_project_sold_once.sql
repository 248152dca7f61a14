-- Two result announcements (different seller names) claiming one project: only the closer
-- seller name is linked, the other counts as a sale without a listing. Worth a look.
{{ config(severity='warn') }}

select claimed_project_id, count(*) as results, string_agg(seller, ' / ') as sellers
from {{ ref('int_result_matches') }}
where claimed_project_id is not null
group by claimed_project_id
having count(*) > 1
