"""Field types of the data contract that carry meaning beyond their Python type.

`Money` and `Ratio` are both exact decimals; the marker tells the policy language's type checker
which one a field is, so that money compared with a ratio (or summed with a date) is a type error.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from pydantic import Field


@dataclass(frozen=True)
class Quantity:
    """Marks a decimal field with the kind of quantity it holds (`money`, `ratio`)."""

    kind: str


# Yuan per year. Read from JSON as the exact decimal the text spells (never a binary float);
# bounded so that no record can make arithmetic explode.
Money = Annotated[
    Decimal,
    Quantity("money"),
    Field(allow_inf_nan=False, ge=Decimal("-1e12"), le=Decimal("1e12")),
]
NonNegativeMoney = Annotated[
    Decimal,
    Quantity("money"),
    Field(allow_inf_nan=False, ge=Decimal(0), le=Decimal("1e12")),
]
Ratio = Annotated[Decimal, Quantity("ratio"), Field(allow_inf_nan=False)]
