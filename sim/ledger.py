"""The books: who holds which Treasury, who holds which money, and the central bank.

Money is two-tiered. Banks and bank-affiliated dealers hold reserves at the central bank;
everyone else holds deposits at a custodian bank. Every payment by a depositor moves its
custodian's reserves with it, so reserves change only through the central bank's
channels (purchases, TGA flows, ON RRP, SRF, repo operations, discount window, currency, the
interest it pays on reserves and the ON RRP, and its other assets: MBS paid down).

Every account keeps its equity by explicit P&L flows, so "assets = liabilities + equity"
is a real check and not a definition. Amounts in $ billions; prices per $1 of par.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KINDS = ("dealer", "real_money", "foreign_official", "levered_fund", "money_fund", "bank", "household")
TRADING_KINDS = KINDS[:5]


def split_to_the_cent(total_bn: float, shares: np.ndarray) -> np.ndarray:
    """`total_bn` spread over accounts by `shares` (summing to one), the rounding left on the
    last account, so a pooled payment's two sides are equal to the last bit ($bn)."""
    split = total_bn * shares
    split[-1] += total_bn - split.sum()
    return split


@dataclass(frozen=True)
class AccountMap:
    """Index ranges of each kind of account; trading accounts are also holder rows."""

    counts: dict[str, int]
    n_accounts: int = field(init=False)
    n_trading: int = field(init=False)

    def slice(self, kind: str) -> slice:
        start = 0
        for k in KINDS:
            if k == kind:
                return slice(start, start + self.counts[k])
            start += self.counts[k]
        raise KeyError(kind)

    def __post_init__(self) -> None:
        # Sizes are read on every payment: compute them once.
        object.__setattr__(self, "n_accounts", sum(self.counts[k] for k in KINDS))
        object.__setattr__(self, "n_trading", sum(self.counts[k] for k in TRADING_KINDS))


