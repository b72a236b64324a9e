"""Static description of the simulated assets and venues: symbols, tick and lot sizes, rates, lags, spreads.

The numbers marked "calibrated" come from the real samples (see sandbox/CALIBRATION.md and
sandbox/calibration.py); rates are deliberately scaled DOWN from the real ones to keep the demo small.
"""

from __future__ import annotations

from dataclasses import dataclass

ASSETS = ("BTC", "ETH")
VENUES = ("binance", "coinbase", "kraken")


@dataclass(frozen=True)
class AssetSpec:
    name: str
    price0: float  # starting price (USD)
    sigma_day: float  # typical daily volatility of the latent log price
    index: int  # stable small integer for seeding


@dataclass(frozen=True)
class MarketSpec:
    """One venue's market for one asset."""

    venue: str
    asset: str
    symbol: str  # the venue's own symbol (Binance BTCUSDT, Coinbase BTC-USD, Kraken altname XBTUSD)
    price_decimals: int  # tick = 10**-price_decimals
    lot_decimals: int  # quantity step = 10**-lot_decimals
    fills_per_s: float  # mean trade (fill) rate
    fills_per_order: float  # mean fills of one taker order (all at one time, price and side)
    size_log_mean: float  # log of the fill size (base units): normal body ...
    size_log_sd: float
    tail_prob: float  # ... plus a Pareto tail: with this probability the size is multiplied by (1+Pareto)
    tail_alpha: float
    spread_ticks: tuple[tuple[int, float], ...]  # (ticks, probability) of the quoted spread
    lag_ms: tuple[float, float]  # the venue sees the latent price this much later (range)
    basis_bp: float  # constant price basis against the latent price (e.g. USDT vs USD)
    basis_noise_bp: float  # slow noise on top of the basis
    level_density: float  # probability that a tick beyond the touch holds a resting level
    level_size_log_mean: float  # log size of a resting level (base units)
    trade_id_base: int  # trade ids near this value at 2020-09-13 (1.6e9 s) and then ~ rate per second
    venue_index: int

    @property
    def tick(self) -> float:
        return 10.0 ** -self.price_decimals

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.asset)


ASSET_SPECS = {
    "BTC": AssetSpec("BTC", 64000.0, 0.028, 0),
    "ETH": AssetSpec("ETH", 3200.0, 0.036, 1),
}

# Spread and size shapes: calibrated against the real Binance BTCUSDT ticks/quotes (2021-01-08), the real Kraken
# XBTUSDT trades (2025-11) and the real Coinbase BTC-USD trades (2016-05); see CALIBRATION.md.
_B_SPREAD = ((1, 0.5), (2, 0.05), (20, 0.05), (150, 0.1), (350, 0.12), (700, 0.1), (1500, 0.08))
_C_SPREAD = ((1, 0.45), (2, 0.2), (4, 0.15), (8, 0.12), (20, 0.08))
_K_SPREAD = ((1, 0.5), (2, 0.2), (5, 0.15), (10, 0.1), (25, 0.05))

MARKETS: dict[tuple[str, str], MarketSpec] = {
    m.key: m
    for m in (
        MarketSpec("binance", "BTC", "BTCUSDT", 2, 5, 6.0, 1.37, -5.2, 2.1, 0.03, 1.6, _B_SPREAD, (2.0, 12.0),
                   0.4, 0.3, 0.01, -2.5, 3_000_000_000, 0),
        MarketSpec("binance", "ETH", "ETHUSDT", 2, 4, 4.5, 1.37, -3.0, 2.1, 0.03, 1.6, _B_SPREAD, (2.0, 12.0),
                   0.4, 0.3, 0.05, -0.5, 1_500_000_000, 0),
        MarketSpec("coinbase", "BTC", "BTC-USD", 2, 8, 3.0, 2.0, -4.2, 1.45, 0.06, 1.2, _C_SPREAD, (40.0, 120.0),
                   0.0, 0.4, 0.02, -2.0, 500_000_000, 1),
        MarketSpec("coinbase", "ETH", "ETH-USD", 2, 8, 2.2, 2.0, -2.1, 1.45, 0.06, 1.2, _C_SPREAD, (40.0, 120.0),
                   0.0, 0.4, 0.06, 0.0, 400_000_000, 1),
        MarketSpec("kraken", "BTC", "XBTUSD", 1, 8, 0.8, 1.7, -5.2, 2.6, 0.01, 1.5, _K_SPREAD, (150.0, 400.0),
                   -0.3, 0.6, 0.015, -2.2, 60_000_000, 2),
        MarketSpec("kraken", "ETH", "ETHUSD", 2, 8, 0.6, 1.7, -3.0, 2.6, 0.01, 1.5, _K_SPREAD, (150.0, 400.0),
                   -0.3, 0.6, 0.05, 0.0, 40_000_000, 2),
    )
}

# Quotes are sticky: a venue re-prices only when its view of the latent price has moved this far (bp) from
# its current mid (discrete price moves, as in real books; also keeps 100 ms book diffs small).
STICKY_BP = {"binance": 0.5, "coinbase": 0.6, "kraken": 1.0}

# Every spelling a venue uses for a market -> asset.
SYMBOL_ALIASES: dict[str, dict[str, str]] = {
    "binance": {"BTCUSDT": "BTC", "ETHUSDT": "ETH"},
    "coinbase": {"BTC-USD": "BTC", "ETH-USD": "ETH"},
    "kraken": {"XBTUSD": "BTC", "XXBTZUSD": "BTC", "XBT/USD": "BTC", "BTC/USD": "BTC",
               "ETHUSD": "ETH", "XETHZUSD": "ETH", "ETH/USD": "ETH"},
}

KRAKEN_PAIRS = {  # asset -> (canonical pair key, altname, wsname (v1), ws v2 symbol, base id, quote id)
    "BTC": ("XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD", "XXBT", "ZUSD"),
    "ETH": ("XETHZUSD", "ETHUSD", "ETH/USD", "ETH/USD", "XETH", "ZUSD"),
}


class UnknownSymbol(KeyError):
    """A symbol that the venue does not list."""

    def __init__(self, venue: str, symbol: str) -> None:
        super().__init__(f"{venue}: unknown symbol {symbol!r}; known: {', '.join(SYMBOL_ALIASES[venue])}")
        self.venue, self.symbol = venue, symbol

    def __str__(self) -> str:
        return str(self.args[0])


def resolve(venue: str, symbol: str) -> MarketSpec:
    """The market a venue symbol names (case-insensitive for Binance/Coinbase); raises UnknownSymbol."""
    if venue not in SYMBOL_ALIASES:
        raise ValueError(f"unknown venue {venue!r}; known: {', '.join(VENUES)}")
    asset = SYMBOL_ALIASES[venue].get(symbol) or SYMBOL_ALIASES[venue].get(symbol.upper())
    if asset is None:
        raise UnknownSymbol(venue, symbol)
    return MARKETS[(venue, asset)]


def market_for(venue: str, asset: str) -> MarketSpec:
    return MARKETS[(venue, asset)]
