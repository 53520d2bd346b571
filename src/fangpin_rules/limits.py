"""Every bound on what a run reads, in one place (docs/security.md lists them).

A bound turns input that would exhaust memory or never end into a positioned error that says
which limit was met; the values are far above any real policy, table or record. The record
limits also keep one record from costing more than a constant factor of its own size to read,
decide and write, and keep decimal arithmetic exact where a decision depends on it.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

# -- files ---------------------------------------------------------------------------------
#: A policy file (YAML) and a YAML region table: bytes read at most.
MAX_POLICY_FILE_BYTES = 5_000_000

#: A CSV region table: bytes read at most, data rows, cells in one row, characters in one cell.
MAX_TABLE_FILE_BYTES = 50_000_000
MAX_TABLE_ROWS = 200_000
MAX_TABLE_COLUMNS = 50
MAX_TABLE_CELL_CHARS = 10_000

#: The text of `extends:` (a policy id or a relative path), in characters; an id with
#: ".yaml" after it still fits in one file name (255 bytes on common file systems).
MAX_EXTENDS_CHARS = 200

#: A chain of `extends:` (the file itself and every base it reaches): files, and bytes of them
#: all. A chain is the province, perhaps a city, a county; each file is bounded on its own too.
MAX_EXTENDS_CHAIN_FILES = 8
MAX_EXTENDS_CHAIN_BYTES = 10_000_000

#: A spreadsheet ledger (.xlsx or .csv): bytes read at most, and rows of its sheet.
MAX_LEDGER_FILE_BYTES = 500_000_000
MAX_LEDGER_ROWS = 2_000_000

# -- policy files and their expressions ------------------------------------------------------
MAX_YAML_DEPTH = 40
"""Nesting of YAML mappings and lists."""

MAX_RULES = 50_000
"""Rules in all first_match and collect decisions of one policy, bases included."""

MAX_EXPRESSION_LENGTH = 4000
"""Characters of one expression."""

MAX_EXPRESSION_DEPTH = 48
"""Nesting of one expression (brackets, operators, calls)."""

MAX_NAME_LENGTH = 128
"""Characters of one declared name."""

# -- amounts --------------------------------------------------------------------------------
# Money is yuan: at most a trillion either way, to 1/100 fen (4 places).
MONEY_MAX_ABS = Decimal(10) ** 12
MONEY_MAX_FRACTION_DIGITS = 4
# Ratios and plain numbers of a declared schema: the same magnitude, 10 places (what an Arrow
# decimal128(38, 10) column holds).
NUMBER_MAX_ABS = Decimal(10) ** 12
NUMBER_MAX_FRACTION_DIGITS = 10
# Trailing zeros are not places (7152.000 is 7152): they cost what their text costs. A zero
# is zero whatever its exponent (0E-999999).

# -- exact arithmetic -------------------------------------------------------------------------
# Why this precision is enough (docs/security.md, "Records"). Let I = 12 integer digits and
# F = 10 fraction digits bound every record number and policy value (money has fewer), and let
# a sum run over at most 10**H terms, H = 4 (100 members, a few kinds of expenditure). Then
# - a sum or difference has at most I + H + F = 26 digits: exact;
# - a product of two such values has at most 2 (I + H + F) = 52 digits: exact;
# - a quotient q = a / b (|a| < 10**(I+H), |b| >= 10**-F) is below 10**(I+H+F) and is rounded
#   by at most half a unit in its P-th digit, 10**(I+H+F-P). Compared with a threshold t that is
#   such a value or a product of two (at most 2F places), a / b != t means a - t b, a multiple
#   of 10**-3F, is not 0, so |a / b - t| >= 10**-(3F+I+H). Rounding cannot cross t when
#   I + H + F - P < -(3F + I + H), i.e. P > 2 (I + H) + 4 F = 72.
# (Two quotients compared with each other are not covered; the policies compare none.)
MAX_INTEGER_DIGITS = 12
MAX_FRACTION_DIGITS = NUMBER_MAX_FRACTION_DIGITS
SUM_HEADROOM_DIGITS = 4
DECIMAL_PRECISION = 2 * (MAX_INTEGER_DIGITS + SUM_HEADROOM_DIGITS) + 4 * MAX_FRACTION_DIGITS + 2
DECIMAL_CONTEXT = decimal.Context(
    prec=DECIMAL_PRECISION, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])

# -- what a rejection echoes ------------------------------------------------------------------
# A rejection names the record by its id and the field by its path; a hostile record can make
# either megabytes long. Beyond this many characters the text is cut and says how long it was.
ECHO_MAX_CHARS = 100
# A rejected record lists every problem it has, up to this many (and then how many more).
MAX_PROBLEMS_LISTED = 100

# -- impact attribution -----------------------------------------------------------------------
# Attribution builds and compiles the old policy with subsets of a diff's changes applied:
# each change alone, the changes cumulatively, then combinations. Each variant costs a check and
# a compile (about 0.15 s for the province's policy) and memory; beyond this many the attribution
# is left out of the report, which says so.
MAX_ATTRIBUTION_VARIANTS = 64
# The audit report lists this many households moved (the counts cover all of them), and draws
# this many in its chart.
ATTRIBUTION_ROWS_LISTED = 200
ATTRIBUTION_CHART_POINTS = 500


_CUT = re.compile(r"…\(cut: [0-9]+ characters\)")


def echo(text: str, limit: int = ECHO_MAX_CHARS) -> str:
    """`text` as a rejection may repeat it: whole when short, else its start and its length
    (a text cut already is left as it is)."""
    if len(text) <= limit or _CUT.fullmatch(text, limit):
        return text
    return f"{text[:limit]}…(cut: {len(text)} characters)"


def decimal_problem(value: Decimal, max_abs: Decimal, max_fraction_digits: int) -> str | None:
    """Why a record's decimal is outside the limits, or None when it is within them."""
    if not value.is_finite():
        return "must be a finite number"
    if value.copy_abs() > max_abs:  # exact, whatever the exponent
        return f"must be between -{max_abs:f} and {max_abs:f}"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent < 0 and any(digits):
        trailing_zeros = len(digits) - len(bytes(digits).rstrip(b"\0"))
        places = max(0, -exponent - trailing_zeros)  # 7152.000 has no decimal places
        if places > max_fraction_digits:
            return f"has more than {max_fraction_digits} decimal places"
    return None
