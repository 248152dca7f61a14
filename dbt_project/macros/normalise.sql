{#- Names and titles arrive with stray ASCII, full-width or no-break spaces and with ASCII or
    full-width parentheses. The parser already normalises; these macros make the models safe
    against a row that slipped through, so one project never splits into two keys. -#}

{% macro normalise_name(column) -%}
    replace(replace(regexp_replace({{ column }}, '[\s\x{3000}\x{00a0}]+', '', 'g'), '(', '（'), ')', '）')
{%- endmacro %}

{#- The project key: the normalised project name without a relisting marker and without the
    announcement suffix, so a listing, its relistings and its result share one key. -#}
{% macro project_key(column) -%}
    regexp_replace(
        regexp_replace({{ normalise_name(column) }}, '（(第[^）]*次)?重新(挂牌|公告)）', '', 'g'),
        '不良贷款转让(结果)?公告$',
        ''
    )
{%- endmacro %}

{#- Quarter label like '2023Q4'; null when the date is unknown. -#}
{% macro quarter_label(column) -%}
    cast(year({{ column }}) as varchar) || 'Q' || cast(quarter({{ column }}) as varchar)
{%- endmacro %}
