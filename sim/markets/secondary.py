"""Secondary cash market: customer orders by tenor bucket against dealers' depth.

Dealers pass offsetting customer flow through without warehousing it, absorb the net
imbalance up to the depth they offer, and leave the rest unfilled. All-to-all trading,
as a lever, meets a share of the unfilled imbalance with other customers' latent
interest, using no dealer balance sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
