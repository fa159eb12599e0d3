"""Secondary cash market: customer orders by tenor bucket against dealers' depth.

Dealers pass offsetting customer flow through without warehousing it, absorb the net
imbalance up to the depth they offer, and leave the rest unfilled. All-to-all trading,
as a lever, meets a share of the unfilled imbalance with other customers' latent
interest, using no dealer balance sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.pricing import inventory_premium_bp
from sim.scenario.schema import TENORS
from sim.securities import BILL_BUCKETS, BUCKET_YEARS, N_BUCKETS

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel


@dataclass(frozen=True)
class FlowResult:
    """Bucket-level outcome of one day's customer flow ($bn par, arrays by bucket).

    dealer_absorb_bn has shape (dealers, buckets): positive when dealers buy.
    """

    buy_fill_share: np.ndarray
    sell_fill_share: np.ndarray
    dealer_absorb_bn: np.ndarray
    all_to_all_bn: np.ndarray
    matched_bn: np.ndarray
    wanted_bn: float
    filled_bn: float


def match_customer_flow(
    buys_bn: np.ndarray, sells_bn: np.ndarray, depth_bn: np.ndarray, inventory_bn: np.ndarray, all_to_all_share: float
) -> FlowResult:
    """Net customer flow through dealers.

    Moving away from their normal book in either direction is limited by the depth
    dealers offer; inventory they hold above their normal book they sell freely (selling
    it frees balance sheet).

    Args:
        buys_bn: customer purchases wanted, by bucket.
        sells_bn: customer sales wanted, by bucket.
        depth_bn: net flow each dealer will absorb, shape (dealers, buckets).
        inventory_bn: each dealer's inventory above its normal book, shape (dealers, buckets).
        all_to_all_share: share of the imbalance dealers leave that customers meet directly.
    """
    matched = np.minimum(buys_bn, sells_bn)
    imbalance = buys_bn - sells_bn
    capacity = np.where(imbalance > 0, depth_bn + np.maximum(inventory_bn, 0.0), depth_bn)
    total_depth = capacity.sum(axis=0)
    depth_bn = capacity
    absorbed = np.minimum(np.abs(imbalance), total_depth)
    all_to_all = all_to_all_share * (np.abs(imbalance) - absorbed)
    served = matched + absorbed + all_to_all
    buy_fill = np.where(buys_bn > 0, np.where(imbalance > 0, served, buys_bn) / np.maximum(buys_bn, 1e-300), 0.0)
    sell_fill = np.where(sells_bn > 0, np.where(imbalance < 0, served, sells_bn) / np.maximum(sells_bn, 1e-300), 0.0)
    depth_share = np.divide(depth_bn, total_depth, out=np.zeros_like(depth_bn), where=total_depth > 0)
    # Dealers buy what customers sell on net (positive), and sell what they buy.
    dealer_absorb = depth_share * (-np.sign(imbalance) * absorbed)
    wanted = float(buys_bn.sum() + sells_bn.sum())
    filled = float((buy_fill * buys_bn).sum() + (sell_fill * sells_bn).sum())
    return FlowResult(buy_fill, sell_fill, dealer_absorb, all_to_all, matched, wanted, filled)


# ---------------------------------------------------------------- the secondary day
BASIS_BUCKET_SHARE = 0.2  # levered funds spread purchases evenly over the five basis tenors
_BASIS_SPREAD = np.zeros(N_BUCKETS)  # their purchases' spread over the buckets
_BASIS_SPREAD[[TENORS.index(t) for t in ("2y", "3y", "5y", "7y", "10y")]] = BASIS_BUCKET_SHARE


def secondary_day(m: TreasuryMarketModel) -> None:
    """Customer orders by bucket meet dealers' depth; fills settle issue by issue; dealers cover shorts.

    The secondary market is dealers, real money, foreign officials and levered funds, and money
    funds where they buy bills from dealers (`money_funds.secondary_bill_share`; they hold bills
    to maturity and sell none): the holder rows before the money funds, or through them.
    """
    sc = m.config
    led = m.ledger
    prices = m.prices
    funds = m.slices["money_fund"]
    funds_buy_bills = sc.money_funds.secondary_bill_share > 0
    # Without funds in it the day's arrays stop before their rows, as they always have.
    n_trading = funds.stop if funds_buy_bills else funds.start
    n_d = sc.dealers.count
    holdings = led.holdings_bn[:n_trading]
    long_holdings = np.maximum(holdings, 0.0)
    long_by_bucket = long_holdings @ prices.bucket_onehot
    shocks = m.market.shocks
    buys = np.zeros((n_trading, N_BUCKETS))
    sells = np.zeros((n_trading, N_BUCKETS))
    # Real money: rebalancing, buying duration dealers are stuck with, forced selling.
    rm = m.slices["real_money"]
    noise = m.flow_rng.standard_normal((rm.stop - rm.start, N_BUCKETS))
    dealer_books = holdings[:n_d] @ prices.bucket_onehot
    dealer_by_bucket = dealer_books.sum(axis=0)
    # Dealers' normal book shrinks when they are strained; what lies above it is for sale.
    dealers = m.dealers
    normal_book = (dealers.size_share * dealers.normal_book_share())[:, None] * dealers.reference_by_bucket_bn[None, :]
    excess_inventory = dealer_by_bucket - normal_book.sum(axis=0)
    excess_premium = inventory_premium_bp(
        BUCKET_YEARS, prices.premium_risk_use - prices.reference_risk_use, sc.curve.inventory_premium_bp
    )
    distribution = dealers.distribution_concession_bp(m.curve.vol_ratio)
    excess_premium = excess_premium + float(distribution @ dealers.size_share)
    forced = shocks.fund_selling_bn + (sc.real_money.selling_in_risk_off_bn if m.curve.risk_off else 0.0)
    buys[rm], sells[rm] = m.real_money.secondary_orders(
        noise, excess_premium, excess_inventory, long_by_bucket[rm], forced, led.money_bn[rm]
    )
    fo = m.slices["foreign_official"]
    sells[fo] = m.foreign_official.sales(m.curve.risk_off, shocks.foreign_selling_bn, long_by_bucket[fo])
    # Money funds: what dealers hold above their normal book in the bill buckets, with facility cash.
    if funds_buy_bills:
        buys[funds] = m.money_funds.secondary_bill_orders_bn(m.money_funds.bill_book(m), excess_inventory, BILL_BUCKETS)
    # Levered funds: sales pro rata to their positions, purchases across the basis tenors.
    lf = m.slices["levered_fund"]
    lf_value = np.maximum(long_by_bucket[lf], 0.0)
    share = lf_value / np.maximum(lf_value.sum(axis=1, keepdims=True), 1e-12)
    sells[lf] = np.minimum(m.levered_funds.sells_bn[:, None] * share, lf_value)
    buys[lf] = m.levered_funds.buys_bn[:, None] * _BASIS_SPREAD[None, :]
    depth = dealers.depth_bn(m.curve.vol_ratio)[:, None] * dealers.depth_share_by_bucket[None, :]
    buys_by_bucket, sells_by_bucket = buys.sum(axis=0), sells.sum(axis=0)
    flow = match_customer_flow(
        buys_by_bucket, sells_by_bucket, depth, dealer_books - normal_book, sc.market_structure.all_to_all_share
    )
    buy_filled = buys * flow.buy_fill_share[None, :]
    sell_filled = sells * flow.sell_fill_share[None, :]
    # All-to-all: other real-money investors' latent interest meets the rest.
    if flow.all_to_all_bn.sum() > 0:
        net_buying = buys_by_bucket > sells_by_bucket
        rm_hold = long_by_bucket[rm] / np.maximum(long_by_bucket[rm].sum(axis=0, keepdims=True), 1e-12)
        rm_size = m.real_money.size_share[:, None]
        sell_filled[rm] += np.where(net_buying, flow.all_to_all_bn, 0.0)[None, :] * rm_hold
        buy_filled[rm] += np.where(net_buying, 0.0, flow.all_to_all_bn)[None, :] * rm_size
        sell_filled[rm] = np.minimum(sell_filled[rm], long_by_bucket[rm])
    buy_filled[:n_d] += np.maximum(flow.dealer_absorb_bn, 0.0)
    sell_filled[:n_d] += np.maximum(-flow.dealer_absorb_bn, 0.0)
    delta, cash = settle_bucket_trades(m, long_holdings, long_by_bucket, buy_filled, sell_filled, n_d)
    led.trade(delta, cash, n_rows=n_trading)
    m.flows.customer_bn = float(buy_filled[n_d:].sum() + sell_filled[n_d:].sum())
    m.flows.wanted_bn = flow.wanted_bn
    m.flows.market_depth_bn = float(depth.sum())
    dealers.cover_shorts(led, rm, m.accounts.n_trading)


def settle_bucket_trades(
    m: TreasuryMarketModel,
    long_holdings: np.ndarray,
    long_by_bucket: np.ndarray,
    buy_filled: np.ndarray,
    sell_filled: np.ndarray,
    n_d: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Turn bucket-level fills into issue-level deliveries and cash: (par change, cash) by row.

    Sellers deliver pro rata across their holdings in the bucket; dealers selling more
    than they hold go short the bucket's most liquid issue; buyers receive the pooled
    deliveries pro rata. Customers pay the dealers' half-spread on both sides.
    """
    prices = m.prices
    # A seller delivers at most what it holds: all of it when it sells more, dividing only where its
    # holding covers the sale (so a vanishing holding, a few 1e-313 $bn, does not overflow).
    held = long_by_bucket > 0
    sell_share = np.divide(
        sell_filled, long_by_bucket, out=np.where(held, 1.0, 0.0), where=held & (long_by_bucket >= sell_filled)
    )
    # Holder-by-slot arrays are the day's largest: each is built in place, in one buffer. Each slot
    # takes its bucket's share (a gather, not a product with the one-hot map).
    delivered = sell_share.take(prices.bucket, axis=1)
    delivered *= long_holdings  # by slot; retired slots hold nothing
    # Dealers' sales beyond their longs are short sales of the bucket's benchmark issue.
    dealer_short = np.maximum(sell_filled[:n_d] - long_by_bucket[:n_d], 0.0)
    if dealer_short.sum() > 0:
        benchmark = prices.benchmark_slots(m.issues)
        ok = benchmark >= 0
        np.add.at(delivered[:n_d].T, benchmark[ok], dealer_short[:, ok].T)  # buckets' benchmarks, per dealer
    pool = delivered.sum(axis=0)
    buy_total = buy_filled.sum(axis=0)
    buy_share = np.divide(buy_filled, buy_total, out=np.zeros_like(buy_filled), where=buy_total > 0)
    received = buy_share.take(prices.bucket, axis=1)
    received *= pool[None, :]  # retired slots have no pool
    # Pooled deliveries with no buyer (numerical dust) stay with the sellers.
    orphan = (buy_total[prices.bucket] <= 0) & (pool > 0)
    if orphan.any():
        delivered[:, orphan] = 0.0
        received[:, orphan] = 0.0
        pool = delivered.sum(axis=0)
    m.flows.delivered_by_issue_bn = pool  # each issue's settlement volume, for its fails
    delta = received - delivered
    price = m.ledger.price
    spread = m.market.half_spread_today_bp * prices.dv01_per_par
    customers = slice(n_d, None)
    cash = np.zeros(delta.shape[0])
    cash[customers] = -(received[customers] @ (price + spread)) + delivered[customers] @ (price - spread)
    revenue = float((received[customers] @ spread).sum() + (delivered[customers] @ spread).sum())
    depth_share = m.dealers.size_share
    cash[:n_d] = -(delta[:n_d] @ price) + revenue * depth_share
    # Exact zero-sum: any rounding is absorbed by the largest dealer.
    cash[int(np.argmax(depth_share))] -= cash.sum()
    return delta, cash
