"""The opening market: populations, the stock of issues, who holds them, money, and open repo.

Everything is built so that the books balance on day zero: each account's equity is set
to its assets minus its liabilities once, and from then on moves only by P&L.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.agents.bank import BankReserveManager, Banks
from sim.agents.dealer import Dealer, Dealers, cleared_repo_books_bn
from sim.agents.foreign_official import ForeignOfficial, ForeignOfficials
from sim.agents.levered_fund import LeveredFund, LeveredFunds
from sim.agents.money_fund import MoneyFund, MoneyFunds
from sim.agents.real_money import RealMoneyInvestor, RealMoneyInvestors
from sim.issue_stock import OVERDRAW_TOLERANCE_BN, build_issue_stock, class_holdings
from sim.ledger import TRADING_KINDS, Ledger
from sim.scenario.schema import Scenario
from sim.securities import COUPON_PERIOD_DAYS, MIN_COUPON_PCT, N_BUCKETS, IssueRegister, bucket_of

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel


def pareto_shares(rng: np.random.Generator, n: int, alpha: float) -> np.ndarray:
    """Heterogeneous size shares summing to one, largest first.

    Sizes sit at the Pareto(alpha) quantiles of n evenly spaced probabilities (a few
    large, many small) with a little lognormal noise, so one random draw cannot swallow
    a whole population.
    """
    quantiles = (np.arange(n) + 0.5) / n
    sizes = quantiles ** (-1.0 / alpha) * np.exp(rng.normal(0.0, 0.1, n))
    sizes = np.sort(sizes)[::-1]
    return sizes / sizes.sum()


def allocate_holdings(
    scenario: Scenario, register: IssueRegister, start_day: int, shares: dict[str, np.ndarray], rm_tilt: np.ndarray
) -> dict[str, np.ndarray]:
    """Split every issue's outstanding among holder classes (`class_holdings`) and, within a
    class, agents.

    Returns holdings ($bn par) by class: arrays of shape (agents, slots); "soma" is 1-D.
    """
    held = class_holdings(scenario, register, start_day)
    real_money = held.real_money
    if (real_money < -OVERDRAW_TOLERANCE_BN).any():
        worst = int(real_money.argmin())
        raise ValueError(
            f"opening holdings exceed the outstanding of an issue by {-real_money[worst]:.1f}bn: "
            "lower central_bank.soma_treasuries_bn, foreign_official.holdings_bn, money_funds.assets_bn, "
            "levered_funds.positions_bn or dealers.inventory_bn, or raise treasury.sizes"
        )
    real_money = np.maximum(real_money, 0.0)
    buckets = bucket_of(register.years_left(start_day))
    tilt = rm_tilt[:, buckets] * shares["real_money"][:, None]
    tilt = tilt / tilt.sum(axis=0, keepdims=True)
    return {
        "dealer": shares["dealer"][:, None] * held.dealer[None, :],
        "real_money": tilt * real_money[None, :],
        "foreign_official": shares["foreign_official"][:, None] * held.foreign_official[None, :],
        "levered_fund": shares["levered_fund"][:, None] * held.levered_fund[None, :],
        "money_fund": shares["money_fund"][:, None] * held.money_fund[None, :],
        "soma": held.soma,
    }


# ---------------------------------------------------------------- populations
def population_shares(
    rng: np.random.Generator, scenario: Scenario
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw every population's heterogeneity, in a fixed order (common random numbers).

    Returns the size shares by kind, the dealers' bank affiliation and window-dressing
    flags, real money's required concessions and habitat tilts, and banks' lowest
    comfortable reserves and hurdle offsets.
    """
    sc = scenario
    d = sc.dealers
    dealer_share = pareto_shares(rng, d.count, d.size_pareto_alpha)
    n_bank = int(round(d.bank_affiliated_share * d.count))
    bank_affiliated = np.zeros(d.count, dtype=bool)
    bank_affiliated[rng.permutation(d.count)[:n_bank]] = True
    window_dresser = np.zeros(d.count, dtype=bool)
    bank_ids = np.flatnonzero(bank_affiliated)
    n_dress = int(round(d.window_dresser_share * bank_ids.size))
    window_dresser[rng.permutation(bank_ids)[:n_dress]] = True
    rm = sc.real_money
    rm_share = pareto_shares(rng, rm.count, rm.size_pareto_alpha)
    rm_required = rm.required_concession_bp + rng.normal(0.0, rm.required_concession_dispersion_bp, rm_share.size)
    rm_tilt = np.exp(rng.normal(0.0, rm.habitat_dispersion, (rm_share.size, N_BUCKETS)))
    rm_tilt = rm_tilt / (rm_share[:, None] * rm_tilt).sum(axis=0, keepdims=True)
    fo_share = pareto_shares(rng, sc.foreign_official.count, sc.foreign_official.size_pareto_alpha)
    lf_share = pareto_shares(rng, sc.levered_funds.count, sc.levered_funds.size_pareto_alpha)
    mmf_share = pareto_shares(rng, sc.money_funds.count, sc.money_funds.size_pareto_alpha)
    b = sc.banks
    bank_share = pareto_shares(rng, b.count, b.concentration_alpha)
    # Large holders keep higher comfortable levels relative to their reserves.
    comfort_noise = np.exp(rng.normal(0.0, b.comfort_dispersion, bank_share.size))
    comfort_tilt = bank_share**b.comfort_size_elasticity * comfort_noise
    comfortable = b.lowest_comfortable_reserves_bn * bank_share * comfort_tilt / (bank_share * comfort_tilt).sum()
    # Banks differ in what balance sheet costs them, around the common hurdle: centred on the
    # reserve-weighted mean, so `lending_hurdle_bp` is the market's average hurdle on every draw
    # (the largest bank holds about a third of reserves; its own offset would move the level).
    hurdle_offset = rng.normal(0.0, b.hurdle_dispersion_bp, b.count)
    hurdle_offset = hurdle_offset - bank_share @ hurdle_offset
    shares = {
        "dealer": dealer_share,
        "real_money": rm_share,
        "foreign_official": fo_share,
        "levered_fund": lf_share,
        "money_fund": mmf_share,
        "bank": bank_share,
    }
    return shares, bank_affiliated, window_dresser, rm_required, rm_tilt, comfortable, hurdle_offset


