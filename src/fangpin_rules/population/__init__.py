"""The county's collective work over its households: regions below the county, the monthly
ledger, the departments' lists and the assessment (docs/county-reports.md).

It sits on the engine (households are decided by `Policy`), which never imports it.
"""

from fangpin_rules.population.deciding import (
    Counts,
    Decided,
    Period,
    PeriodError,
    decide_households,
    month,
    quarter,
)
from fangpin_rules.population.ledger import monthly_ledger
from fangpin_rules.population.regions import at_level, level_of, normalize, parent
from fangpin_rules.population.tables import Row, Table, render

__all__ = [
    "Counts",
    "Decided",
    "Period",
    "PeriodError",
    "Row",
    "Table",
    "at_level",
    "decide_households",
    "level_of",
    "month",
    "monthly_ledger",
    "normalize",
    "parent",
    "quarter",
    "render",
]
