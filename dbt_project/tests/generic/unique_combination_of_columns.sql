{#- Fails on every combination of `combination_of_columns` that occurs more than once
    (nulls count as a value: two rows with the same seller and a null quarter collide). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