@dataclass(frozen=True)
class Populations:
    """Every population of the market, each holding its state arrays and decisions."""

    dealers: Dealers
    real_money: RealMoneyInvestors
    foreign_official: ForeignOfficials
    levered_funds: LeveredFunds
    money_funds: MoneyFunds
    banks: Banks


def build_populations(m: TreasuryMarketModel) -> Populations:
    """Populations with their heterogeneity, and one Mesa agent (a view) per institution."""
    sc = m.config
    shares, bank_affiliated, window_dresser, rm_required, rm_tilt, comfortable, hurdle = population_shares(
        m.setup_rng, sc
    )
    built = Populations(
        dealers=Dealers(sc.dealers, sc.loop, shares["dealer"], bank_affiliated, window_dresser),
        real_money=RealMoneyInvestors(sc.real_money, sc.loop, shares["real_money"], rm_required, rm_tilt),
        foreign_official=ForeignOfficials(sc.foreign_official, shares["foreign_official"]),
        levered_funds=LeveredFunds(sc.levered_funds, shares["levered_fund"]),
        money_funds=MoneyFunds(sc.money_funds, shares["money_fund"]),
        banks=Banks(sc.banks, shares["bank"], comfortable, hurdle),
    )
    Dealer.create_agents(m, sc.dealers.count, built.dealers, list(range(sc.dealers.count)))
    members = (
        (RealMoneyInvestor, "real_money", built.real_money),
        (ForeignOfficial, "foreign_official", built.foreign_official),
        (LeveredFund, "levered_fund", built.levered_funds),
        (MoneyFund, "money_fund", built.money_funds),
        (BankReserveManager, "bank", built.banks),
    )
    for agent_class, kind, population in members:
        accounts = m.accounts_of(kind)
        agent_class.create_agents(m, accounts.size, population, list(range(accounts.size)), list(accounts))
    return built


# ---------------------------------------------------------------- issues and accounts
def open_issue_register(m: TreasuryMarketModel, start: pd.Timestamp) -> IssueRegister:
    """The issues outstanding at the start, with coupons near the opening curve and their coupon dates."""
    issues = IssueRegister()
    build_issue_stock(m.config, start, issues)
    years = issues.years_left(m.today)
    coupons = np.maximum(np.round(m.prices.fundamental_pct(years, m.today) * 8) / 8, MIN_COUPON_PCT)
    issues.coupon_pct[:] = np.where(issues.is_bill, 0.0, coupons)
    issues.coupon_pct[~issues.active] = 0.0
    issues.next_coupon_day[:] = issues.issue_day + COUPON_PERIOD_DAYS
    while (behind := issues.active & (issues.next_coupon_day <= m.today)).any():
        issues.next_coupon_day[behind] += COUPON_PERIOD_DAYS
    return issues


