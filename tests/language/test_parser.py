"""The expression grammar: what parses, what it means, what is refused, and where."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fangpin_rules.language import ast
from fangpin_rules.language.parser import ExprSyntaxError, parse_expression, unparse


@pytest.mark.parametrize(("text", "canonical"), [
    ("a+b*c", "a + b * c"),
    ("(a + b) * c", "(a + b) * c"),
    ("a - (b - c)", "a - (b - c)"),
    ("a   and  (b or c)", "a and (b or c)"),
    ("not (a and b)", "not (a and b)"),
    ("x ?? 0 + 1", "x ?? 0 + 1"),
    ("(x ?? 0) + 1", "(x ?? 0) + 1"),
    ("if a then 1 else 2", "if a then 1 else 2"),
    ('x in ["a", "b"]', 'x in ["a", "b"]'),
    ("x not in [1, 2]", "x not in [1, 2]"),
    ("any(m.age >= 60 for m in members)", "any(m.age >= 60 for m in members)"),
    ("count(members)", "count(members)"),
    ("5 working_days", "5 working_days"),
    ("1 month", "1 month"),
    ("1 months", "1 month"),
    ("d + 12 months - 1 days", "d + 12 months - 1 day"),
    ("2021-06-04", "2021-06-04"),
    ("户主收入 > 7152", "户主收入 > 7152"),
    ("0.50", "0.5"),
    ("-x", "-x"),
])
def test_canonical_text_ignores_formatting(text: str, canonical: str) -> None:
    assert unparse(parse_expression(text)) == canonical
    # the canonical text parses back to the same canonical text
    assert unparse(parse_expression(canonical)) == canonical


def test_precedence_builds_the_expected_tree() -> None:
    tree = parse_expression("a or b and not c")
    assert isinstance(tree, ast.BoolOp) and tree.op == "or"
    right = tree.operands[1]
    assert isinstance(right, ast.BoolOp) and right.op == "and"
    assert isinstance(right.operands[1], ast.Not)


def test_numbers_are_exact_decimals() -> None:
    tree = parse_expression("7152 * 1.1")
    assert isinstance(tree, ast.BinOp)
    assert isinstance(tree.right, ast.Number) and tree.right.value == Decimal("1.1")


def test_spans_point_at_the_source_text() -> None:
    text = "net_income / size"
    tree = parse_expression(text)
    assert isinstance(tree, ast.BinOp)
    assert text[tree.right.span[0]:tree.right.span[1]] == "size"


@pytest.mark.parametrize(("text", "offset", "message"), [
    ("a +", 3, "ends too early"),
    ("a = b", 2, "unexpected character '='"),
    ("a ** 2", 3, "unexpected"),
    ("1e999999", 1, "unexpected"),
    ("2021-13-45", 0, "not a valid date"),
    ("", 0, "empty"),
    ("a.", 2, "ends too early"),
    ("f(,)", 2, "unexpected"),
    ("1.5 months", 0, "whole number"),
])
def test_syntax_errors_name_the_offset(text: str, offset: int, message: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse_expression(text)
    assert message in info.value.message
    assert info.value.offset == offset


def test_exponent_operator_does_not_exist() -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse_expression("10 ** 1000000")
    assert "no exponent operator" in info.value.hint


@pytest.mark.parametrize("text", [
    "(" * 60 + "a" + ")" * 60,
    "[" * 60 + "]" * 60,
    "not " * 990 + "a",  # within the length limit: refused for depth
    "-" * 3990 + "1",
    "a" + " + a" * 1500,
])
def test_deep_or_huge_expressions_are_refused_not_crashed(text: str) -> None:
    with pytest.raises(ExprSyntaxError):
        parse_expression(text)


def test_moderate_nesting_is_fine() -> None:
    text = "(" * 30 + "a" + ")" * 30
    assert unparse(parse_expression(text)) == "a"