class Ledger:
    """Positions, money and the central bank's balance sheet.

    Attributes:
        holdings_bn: par held, shape (holders, issue slots); the last row is the SOMA.
        money_bn: reserves (banks, bank dealers) or deposits (all others), by account.
        equity_bn: equity of each account, moved only by P&L flows.
    """

    def __init__(
        self,
        accounts: AccountMap,
        n_slots: int,
        reserve_holder: np.ndarray,
        custodian: np.ndarray,
        parent_share: np.ndarray | None = None,
        parent_weight: np.ndarray | None = None,
    ):
        n = accounts.n_accounts
        self.accounts = accounts
        self.cb_row = accounts.n_trading
        self.holdings_bn = np.zeros((accounts.n_trading + 1, n_slots))
        self.price = np.ones(n_slots)  # mark price per $1 par, by slot
        self.money_bn = np.zeros(n)
        self.equity_bn = np.zeros(n)
        self.reserve_holder = reserve_holder.astype(bool)
        self._depositor = ~self.reserve_holder  # read on every payment
        self.custodian = custodian.astype(np.int64)
        # Large depositors bank with several banks: a share of each depositor's deposits sits at
        # the holding companies of bank-affiliated dealers, spread over them by fixed weights
        # (summing to one over those reserve holders); the rest at its own custodian.
        self.parent_share = np.zeros(n) if parent_share is None else np.asarray(parent_share, dtype=float)
        self.parent_weight = np.zeros(n) if parent_weight is None else np.asarray(parent_weight, dtype=float)
        self._shared_custody = bool((self.parent_share[self._depositor] > 0).any() and self.parent_weight.any())
        self.repo_lent_bn = np.zeros(n)
        self.repo_borrowed_bn = np.zeros(n)
        self.repo_interest_receivable_bn = np.zeros(n)
        self.repo_interest_payable_bn = np.zeros(n)
        self.on_rrp_bn = np.zeros(n)  # money-fund balances at the ON RRP facility
        self.srf_bn = np.zeros(n)  # Standing Repo Facility loans to dealers
        self.discount_window_bn = np.zeros(n)
        self.repo_operations_bn = np.zeros(n)  # the central bank's overnight repo operations with dealers
        self._central_bank_loans = {"srf": self.srf_bn, "dw": self.discount_window_bn,
                                    "repo_operations": self.repo_operations_bn}  # fmt: skip
        self.currency_held_bn = np.zeros(n)
        self.other_assets_bn = np.zeros(n)  # fixed blocks (the rest of a bank, MBS etc.)
        self.other_liabilities_bn = np.zeros(n)
        # Central bank and Treasury.
        self.tga_bn = 0.0
        self.currency_bn = 0.0
        self.cb_other_assets_bn = 0.0
        self.cb_capital_bn = 0.0
        self.srf_used_today_bn = 0.0

    # ------------------------------------------------------------ capacity
    def grow_slots(self, n_slots: int) -> None:
        extra = n_slots - self.holdings_bn.shape[1]
        if extra > 0:
            self.holdings_bn = np.hstack([self.holdings_bn, np.zeros((self.holdings_bn.shape[0], extra))])
            self.price = np.concatenate([self.price, np.ones(extra)])

    # ------------------------------------------------------------ money
    def _move_money(self, accounts: np.ndarray, amounts: np.ndarray) -> None:
        """Add `amounts` to accounts; depositors' custodians' reserves move with them (a depositor's
        parent share at the dealers' parents, by their weights; the rest at its own custodian)."""
        n = self.money_bn.size
        self.money_bn += np.bincount(accounts, weights=amounts, minlength=n)
        depositor = self._depositor[accounts]
        if depositor.all():  # most payments are depositors' alone: no selection to copy
            depositors, deposits = accounts, amounts
        elif depositor.any():
            depositors, deposits = accounts[depositor], amounts[depositor]
        else:
            return
        at_custodians, at_parents = self._deposits_by_bank(depositors, deposits)
        self.money_bn += at_custodians
        if at_parents is not None:
            self.money_bn += at_parents

    def _deposits_by_bank(self, depositors: np.ndarray, amounts_bn: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Where depositors' `amounts_bn` sit, per account ($bn): at their own custodians, and at
        the dealers' parents (their parent share, by the parents' weights; None without sharing)."""
        n = self.money_bn.size
        if not self._shared_custody:
            return np.bincount(self.custodian[depositors], weights=amounts_bn, minlength=n), None
        at_parents = amounts_bn * self.parent_share[depositors]
        at_custodians = np.bincount(self.custodian[depositors], weights=amounts_bn - at_parents, minlength=n)
        return at_custodians, at_parents.sum() * self.parent_weight

    def reserves_paid_out_bn(self, depositors: np.ndarray, amounts_bn: np.ndarray) -> np.ndarray:
        """What each account's reserves would lose if depositors paid `amounts_bn` out of the banking
        system (to the ON RRP, the TGA): their banks' share of it ($bn, by account). Nothing moves."""
        at_custodians, at_parents = self._deposits_by_bank(np.asarray(depositors, dtype=np.int64), amounts_bn)
        return at_custodians if at_parents is None else at_custodians + at_parents

    def transfer(self, payers: np.ndarray, payees: np.ndarray, amounts_bn: np.ndarray, income: bool) -> None:
        """Pay between private accounts, pair by pair. With `income`, the payment is P&L (interest, fees)."""
        self.pay_pooled(payers, amounts_bn, payees, amounts_bn, income)

    def pay_pooled(
        self, payers: np.ndarray, paid_bn: np.ndarray, payees: np.ndarray, received_bn: np.ndarray, income: bool
    ) -> None:
        """Many-to-many payment through a pool: payers' totals equal payees' totals."""
        payers = np.asarray(payers, dtype=np.int64)
        payees = np.asarray(payees, dtype=np.int64)
        paid_bn = np.asarray(paid_bn, dtype=float)
        received_bn = np.asarray(received_bn, dtype=float)
        self._move_money(payers, -paid_bn)
        self._move_money(payees, received_bn)
        if income:
            n = self.equity_bn.size
            self.equity_bn += np.bincount(payees, weights=received_bn, minlength=n)
            self.equity_bn -= np.bincount(payers, weights=paid_bn, minlength=n)

    def _official_income(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> float:
        """Pay `amounts_bn` to accounts (negative: from them) out of one of the Treasury's or the
        central bank's own lines, as the payee's income (or the payer's expense); returns the
        total, for the caller to book against that line."""
        accounts = np.asarray(accounts, dtype=np.int64)
        amounts_bn = np.asarray(amounts_bn, dtype=float)
        self._move_money(accounts, amounts_bn)
        self.equity_bn += np.bincount(accounts, weights=amounts_bn, minlength=self.equity_bn.size)
        return float(amounts_bn.sum())

    def government_pays(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> None:
        """Treasury payments out of the TGA that are income to the payee (outlays, coupons)."""
        self.tga_bn -= self._official_income(accounts, amounts_bn)

    def taxes_paid(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> None:
        """Tax receipts into the TGA (an expense of the payer)."""
        self.government_pays(accounts, -np.asarray(amounts_bn, dtype=float))

    def withdraw_currency(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> None:
        """Depositors take out notes: deposits and reserves fall, currency rises."""
        accounts = np.asarray(accounts, dtype=np.int64)
        amounts_bn = np.asarray(amounts_bn, dtype=float)
        self._move_money(accounts, -amounts_bn)
        self.currency_held_bn += np.bincount(accounts, weights=amounts_bn, minlength=self.money_bn.size)
        self.currency_bn += float(amounts_bn.sum())

    def place_on_rrp(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> None:
        """Money funds move cash into (positive) or out of (negative) the ON RRP facility."""
        accounts = np.asarray(accounts, dtype=np.int64)
        amounts_bn = np.asarray(amounts_bn, dtype=float)
        self._move_money(accounts, -amounts_bn)
        self.on_rrp_bn += np.bincount(accounts, weights=amounts_bn, minlength=self.money_bn.size)

    # ------------------------------------------------------------ repo
    def repo_open(
        self,
        lenders: np.ndarray,
        lent_bn: np.ndarray,
        interest_receivable_bn: np.ndarray,
        borrowers: np.ndarray,
        borrowed_bn: np.ndarray,
        interest_payable_bn: np.ndarray,
    ) -> None:
        """Open overnight repo: lenders' cash to borrowers against collateral (no P&L today).

        Lent and borrowed totals match, and so do the interest due tomorrow on each side.
        """
        n = self.money_bn.size
        self._move_money(np.asarray(lenders, dtype=np.int64), -np.asarray(lent_bn, dtype=float))
        self._move_money(np.asarray(borrowers, dtype=np.int64), np.asarray(borrowed_bn, dtype=float))
        self.repo_lent_bn += np.bincount(lenders, weights=lent_bn, minlength=n)
        self.repo_borrowed_bn += np.bincount(borrowers, weights=borrowed_bn, minlength=n)
        self.repo_interest_receivable_bn += np.bincount(lenders, weights=interest_receivable_bn, minlength=n)
        self.repo_interest_payable_bn += np.bincount(borrowers, weights=interest_payable_bn, minlength=n)

    def repo_close_all(self) -> None:
        """Repay every overnight repo with its interest (interest is P&L of both sides)."""
        everyone = np.arange(self.money_bn.size)
        cash = (
            self.repo_lent_bn + self.repo_interest_receivable_bn - self.repo_borrowed_bn - self.repo_interest_payable_bn
        )
        self._move_money(everyone, cash)
        self.equity_bn += self.repo_interest_receivable_bn - self.repo_interest_payable_bn
        for book in (
            self.repo_lent_bn,
            self.repo_borrowed_bn,
            self.repo_interest_receivable_bn,
            self.repo_interest_payable_bn,
        ):
            book[:] = 0.0

    def central_bank_lends(self, accounts: np.ndarray, amounts_bn: np.ndarray, facility: str) -> None:
        """SRF ("srf"), discount-window ("dw") or repo-operation ("repo_operations") loan ($bn; a
        negative amount repays): creates reserves."""
        accounts = np.asarray(accounts, dtype=np.int64)
        amounts_bn = np.asarray(amounts_bn, dtype=float)
        self._move_money(accounts, amounts_bn)
        book = self._central_bank_loans[facility]
        book += np.bincount(accounts, weights=amounts_bn, minlength=self.money_bn.size)

    def central_bank_interest(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> None:
        """Interest paid to the central bank on its loans: destroys reserves, adds to its capital."""
        self.cb_capital_bn -= self._official_income(accounts, -np.asarray(amounts_bn, dtype=float))

    def central_bank_pays_interest(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> None:
        """Interest the central bank pays on reserves and ON RRP balances: creates reserves (a fund's
        at its custodian), is the payee's income and comes out of the central bank's capital."""
        self.cb_capital_bn -= self._official_income(accounts, amounts_bn)

    def central_bank_other_assets_move(self, accounts: np.ndarray, amounts_bn: np.ndarray) -> None:
        """The central bank's other assets (agency MBS, other lending) grow by `amounts_bn` paid to
        `accounts` (negative: paid down by them, destroying reserves). The other side (mortgages, a
        borrower's loan) is off the model's books, so the payment is income or spending."""
        self.cb_other_assets_bn += self._official_income(accounts, amounts_bn)

    # ------------------------------------------------------------ securities
    def revalue(self, new_price: np.ndarray) -> None:
        """Mark every position to new prices; the change is P&L of the holder."""
        change = self.holdings_bn @ (new_price - self.price)
        n_trading = self.accounts.n_trading
        self.equity_bn[:n_trading] += change[:n_trading]
        # The SOMA is carried at par: its marks do not move the central bank's capital.
        self.price = new_price.copy()

    def trade(
        self, delta_bn: np.ndarray, cash_bn: np.ndarray, slots: np.ndarray | None = None, n_rows: int | None = None
    ) -> None:
        """Settle trades among private holders.

        Args:
            delta_bn: change in par holdings, shape (holders, slots traded); columns sum to 0.
            cash_bn: cash received by each of those holders (negative = paid); sums to 0.
            slots: the issue slots the columns of `delta_bn` refer to (default: all slots).
            n_rows: the holders are rows 0..n_rows-1 (default: every trading holder).
        """
        rows = n_rows if n_rows is not None else self.accounts.n_trading
        price = self.price
        if slots is None:
            self.holdings_bn[:rows] += delta_bn
        else:
            self.holdings_bn[:rows, slots] += delta_bn
            price = price[slots]
        self._move_money(np.arange(rows), cash_bn)
        # P&L of a trade = value received at the mark + cash received.
        self.equity_bn[:rows] += delta_bn @ price + cash_bn

    def issue(self, rows: np.ndarray, slot: int, par_bn: np.ndarray, price: float) -> float:
        """New securities to auction winners against cash to the TGA; returns proceeds ($bn).

        The SOMA's add-ons (row `cb_row`) are paid by the central bank out of its own
        balance sheet and so do not touch reserves.
        """
        rows = np.asarray(rows, dtype=np.int64)
        par_bn = np.asarray(par_bn, dtype=float)
        np.add.at(self.holdings_bn[:, slot], rows, par_bn)
        private = rows < self.accounts.n_trading
        cost = par_bn * price
        self._move_money(rows[private], -cost[private])
        # Bought at `price`, marked at the slot's mark price.
        self.equity_bn[rows[private]] += par_bn[private] * (self.price[slot] - price)
        soma_cost = float(cost[~private].sum())
        self.cb_capital_bn += float(par_bn[~private].sum()) - soma_cost  # SOMA carried at par
        proceeds = float(cost.sum())
        self.tga_bn += proceeds
        return proceeds

    def pay_coupons(self, slots: np.ndarray, coupon_per_par: np.ndarray) -> float:
        """Coupons out of the TGA to private holders; returns the total paid ($bn).

        The SOMA's coupons are remitted straight back to the Treasury, so they are left out.
        """
        amounts = self.holdings_bn[: self.accounts.n_trading, slots] @ coupon_per_par
        self.government_pays(np.arange(self.accounts.n_trading), amounts)
        return float(amounts.sum())

    def mature(self, slots: np.ndarray) -> float:
        """Repay the principal of matured issues and remove them; returns the SOMA's par.

        Private holders receive par (booking the pull from the mark to par as P&L); the
        SOMA's principal extinguishes the central bank's asset and the TGA together.
        """
        n_trading = self.accounts.n_trading
        par = self.holdings_bn[:, slots].sum(axis=1)
        value = self.holdings_bn[:n_trading, slots] @ self.price[slots]
        self.government_pays(np.arange(n_trading), par[:n_trading])
        self.equity_bn[:n_trading] -= value
        soma_par = float(par[-1])
        self.tga_bn -= soma_par
        self.holdings_bn[:, slots] = 0.0
        return soma_par

    def pro_rata_par(
        self, rows: np.ndarray, slots: np.ndarray, amount_bn: float, long_only: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Par to take from holder `rows` across `slots`, pro rata to their holdings.

        Returns (rows, slots, par $bn, total taken $bn): one entry per position touched; the
        total is capped by what the rows hold.
        """
        nothing = np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([]), 0.0
        if slots.size == 0 or amount_bn <= 0:
            return nothing
        held = self.holdings_bn[np.ix_(rows, slots)]
        if long_only:
            held = np.maximum(held, 0.0)
        total = held.sum()
        if total <= 0:
            return nothing
        taken = min(amount_bn, total)
        par = held * (taken / total)
        r, s = np.nonzero(par > 0)
        return rows[r], slots[s], par[r, s], taken

    def central_bank_buys(self, rows: np.ndarray, slots: np.ndarray, par_bn: np.ndarray, price: np.ndarray) -> None:
        """Outright purchase: the SOMA takes securities, the sellers get new reserves."""
        rows = np.asarray(rows, dtype=np.int64)
        # add.at: a slot appears once per seller, and every seller's par must reach the SOMA.
        np.subtract.at(self.holdings_bn, (rows, slots), par_bn)
        np.add.at(self.holdings_bn[self.cb_row], slots, par_bn)
        cost = par_bn * price
        self._move_money(rows, cost)
        self.equity_bn += np.bincount(rows, weights=cost - par_bn * self.price[slots], minlength=self.equity_bn.size)
        self.cb_capital_bn += float((par_bn - cost).sum())

    def treasury_buys_back(self, rows: np.ndarray, slots: np.ndarray, par_bn: np.ndarray, price: np.ndarray) -> float:
        """Buyback: holders deliver securities, which are retired, against cash from the TGA."""
        rows = np.asarray(rows, dtype=np.int64)
        np.subtract.at(self.holdings_bn, (rows, slots), par_bn)
        cost = par_bn * price
        self._move_money(rows, cost)
        self.equity_bn += np.bincount(rows, weights=cost - par_bn * self.price[slots], minlength=self.equity_bn.size)
        self.tga_bn -= float(cost.sum())
        return float(cost.sum())

    # ------------------------------------------------------------ reading
    def reserves_bn(self) -> float:
        return float(self.money_bn[self.reserve_holder].sum())

    def soma_par_bn(self) -> float:
        return float(self.holdings_bn[self.cb_row].sum())

    def deposits_owed_bn(self) -> np.ndarray:
        """Deposits each bank owes its depositors (zero for non-banks)."""
        depositors = np.flatnonzero(~self.reserve_holder)
        at_custodians, at_parents = self._deposits_by_bank(depositors, self.money_bn[depositors])
        return at_custodians if at_parents is None else at_custodians + at_parents

    def securities_value_bn(self) -> np.ndarray:
        """Market value of each trading holder's positions ($bn)."""
        return self.holdings_bn[: self.accounts.n_trading] @ self.price

    def balance_gaps_bn(self) -> np.ndarray:
        """assets - liabilities - equity for every account (zero when the books balance)."""
        return self._balance()[0]

    def gross_size_bn(self) -> np.ndarray:
        """Every line of each account's balance sheet in absolute value, summed ($bn).

        The scale of a relative balance check: assets - liabilities - equity is a sum of
        these lines, each the running sum of the flows booked to it, so its rounding error
        is a few machine epsilons times them. Gross assets alone miss what sits on the
        other side: a dealer funded by a large window loan with equity far below zero, a
        bank whose fixed block is negative (reserves above its deposits and equity), a
        book whose long and short positions net out.
        """
        return self._balance()[1]

    def _balance(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.money_bn.size
        n_trading = self.accounts.n_trading
        securities = np.zeros(n)
        securities[:n_trading] = self.securities_value_bn()
        # Long and short positions valued apart: they offset in the net value but each is a line.
        positions = np.zeros(n)
        positions[:n_trading] = np.abs(self.holdings_bn[:n_trading]) @ self.price
        assets = (
            self.money_bn
            + securities
            + self.repo_lent_bn
            + self.on_rrp_bn
            + self.currency_held_bn
            + self.other_assets_bn
        )
        deposits_owed = self.deposits_owed_bn()
        liabilities = (
            self.repo_borrowed_bn
            + self.srf_bn
            + self.discount_window_bn
            + self.repo_operations_bn
            + self.other_liabilities_bn
            + deposits_owed
        )
        lines = (
            self.money_bn,
            self.repo_lent_bn,
            self.on_rrp_bn,
            self.currency_held_bn,
            self.other_assets_bn,
            self.repo_borrowed_bn,
            self.srf_bn,
            self.discount_window_bn,
            self.repo_operations_bn,
            self.other_liabilities_bn,
            deposits_owed,
            self.equity_bn,
        )
        gross = positions + np.sum(np.abs(lines), axis=0)
        return assets - liabilities - self.equity_bn, gross

    def central_bank_gross_bn(self) -> float:
        """Every line of the central bank's balance sheet in absolute value, summed ($bn)."""
        lines = (
            self.soma_par_bn(),
            self.cb_other_assets_bn,
            self.srf_bn.sum(),
            self.discount_window_bn.sum(),
            self.repo_operations_bn.sum(),
            self.reserves_bn(),
            self.tga_bn,
            self.on_rrp_bn.sum(),
            self.currency_bn,
            self.cb_capital_bn,
        )
        return float(np.abs(lines).sum())

    def central_bank_loans_bn(self) -> float:
        """The central bank's loans outstanding: SRF, discount window and repo operations ($bn)."""
        return float(self.srf_bn.sum() + self.discount_window_bn.sum() + self.repo_operations_bn.sum())

    def central_bank_gap_bn(self) -> float:
        """Central bank assets - liabilities - capital (zero when its books balance)."""
        assets = self.soma_par_bn() + self.cb_other_assets_bn + self.central_bank_loans_bn()
        liabilities = self.reserves_bn() + self.tga_bn + self.on_rrp_bn.sum() + self.currency_bn
        return float(assets - liabilities - self.cb_capital_bn)
