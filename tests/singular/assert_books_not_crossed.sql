-- A book is never crossed or locked: best bid < best ask, and levels are sorted best first.
select
    exchange,
    symbol,
    snapshot_ts,
    best_bid_price,
    best_ask_price
from {{ ref('orderbook_snapshots') }}
where
    best_bid_price >= best_ask_price
    or bid_levels != list_reverse(list_sort(bid_levels))
    or ask_levels != list_sort(ask_levels)