def custodians_by_size(depositor_share: np.ndarray, bank_share: np.ndarray) -> np.ndarray:
    """Each depositor's custodian bank (index into banks): the largest depositors first, each with
    the bank furthest short of its size share of the kind's deposits (ties to the lower index).

    Custody follows size as a rule, not a draw: drawn, one large money fund at a small bank sent
    that bank's reserves hundreds of billions below zero whenever the fund moved cash to the ON RRP,
    and the overdraft it then borrowed back at any rate decided, seed by seed, about $500bn of the
    split between reserves and the ON RRP.
    """
    custodian = np.zeros(depositor_share.size, dtype=np.int64)
    room = bank_share * depositor_share.sum()
    for depositor in np.argsort(-depositor_share, kind="stable"):
        bank = int(np.argmax(room))
        custodian[depositor] = bank
        room[bank] -= depositor_share[depositor]
    return custodian


def open_ledger(m: TreasuryMarketModel) -> Ledger:
    """Accounts: who holds reserves, and which banks each depositor uses as custodians.

    Each kind of depositor banks with custodians matched to bank size (`custodians_by_size`);
    households spread over all banks;
    reserve holders (banks and bank-affiliated dealers) are their own custodians. Every
    investor (real money, foreign official, levered and money funds) also keeps
    `banks.dealer_parent_deposit_share` of its deposits at the holding companies of the
    bank-affiliated dealers, spread over them by dealer size, as large investors spread their
    cash over several banks: the reserves behind those deposits sit on the dealers'
    consolidated balance sheets. Spread, not lumped: a whole large account at one parent
    would let one investor's cash swings decide whether a small dealer is far over its
    leverage limit.
    """
    n = m.accounts.n_accounts
    banks = m.slices["bank"]
    reserve_holder = np.zeros(n, dtype=bool)
    reserve_holder[banks] = True
    reserve_holder[m.slices["dealer"]] = m.dealers.bank_affiliated
    custodian = np.zeros(n, dtype=np.int64)
    for kind in TRADING_KINDS:
        # Reserve holders are their own custodians: only the others are matched to banks' sizes.
        members = np.arange(m.slices[kind].start, m.slices[kind].stop)
        depositor = ~reserve_holder[members]
        custodian[members[depositor]] = banks.start + custodians_by_size(
            m.size_share_of(kind)[depositor], m.banks.size_share
        )
    custodian[m.slices["household"]] = np.arange(m.config.banks.count) + banks.start
    custodian[reserve_holder] = np.flatnonzero(reserve_holder)
    parents = m.slices["dealer"].start + np.flatnonzero(m.dealers.bank_affiliated)
    share = m.config.banks.dealer_parent_deposit_share
    parent_share = np.zeros(n)
    parent_weight = np.zeros(n)
    if parents.size and share > 0:
        for kind in ("real_money", "foreign_official", "levered_fund", "money_fund"):
            parent_share[m.slices[kind]] = share
        size = m.dealers.size_share[parents - m.slices["dealer"].start]
        parent_weight[parents] = size / size.sum()
    return Ledger(m.accounts, m.issues.capacity, reserve_holder, custodian, parent_share, parent_weight)


# ---------------------------------------------------------------- opening balance sheets
def open_books(m: TreasuryMarketModel) -> None:
    """Holdings, money, yesterday's repo book, the central bank, and dealers' fixed blocks and limits.

    Built so that every balance sheet balances on day zero.
    """
    sc = m.config
    led = m.ledger
    m.prices.mark(m.issues, led, m.today, initial=True)
    shares = {
        kind: m.size_share_of(kind)
        for kind in ("dealer", "real_money", "foreign_official", "levered_fund", "money_fund")
    }
    held = allocate_holdings(sc, m.issues, m.today, shares, m.real_money.habitat_tilt)
    for kind in shares:
        led.holdings_bn[m.slices[kind], : held[kind].shape[1]] = held[kind]
    led.holdings_bn[led.cb_row, : held["soma"].size] = held["soma"]
    lf_borrowed, mmf_free = _open_money(m)
    _open_repo_book(m, lf_borrowed, mmf_free)
    m.dealers.deposits_at_open_bn = led.deposits_owed_bn()[m.slices["dealer"]]
    # The central bank: SOMA at par; MBS and the rest as a fixed block.
    led.tga_bn = sc.treasury.tga_start_bn
    led.currency_bn = sc.central_bank.currency_bn
    led.cb_capital_bn = sc.central_bank.capital_bn
    liabilities = led.reserves_bn() + led.tga_bn + led.on_rrp_bn.sum() + led.currency_bn
    led.cb_other_assets_bn = liabilities + led.cb_capital_bn - led.soma_par_bn()
    dealer_equity = _open_dealer_limits(m)
    _open_equity(m, dealer_equity)


