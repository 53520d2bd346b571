"""docs/security.md is true: its table of limits gives every constant of limits.py, with the
value the code uses."""

from __future__ import annotations

import re

from fangpin_rules import limits

from support import ROOT

TEXT = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def test_the_limits_table_is_the_code() -> None:
    table = {name: int(value.replace(",", "")) for name, value in
             re.findall(r"^\| `(MAX_\w+)` \| ([\d,]+) \|", TEXT, flags=re.M)}
    constants = {name: value for name, value in vars(limits).items() if name.startswith("MAX_")}
    assert table and table == constants
