{% macro created_ts_ms() %}
{#- ETL processing time of this dbt invocation, epoch ms (the same for every row a run writes). -#}
    {{- return('cast(' ~ ((run_started_at.timestamp() * 1000) | int) ~ ' as bigint)') -}}
{% endmacro %}


{% macro source_channel(source_col) %}
{#- The channel part of a bronze `_source` (venue.channel.endpoint): rest | ws | dump | recording | ... -#}
    split_part({{ source_col }}, '.', 2)
{% endmacro %}


{% macro staging_column(relation, column_name, data_type) %}
{#- A column of an upstream staging relation cast to `data_type`, or a typed NULL when that venue's mapping
    does not produce it (e.g. Kraken books carry no update id). Decided from the relation's real columns. -#}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='column') | map('lower') | list -%}
        {%- if column_name | lower in names -%}
            cast({{ column_name }} as {{ data_type }})
        {%- else -%}
            cast(null as {{ data_type }})
        {%- endif -%}
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{% endmacro %}


{% macro top_levels(levels_expr, descending, depth=10) %}
{#- A book side as list<struct(price, quantity)> -> its best `depth` non-empty levels, best first, as
    list<struct(price, quantity, value)> with value = price * quantity. -#}
    list_transform(
        list_slice(
            list_sort(
                list_filter({{ levels_expr }}, lvl -> lvl.quantity > 0),
                '{{ "DESC" if descending else "ASC" }}'
            ),
            1,
            {{ depth }}
        ),
        lvl -> {'price': lvl.price, 'quantity': lvl.quantity, 'value': lvl.price * lvl.quantity}
    )
{% endmacro %}