def _open_money(m: TreasuryMarketModel) -> tuple[np.ndarray, np.ndarray]:
    """Banks' and bank dealers' reserves; investors' deposits; money funds' ON RRP.

    Returns levered funds' repo borrowing and money funds' cash free to lend ($bn).
    """
    sc = m.config
    led = m.ledger
    d = sc.dealers
    dealers = m.slices["dealer"]
    bank_d = m.dealers.bank_affiliated
    size = m.dealers.size_share
    value = led.securities_value_bn()
    dealer_reserves = np.where(bank_d, d.reserves_bn * size / max(size[bank_d].sum(), 1e-12), 0.0)
    dealer_money = np.where(bank_d, dealer_reserves, d.nonbank_cash_share * value[dealers])
    led.money_bn[dealers] = dealer_money
    m.dealers.money_target_bn = dealer_money.copy()
    bank_share = m.banks.size_share
    led.money_bn[m.slices["bank"]] = sc.banks.reserves_bn * bank_share
    deposits_per_reserve = sc.banks.household_deposits_per_reserve
    led.money_bn[m.slices["household"]] = deposits_per_reserve * sc.banks.reserves_bn * bank_share
    m.household_deposit_target_bn = led.money_bn[m.slices["household"]].copy()
    led.money_bn[m.slices["real_money"]] = sc.real_money.cash_bn * m.real_money.size_share
    led.money_bn[m.slices["foreign_official"]] = sc.foreign_official.cash_bn * m.foreign_official.size_share
    lf = m.slices["levered_fund"]
    lf_capital = sc.levered_funds.capital_bn * m.levered_funds.size_share
    haircut = m.levered_funds.haircut_share(1.0, 1.0)
    lf_borrowed = value[lf] * (1.0 - haircut)
    led.money_bn[lf] = lf_capital - value[lf] * haircut
    mmf = m.slices["money_fund"]
    mmf_assets = sc.money_funds.assets_bn * m.money_funds.size_share
    with_facility = np.where(m.money_funds.facility_access, m.money_funds.size_share, 0.0)
    on_rrp = sc.central_bank.on_rrp_start_bn * with_facility / with_facility.sum()
    mmf_free = np.maximum(mmf_assets - value[mmf] - on_rrp, 0.0)
    led.on_rrp_bn[mmf] = on_rrp
    return lf_borrowed, mmf_free


