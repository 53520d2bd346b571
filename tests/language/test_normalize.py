"""The normal form: equivalent rewordings meet, different conditions stay apart."""

from __future__ import annotations

import pytest

from fangpin_rules.language import types as t
from fangpin_rules.language.ast import walk
from fangpin_rules.language.normalize import canonical
from fangpin_rules.language.parser import parse_expression


def _canon(text: str) -> str:
    return canonical(parse_expression(text))


def _canon_known(text: str) -> str:
    """As if every name were a known (non-null) count: what the checker says of such names."""
    tree = parse_expression(text)
    return canonical(tree, {id(node): t.COUNT for node in walk(tree)})


@pytest.mark.parametrize(("one", "other"), [
    ("a and b", "b and a"),
    ("a and (b and c)", "(c and a) and b"),
    ("a or b or a", "b or a"),
    ("x > 5", "5 < x"),
    ("x >= y", "y <= x"),
    ("x == 1", "1 == x"),
    ("x != y", "y != x"),
    ("not not a", "a"),
    ("not (x == 1)", "x != 1"),
    ("not (x in [1, 2])", "x not in [2, 1]"),
    ('c in ["a", "b"]', 'c in ["b", "a", "b"]'),
    ("x<7152.00", "x < 7152"),
    ("(a and b) or c", "c or (b and a)"),
    ("any(m.x > 1 and m.y for m in members)", "any(m.y and 1 < m.x for m in members)"),
    ("if a > b then 1 else 2", "if b < a then 1 else 2"),
])
def test_equivalent_rewordings_have_one_normal_form(one: str, other: str) -> None:
    assert _canon(one) == _canon(other)


@pytest.mark.parametrize(("one", "other"), [
    ("a and b", "a or b"),
    ("x < 5", "x <= 5"),
    ("x < 5", "5 < x"),
    ("x - y", "y - x"),
    ('c in ["a", "b"]', 'c in ["a", "c"]'),
    ("x in [1, 2]", "x not in [1, 2]"),
    ("not a", "a"),
])
def test_different_conditions_stay_different(one: str, other: str) -> None:
    assert _canon(one) != _canon(other)


def test_negated_ordering_is_rewritten_only_when_both_sides_are_known() -> None:
    # An unknown x satisfies neither x < 5 nor x >= 5, so `not (x < 5)` is true for it while
    # `x >= 5` is false: without types (x may be unknown) the two must not meet.
    assert _canon("not (x < 5)") != _canon("x >= 5")
    assert _canon_known("not (x < 5)") == _canon_known("x >= 5")
    assert _canon_known("not (x >= y)") == _canon_known("x < y")


def test_an_optional_side_blocks_the_rewrite() -> None:
    tree = parse_expression("not (x < 5)")
    types = {id(node): t.COUNT for node in walk(tree)}
    compare = tree.operand  # type: ignore[attr-defined]
    types[id(compare.left)] = t.Opt(t.COUNT)
    assert canonical(tree, types) == "not x < 5"


def test_layout_is_no_difference() -> None:
    assert _canon("a  and\n   (b)") == _canon("b and a") == "a and b"
