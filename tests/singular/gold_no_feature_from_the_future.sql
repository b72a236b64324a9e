{#-
    Every as-of value of features_2s, recomputed independently with DuckDB ASOF joins on silver: mid_price must be
    the mid of the latest book KNOWN (stamped and received) at or before feature_ts, price the last trade at or
    before feature_ts (both carried at most asof_horizon_s), and the ages of both must be >= 0. A row is returned
    (the test fails) for any value taken from after its feature_ts.
-#}
{%- set horizon_ms = gold_params().asof_horizon_s * 1000 -%}

with

features as (
    select
        exchange,
        symbol,
        feature_ts,
        feature_ts_ms,
        mid_price,
        price,
        data_age_ms,
        trade_age_ms
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

trades as (
    select
        exchange,
        symbol,
        epoch_us(trade_ts) as trade_us,
        last(price order by trade_id) as price
    from {{ ref('trades_unified') }}
    group by all
),

with_book as (
    select
        features.*,
        books.known_ms,
        books.mid_price as asof_mid
    from features
    asof left join books
        on
            features.exchange = books.exchange
            and features.symbol = books.symbol
            and features.feature_ts_ms >= books.known_ms
),

with_trade as (
    select
        with_book.*,
        trades.trade_us,
        trades.price as asof_price
    from with_book
    asof left join trades
        on
            with_book.exchange = trades.exchange
            and with_book.symbol = trades.symbol
            and with_book.feature_ts * 1000000 >= trades.trade_us
),

expected as (
    select
        *,
        case when known_ms > feature_ts_ms - {{ horizon_ms + 1000 }} then asof_mid end as expected_mid,
        case when trade_us > (feature_ts_ms - {{ horizon_ms + 1000 }}) * 1000 then asof_price end as expected_price
    from with_trade
)

select *
from expected
where
    mid_price is distinct from expected_mid
    or price is distinct from expected_price
    or data_age_ms < 0
    or trade_age_ms < 0