def _open_repo_book(m: TreasuryMarketModel, lf_borrowed: np.ndarray, mmf_free: np.ndarray) -> None:
    """Yesterday's repo book: funds financed by their prime dealers; dealers by money funds up
    to their free cash, banks the rest; interest due tomorrow at opening rates (act/360)."""
    sc = m.config
    led = m.ledger
    d = sc.dealers
    dealers = m.slices["dealer"]
    value = led.securities_value_bn()
    rr = m.dealers.size_share * lf_borrowed.sum()
    dealer_need = np.maximum(value[dealers] * (1 - d.funding_haircut_pct / 100) + rr, 0.0)
    lend_share = sc.money_funds.opening_repo_share
    from_funds = min(dealer_need.sum(), lend_share * mmf_free.sum())
    mmf_lent = mmf_free * lend_share * (from_funds / max(lend_share * mmf_free.sum(), 1e-12))
    mmf = m.slices["money_fund"]
    led.money_bn[mmf] = mmf_free - mmf_lent
    bank_lent = (dealer_need.sum() - from_funds) * m.banks.size_share
    iorb, rrp_rate = m.market.rates.iorb_pct, m.market.rates.on_rrp_pct
    # Funds' financing near IORB, money funds a little above ON RRP, banks a little above IORB.
    per_day = 1 / 36000
    lf_accounts = m.accounts_of("levered_fund")
    dealer_accounts = m.accounts_of("dealer")
    lenders = np.concatenate([m.accounts_of("money_fund"), m.accounts_of("bank")])
    lent = np.concatenate([mmf_lent, bank_lent])
    repo = sc.repo
    rate = np.concatenate(
        [
            np.full(mmf_lent.size, rrp_rate + repo.opening_fund_spread_bp / 100.0),
            np.full(bank_lent.size, iorb + repo.opening_bank_spread_bp / 100.0),
        ]
    )
    dealer_rate = float((lent * rate).sum() / max(lent.sum(), 1e-12))
    client_rate = dealer_rate + repo.opening_client_markup_bp / 100.0
    led.repo_borrowed_bn[lf_accounts] = lf_borrowed
    led.repo_interest_payable_bn[lf_accounts] = lf_borrowed * client_rate * per_day
    led.repo_lent_bn[dealer_accounts] = rr
    led.repo_interest_receivable_bn[dealer_accounts] = rr * client_rate * per_day
    led.repo_borrowed_bn[dealer_accounts] = dealer_need
    led.repo_interest_payable_bn[dealer_accounts] = dealer_need * dealer_rate * per_day
    led.repo_lent_bn[lenders] = lent
    led.repo_interest_receivable_bn[lenders] = lent * rate * per_day
    # Interest due must match across sides: book any rounding on the largest lender.
    gap = led.repo_interest_payable_bn.sum() - led.repo_interest_receivable_bn.sum()
    led.repo_interest_receivable_bn[lenders[int(lent.argmax())]] += gap


def _open_dealer_limits(m: TreasuryMarketModel) -> np.ndarray:
    """Dealers' fixed blocks and VaR limits; returns their Tier 1 capital ($bn).

    The rest of the bank is sized so the markets business starts at the scenario's
    utilization under today's rules (so an SLR exemption frees room from the first day, as
    a rule change would); VaR limits so risk starts at its utilization.
    """
    sc = m.config
    led = m.ledger
    d = sc.dealers
    pop = m.dealers
    dealers = m.slices["dealer"]
    equity = d.equity_bn * pop.size_share
    long_value = np.maximum(led.holdings_bn[dealers], 0) @ led.price
    # Today's rules: sponsored repo nets; central clearing of all repo would be a change.
    ms = sc.market_structure
    cleared, cleared_reverse = cleared_repo_books_bn(
        ms, led.repo_borrowed_bn[dealers], led.repo_lent_bn[dealers], all_cleared=False
    )
    exposure = pop.market_exposure_bn(
        long_value,
        led.money_bn[dealers],
        led.repo_lent_bn[dealers],
        cleared,
        ms.netting_efficiency,
        exemptions=False,
        cleared_reverse_repo_bn=cleared_reverse,
    )
    start_use = d.initial_utilization * np.exp(m.setup_rng.normal(0.0, d.initial_utilization_dispersion, d.count))
    start_use = np.clip(start_use, 0.05, 0.95)
    pop.other_assets_bn = np.maximum(pop.leverage_allowance_bn(equity) - exposure / start_use, 0.0)
    led.other_assets_bn[dealers] = pop.other_assets_bn
    dv01 = pop.net_dv01_mn(led, m.prices.dv01_per_par)
    pop.var_limit_mn = sc.dealers.var_z * sc.curve.level_vol_calm_bp * np.abs(dv01) / d.initial_risk_utilization
    pop.var_limit_mn = np.maximum(pop.var_limit_mn, 1e-6)
    return equity


def _open_equity(m: TreasuryMarketModel, dealer_equity_bn: np.ndarray) -> None:
    """Equity: dealers' is their Tier 1 capital (other liabilities absorb the rest); banks' is
    8% of deposits; everyone else's is what they own net."""
    led = m.ledger
    dealers = m.slices["dealer"]
    banks = m.slices["bank"]
    gaps = led.balance_gaps_bn()
    led.other_liabilities_bn[dealers] = gaps[dealers] - dealer_equity_bn
    deposits = led.deposits_owed_bn()[banks]
    bank_equity = m.config.banks.equity_share_of_deposits * deposits
    led.other_assets_bn[banks] = deposits + bank_equity - gaps[banks]
    led.equity_bn[:] = led.balance_gaps_bn()
    m.levered_funds.capital0_bn = led.equity_bn[m.accounts_of("levered_fund")].copy()
    m.levered_funds.reference_markup_bp = float(np.mean(m.dealers.repo_markup_bp()))
