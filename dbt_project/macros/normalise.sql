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

{#- The key institution names are matched on: the normalised name without its company form,
    so 中国建设银行股份有限公司, 中国建设银行有限公司 and 中国建设银行 share one key. The one place
    where seller and buyer names are made comparable (seeds, reference lists and announcements
    all go through it). -#}
{% macro institution_key(column) -%}
    regexp_replace({{ normalise_name(column) }}, '股份有限公司|有限责任公司|股份公司|有限公司', '', 'g')
{%- endmacro %}

{#- What a unit of an institution adds to its parent's name: a branch, a sub-branch, a card
    centre, a business department or, for an AMC, a branch company. -#}
{% macro unit_suffix_pattern() -%}
    '(分行|支行|信用卡中心|信用卡部|分公司|营业部)$'
{%- endmacro %}

{#- True when the institution key `name_key` is `reference_key` itself or one of its units (a
    branch, a card centre, …: the reference key followed by a unit suffix). -#}
{% macro is_same_or_unit_of(name_key, reference_key) -%}
    (
        {{ name_key }} = {{ reference_key }}
        or (
            starts_with({{ name_key }}, {{ reference_key }})
            and regexp_matches(
                substr({{ name_key }}, length({{ reference_key }}) + 1),
                {{ unit_suffix_pattern() }}
            )
        )
    )
{%- endmacro %}
