"""Purchases as a mechanism: what the Fed buys from dealers leaves their inventory, par for par;
what it buys from non-banks leaves theirs; the SOMA takes it all."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import TreasuryMarketModel
from tests.conftest import make_scenario

MARCH = {"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 3, 31), "warmup_business_days": 0}


def _on_a_purchase_day(nonbank_seller_share: float) -> TreasuryMarketModel:
    purchases = {"central_bank": {"purchases": [{"bn_per_month": 40, "nonbank_seller_share": nonbank_seller_share}]}}
    model = TreasuryMarketModel(make_scenario(MARCH, purchases), seed=1)
    model.step()  # the first day marks prices and settles the opening
    cb = model.central_bank
    day = next(d for d in model.calendar.days[1:] if cb.purchases_today_bn(pd.Timestamp(d).date()).sum() > 0)
    model.date = pd.Timestamp(day)
    return model


@pytest.mark.parametrize("nonbank_seller_share", [0.0, 1.0])
def test_purchases_take_par_from_their_sellers_and_put_it_in_the_soma(nonbank_seller_share):
    model = _on_a_purchase_day(nonbank_seller_share)
    led = model.ledger
    dealers = model.accounts_of("dealer")
    nonbanks = np.concatenate([model.accounts_of(k) for k in ("real_money", "foreign_official", "money_fund")])
    dealers_before = float(led.holdings_bn[dealers].sum())
    nonbanks_before = float(led.holdings_bn[nonbanks].sum())
    soma_before = float(led.holdings_bn[led.cb_row].sum())
    outstanding_before = led.holdings_bn.sum(axis=0).copy()
    bought = model.central_bank.buy_securities(model)
    assert bought > 0
    assert float(led.holdings_bn[led.cb_row].sum()) - soma_before == pytest.approx(bought, abs=1e-9)
    from_dealers = dealers_before - float(led.holdings_bn[dealers].sum())
    from_nonbanks = nonbanks_before - float(led.holdings_bn[nonbanks].sum())
    assert from_dealers + from_nonbanks == pytest.approx(bought, abs=1e-9)  # sums of $T of holdings
    if nonbank_seller_share == 0.0:
        assert from_dealers == pytest.approx(bought, rel=1e-9)  # dealers hold enough of each bucket
    else:
        assert from_dealers == pytest.approx(0.0, abs=1e-9)
    # Securities are only moved, never created.
    assert led.holdings_bn.sum(axis=0) == pytest.approx(outstanding_before, abs=1e-9)
