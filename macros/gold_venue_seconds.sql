{#-
    The dense per-second series behind features_2s and labels_10s, as CTEs (the caller writes `with`, its
    import CTEs `trades` and `books`, and then calls this macro).

    Second `s` of a venue holds what happened in (s - 1, s] (epoch seconds, UTC):
    - a trade belongs to second ceil(trade_ts) (the exchange's event time);
    - a book snapshot belongs to second ceil(known_ms / 1000), where known_ms = greatest(snapshot_ts,
      recv_ts): a book counts only once it was both stamped by the venue and received by us, so no book is
      used before it could have arrived (the cross-venue leakage trap of docs/ml-anchors §3).
    Every second from the venue's first to its last event exists (no holes), so "N rows back" is exactly
    "N seconds back" and the window (t - N, t] is `rows between N - 1 preceding and current row`.
    Carried values (last trade price, latest book) reach back at most `asof_horizon_s` seconds, so a one-day
    build (which reads `lookback_s` >= asof_horizon_s + 120 s before the day) gives the same values as a
    full build.

    trades_cte: exchange, symbol, canonical_symbol, base, quote, trade_id, side, price, quantity, notional,
                trade_ts, source
    books_cte:  exchange, symbol, canonical_symbol, base, quote, snapshot_ts, recv_ts, best_bid_price,
                best_bid_qty, best_ask_price, best_ask_qty, mid_price, spread_bp, total_bid_value,
                total_ask_value, order_book_imbalance, weighted_mid_price, source
    lookback_s / lookahead_s: how far before / after the build window the series reaches.
-#}
{% macro gold_venue_seconds(trades_cte, books_cte, lookback_s, lookahead_s) -%}
{%- set p = gold_params() -%}
{%- set horizon = p['asof_horizon_s'] -%}

trade_seconds as (
    select
        exchange,
        symbol,
        (epoch_us(trade_ts) + 999999) // 1000000 as sec,
        count(*) as trade_count,
        -- exact decimal sums: the same trades give the same bits whatever the grouping or thread order
        sum(cast(quantity as decimal(38, 12))) as volume,
        coalesce(sum(cast(quantity as decimal(38, 12))) filter (where side = 'BUY'), 0) as buy_volume,
        coalesce(sum(cast(quantity as decimal(38, 12))) filter (where side = 'SELL'), 0) as sell_volume,
        sum(cast(notional as decimal(38, 10))) as notional,
        last(price order by trade_ts, trade_id) as last_price,
        max(epoch_ms(trade_ts)) as last_trade_ms,
        bool_or({{ gold_source_is_stream('source') }}) as has_stream,
        bool_or(not {{ gold_source_is_stream('source') }}) as has_rest
    from {{ trades_cte }}
    group by exchange, symbol, sec
),

book_events as (
    select
        exchange,
        symbol,
        snapshot_ts,
        mid_price,
        greatest(snapshot_ts, coalesce(epoch_ms(recv_ts), snapshot_ts)) as known_ms,
        struct_pack(
            mid := mid_price,
            spread_bp := spread_bp,
            ob_imbalance := order_book_imbalance,
            best_bid_price := best_bid_price,
            best_ask_price := best_ask_price,
            best_bid_qty := best_bid_qty,
            best_ask_qty := best_ask_qty,
            total_bid_value := total_bid_value,
            total_ask_value := total_ask_value,
            weighted_mid := weighted_mid_price,
            book_ts_ms := snapshot_ts,
            known_ms := greatest(snapshot_ts, coalesce(epoch_ms(recv_ts), snapshot_ts))
        ) as book,
        {{ gold_source_is_stream('source') }} as is_stream
    from {{ books_cte }}
    where mid_price > 0
),

book_seconds as (
    select
        exchange,
        symbol,
        (known_ms + 999) // 1000 as sec,
        count(*) as book_count,
        max(mid_price) as max_mid,
        min(mid_price) as min_mid,
        last(book order by known_ms, snapshot_ts) as book,
        bool_or(is_stream) as has_stream,
        bool_or(not is_stream) as has_rest
    from book_events
    group by exchange, symbol, sec
),

venues as (
    select
        exchange,
        symbol,
        any_value(canonical_symbol) as canonical_symbol,
        any_value(base) as base,
        any_value(quote) as quote
    from (
        select exchange, symbol, canonical_symbol, base, quote from {{ trades_cte }}
        union all
        select exchange, symbol, canonical_symbol, base, quote from {{ books_cte }}
    ) as all_rows
    group by exchange, symbol
),

venue_span as (
    select
        exchange,
        symbol,
        min(sec) as first_sec,
        max(sec) as last_sec
    from (
        select exchange, symbol, sec from trade_seconds
        union all
        select exchange, symbol, sec from book_seconds
    ) as event_seconds
    group by exchange, symbol
),

seconds as (
    select
        venue_span.exchange,
        venue_span.symbol,
        unnest(range(
            greatest(venue_span.first_sec, {{ gold_window_lo() }} - {{ lookback_s }}),
            least(venue_span.last_sec, {{ gold_window_hi() }} + {{ lookahead_s }}) + 1
        )) as sec
    from venue_span
),

joined as (
    select
        seconds.exchange,
        seconds.symbol,
        seconds.sec,
        coalesce(trade_seconds.trade_count, 0) as trade_count,
        coalesce(trade_seconds.volume, 0) as volume,
        coalesce(trade_seconds.buy_volume, 0) as buy_volume,
        coalesce(trade_seconds.sell_volume, 0) as sell_volume,
        coalesce(trade_seconds.notional, 0) as notional,
        trade_seconds.last_price,
        trade_seconds.last_trade_ms,
        coalesce(book_seconds.book_count, 0) as book_count,
        book_seconds.max_mid,
        book_seconds.min_mid,
        book_seconds.book,
        coalesce(trade_seconds.has_stream, false) or coalesce(book_seconds.has_stream, false) as has_stream,
        coalesce(trade_seconds.has_rest, false) or coalesce(book_seconds.has_rest, false) as has_rest,
        case when trade_seconds.sec is not null or book_seconds.sec is not null then seconds.sec end as event_sec
    from seconds
    left join trade_seconds
        on
            seconds.exchange = trade_seconds.exchange
            and seconds.symbol = trade_seconds.symbol
            and seconds.sec = trade_seconds.sec
    left join book_seconds
        on
            seconds.exchange = book_seconds.exchange
            and seconds.symbol = book_seconds.symbol
            and seconds.sec = book_seconds.sec
),

carried as (
    select
        joined.*,
        last_value(joined.last_price ignore nulls) over horizon as price_ff,
        last_value(joined.last_trade_ms ignore nulls) over horizon as last_trade_ms_ff,
        last_value(joined.book ignore nulls) over horizon as book_ff,
        last_value(joined.event_sec ignore nulls) over horizon as last_event_sec
    from joined
    window horizon as (
        partition by joined.exchange, joined.symbol order by joined.sec
        rows between {{ horizon }} preceding and current row
    )
),

venue_seconds_raw as (
    select
        carried.*,
        venues.canonical_symbol,
        venues.base,
        venues.quote,
        struct_extract(carried.book_ff, 'mid') as mid_ff,
        struct_extract(carried.book_ff, 'spread_bp') as book_spread_bp,
        struct_extract(carried.book_ff, 'ob_imbalance') as book_ob_imbalance,
        struct_extract(carried.book_ff, 'best_bid_price') as book_best_bid_price,
        struct_extract(carried.book_ff, 'best_ask_price') as book_best_ask_price,
        struct_extract(carried.book_ff, 'best_bid_qty') as book_best_bid_qty,
        struct_extract(carried.book_ff, 'best_ask_qty') as book_best_ask_qty,
        struct_extract(carried.book_ff, 'total_bid_value') as book_total_bid_value,
        struct_extract(carried.book_ff, 'total_ask_value') as book_total_ask_value,
        struct_extract(carried.book_ff, 'weighted_mid') as book_weighted_mid,
        struct_extract(carried.book_ff, 'book_ts_ms') as book_ts_ms,
        carried.sec * 1000 - struct_extract(carried.book_ff, 'known_ms') as book_known_age_ms,
        ln(struct_extract(carried.book_ff, 'mid') / lag(struct_extract(carried.book_ff, 'mid'), 1) over by_sec)
            as mid_ret_1s
    from carried
    inner join venues
        on
            carried.exchange = venues.exchange
            and carried.symbol = venues.symbol
    window by_sec as (partition by carried.exchange, carried.symbol order by carried.sec)
),

venue_seconds as (
    select
        *,
        -- the squared 1-s return as an exact decimal: its rolling sums do not depend on the window's extent
        cast(mid_ret_1s * mid_ret_1s as decimal(38, 30)) as mid_ret_sq
    from venue_seconds_raw
)
{% endmacro %}


{#- agg(expr) over the trailing window (t - n, t] of the dense per-second series; sums are exact (decimal
    inputs) and returned as double. -#}
{% macro gold_trailing(agg, expr, n) -%}
    {%- if agg == 'sum' %}cast({% endif -%}
    {{ agg }}({{ expr }}) over (
        partition by exchange, symbol order by sec rows between {{ n - 1 }} preceding and current row
    )
    {%- if agg == 'sum' %} as double){% endif -%}
{%- endmacro %}


{#- agg(expr) over the forward window (t, t + n] of the dense per-second series. -#}
{% macro gold_forward(agg, expr, n) -%}
    {%- if agg == 'sum' %}cast({% endif -%}
    {{ agg }}({{ expr }}) over (
        partition by exchange, symbol order by sec rows between 1 following and {{ n }} following
    )
    {%- if agg == 'sum' %} as double){% endif -%}
{%- endmacro %}
