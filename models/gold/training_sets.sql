{#-
    A versioned ML dataset: features_2s joined to labels_10s on (exchange, symbol, feature_ts), valid labels
    only, split BY TIME into train | val | test with a purge gap of purge_gap_s (>= 5 min, far above the 10-s
    label horizon and the 60-s feature lookback) dropped after each boundary. The split boundaries are the
    train_fraction / (train + val) fractions of the labelled time span, shared by every venue (cross-venue
    features must not see one venue's test period while another is in train). Class weights are fitted on the
    TRAINING rows only; every other value is a documented constant or comes from the row itself.
-#}
{%- set p = gold_params() -%}
{%- set version = var('training_set_version', 'v1.0') -%}
{%- set names = gold_feature_names() -%}
{{ config(materialized='gold_versioned', version_column='data_version', partition_by='partition_date') }}

with

features as (
    select * from {{ ref('features_2s') }}
),

labels as (
    select
        exchange,
        symbol,
        feature_ts,
        target_ts,
        target_price,
        return_10s,
        direction,
        is_valid,
        outlier_flag,
        data_quality_score
    from {{ ref('labels_10s') }}
),

labelled as (
    select
        features.*,
        labels.target_ts,
        labels.target_price,
        labels.return_10s,
        labels.direction,
        labels.data_quality_score
    from features
    inner join labels
        on
            features.exchange = labels.exchange
            and features.symbol = labels.symbol
            and features.feature_ts = labels.feature_ts
    where
        labels.is_valid
        and not labels.outlier_flag
        and features.completeness >= {{ p.quality_threshold }}
),

span as (
    select
        min(feature_ts) as first_ts,
        max(feature_ts) as last_ts,
        min(feature_ts) + cast(floor((max(feature_ts) - min(feature_ts)) * {{ p.train_fraction }}) as bigint)
            as val_start,
        min(feature_ts)
        + cast(floor((max(feature_ts) - min(feature_ts)) * {{ p.train_fraction + p.val_fraction }}) as bigint)
            as test_start
    from labelled
),

split as (
    select
        labelled.*,
        span.first_ts,
        span.val_start,
        case
            when labelled.feature_ts < span.val_start then 'train'
            when
                labelled.feature_ts >= span.val_start + {{ p.purge_gap_s }}
                and labelled.feature_ts < span.test_start
                then 'val'
            when labelled.feature_ts >= span.test_start + {{ p.purge_gap_s }} then 'test'
        end as split
    from labelled
    cross join span
),

kept as (
    select * from split
    where split is not null
),

-- average uniqueness (Lopez de Prado, AFML ch. 4): each second of a label window (t, t + 10 s] is shared by
-- every kept label of the same venue whose window covers it
label_seconds as (
    select
        exchange,
        symbol,
        feature_ts,
        unnest(range(feature_ts + 1, target_ts + 1)) as sec
    from kept
),

concurrency as (
    select
        exchange,
        symbol,
        sec,
        count(*) as n_labels
    from label_seconds
    group by exchange, symbol, sec
),

uniqueness as (
    select
        label_seconds.exchange,
        label_seconds.symbol,
        label_seconds.feature_ts,
        avg(1.0 / concurrency.n_labels) as avg_uniqueness
    from label_seconds
    inner join concurrency
        on
            label_seconds.exchange = concurrency.exchange
            and label_seconds.symbol = concurrency.symbol
            and label_seconds.sec = concurrency.sec
    group by label_seconds.exchange, label_seconds.symbol, label_seconds.feature_ts
),

-- balanced class weights n / (k * n_c), fitted on the training rows only
train_classes as (
    select
        direction,
        count(*) as n_class,
        sum(count(*)) over () as n_train,
        count(*) over () as k_classes
    from kept
    where split = 'train'
    group by direction
),

final as (
    select
        kept.exchange || ':' || kept.symbol || ':' || kept.feature_ts || ':{{ version }}' as record_id,
        kept.exchange,
        kept.symbol,
        kept.canonical_symbol,
        kept.feature_ts as timestamp,  -- noqa: RF04
        [
            {%- for name in names %}
                cast(kept.{{ name }} as double){{ ',' if not loop.last }}
            {%- endfor %}
        ] as features,
        {{ gold_sql_list(names) }} as feature_names,
        kept.target_price,
        kept.return_10s as target_return,
        kept.direction as target_direction,
        kept.split,
        case
            when kept.split = 'train'
                then least(
                    cast(
                        floor(
                            (kept.feature_ts - kept.first_ts) * {{ p.n_folds }}.0
                            / greatest(kept.val_start - kept.first_ts, 1)
                        ) as integer
                    ),
                    {{ p.n_folds - 1 }}
                )
            else -1
        end as fold,
        uniqueness.avg_uniqueness * kept.data_quality_score as sample_weight,
        coalesce(train_classes.n_train / (train_classes.k_classes * train_classes.n_class), 1.0) as class_weight,
        '{{ version }}' as data_version,
        epoch_ms(current_timestamp) as created_ts,
        kept.partition_date
    from kept
    inner join uniqueness
        on
            kept.exchange = uniqueness.exchange
            and kept.symbol = uniqueness.symbol
            and kept.feature_ts = uniqueness.feature_ts
    left join train_classes
        on kept.direction = train_classes.direction
)

select * from final
