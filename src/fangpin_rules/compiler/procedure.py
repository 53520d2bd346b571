"""What both back ends read alike in a procedure step's due date: the path along which a date
the working-day calendar cannot give (`runtime.Uncovered`) is carried on.

A step's due date may be counted from another step's date through shifts by a duration and
`next_working_day` (`next_working_day(steps.assignment) + review_period`). Along that path an
unknown date stays unknown, and the step is `unknown` with the year named. Anywhere else, a
step's unknown date reads as a missing one (`runtime.known_date`): a condition comparing it is
false, `??` gives the other side, and the household is still decided; and a working day the
calendar cannot give there, in the step's own expressions, makes the step `unknown` (the
record path raises `CalendarCoverageError` for it, caught around the step; the columnar
engine sends such a household to the record path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fangpin_rules.language import ast

__all__ = ["carried_path", "due_link"]


def due_link(node: ast.Expr, is_date: Callable[[ast.Expr], bool]) -> tuple[Any, ...] | None:
    """The node's place on the path of a due date: ("step", name) for `steps.NAME`, ("shift",
    date, duration, sign) for a date shifted by a duration, ("next", date) for
    `next_working_day(date)`; None for any other node (the path ends there)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
            node.value.id == "steps":
        return ("step", node.attr)
    if isinstance(node, ast.BinOp) and node.op in ("+", "-"):
        dated = (is_date(node.left), is_date(node.right))
        if any(dated) and not all(dated):
            date_node, duration = (node.left, node.right) if dated[0] else \
                (node.right, node.left)
            return ("shift", date_node, duration, -1 if node.op == "-" else 1)
    if isinstance(node, ast.Call) and node.func == "next_working_day" and len(node.args) == 1:
        return ("next", node.args[0])
    return None


def carried_path(node: ast.Expr, is_date: Callable[[ast.Expr], bool]) -> set[int]:
    """The nodes (by id) of a due date's path, from the due date itself to the `steps.NAME`
    at its end (if it ends at one): along them an unknown date is carried on. A working day
    the calendar cannot give anywhere else in a step (a condition, a done date, a shift off
    the path) makes the step unknown (`runtime.given_date`)."""
    link = due_link(node, is_date)
    if link is None:
        return set()
    if link[0] == "step":
        return {id(node)}
    return {id(node)} | carried_path(link[1], is_date)
