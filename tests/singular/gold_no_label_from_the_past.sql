{#-
    A valid label must come from the future window: its target_price is the mid of the latest book known at
    target_ts (recomputed with an ASOF join on silver), that book became known strictly after feature_ts, and
    target_ts is feature_ts + 10 s. Its current_price is the feature row's mid_price. Any row returned fails.
-#}
{%- set horizon_s = gold_params().label_horizon_s -%}

with

labels as (
    select
        exchange,
        symbol,
        feature_ts,
        feature_ts_ms,
        target_ts,
        target_ts_ms,
        current_price,
        target_price,
        is_valid
    from {{ ref('labels_10s') }}
),

features as (
    select
        exchange,
        symbol,
        feature_ts,
        mid_price
    from {{ ref('features_2s') }}
),

books as (
    select
        exchange,
        symbol,
        greatest(snapshot_ts, coalesce(epoch_ms(recv_ts), snapshot_ts)) as known_ms,
        last(mid_price order by snapshot_ts) as mid_price
    from {{ ref('orderbook_snapshots') }}
    where mid_price > 0
    group by all
),

target_books as (
    select
        labels.*,
        books.known_ms as target_known_ms,
        books.mid_price as asof_target_mid
    from labels
    asof left join books
        on
            labels.exchange = books.exchange
            and labels.symbol = books.symbol
            and labels.target_ts_ms >= books.known_ms
)

select
    target_books.*,
    features.mid_price as feature_mid_price
from target_books
left join features
    on
        target_books.exchange = features.exchange
        and target_books.symbol = features.symbol
        and target_books.feature_ts = features.feature_ts
where
    target_books.target_ts != target_books.feature_ts + {{ horizon_s }}
    or target_books.current_price is distinct from features.mid_price
    or (
        target_books.is_valid
        and (
            target_books.target_known_ms <= target_books.feature_ts_ms
            or target_books.target_price is distinct from target_books.asof_target_mid
        )
    )
