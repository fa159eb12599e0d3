"""Lower bounds of scenario values that the float arithmetic of the books can carry.

The model divides by scales (a haircut, a volatility, a comfortable level of reserves) and
sets amounts beside balances of thousands of billions. A value the schema's plain range
admits can still be too close to zero for that: an issue of $1e-300bn makes prices and
utilization NaN, a haircut of 2e-308 % makes a fund's leverage cap infinite. So amounts
where zero means "none" are zero or at least `SMALLEST_AMOUNT_BN` (a thousand dollars),
and scales are kept away from zero by their own `ge` bounds in the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

# A thousand dollars in $bn: far below any balance in the market, far above the rounding
# (2.2e-16 of the largest balances, ~1e-11 $bn) of books that run to $100,000bn.
SMALLEST_AMOUNT_BN = 1e-6


@dataclass(frozen=True)
class ZeroOrAtLeast:
    """Field metadata: the value is zero (none at all) or at least `smallest`, never in between.

    Pydantic applies it after the field's own `ge`/`le` range; `sim.scenario.reference`
    prints it in the keys tables and the property tests draw from it.
    """

    smallest: float

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: float) -> float:
        """`value` unchanged, or a ValueError saying what the key accepts."""
        if 0 < value < self.smallest:
            raise ValueError(f"0 or a number >= {self.smallest:g}")
        return value


# An amount ($bn) that may be zero: nothing issued, held, paid or sold.
Amount = Annotated[float, ZeroOrAtLeast(SMALLEST_AMOUNT_BN)]


def zero_or_at_least(metadata: list[Any]) -> float | None:
    """The smallest non-zero value a field's metadata allows, if it is a `ZeroOrAtLeast` field."""
    return next((item.smallest for item in metadata if isinstance(item, ZeroOrAtLeast)), None)
