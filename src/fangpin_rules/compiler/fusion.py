"""Fusing aggregates over the record's lists into one loop per list (the fast path only).

A policy may hold a dozen `any(… for m in members)`; each is its own generator, and a
household's members are walked a dozen times. A hand-written function walks them once. When an
aggregate's body can never raise and reads only the bound member, parameters, literals, the
evaluation date and the record (nothing computed later), its value does not depend on when it
is computed: the compiler computes all such aggregates, each distinct one once, in one loop per
list at the top of the function. Inside each body, `and`/`or` still short-circuit, so a costly
call such as `age(m.birth_date)` runs only for the members that reach it (hoisting it out of the
bodies measured slower). Anything else keeps its own generator, in place, so a condition never
reached can never fail. The traced path is never fused: it is the reference the fast path is
tested against (benchmarks/bench_core.py measures the gain).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from fangpin_rules.checker.checked import CheckedPolicy
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.functions import FUNCTIONS
from fangpin_rules.language.parser import unparse

_TOTAL_FUNCTIONS = {"age", "abs", "min", "max", "year", "month", "count", "days_between"}


@dataclass
class FusedAggregate:
    key: str  # canonical text, the bound name written as `_`
    var: str  # the local holding its value
    node: ast.Aggregate  # one occurrence (the body to compile)


@dataclass
class FusedLoop:
    iterable: str  # the record's field
    aggregates: list[FusedAggregate] = field(default_factory=list)


@dataclass
class FusionPlan:
    loops: list[FusedLoop] = field(default_factory=list)
    by_node: dict[int, str] = field(default_factory=dict)  # id(aggregate) -> local


def plan_fusion(policy: CheckedPolicy) -> FusionPlan:
    plan = FusionPlan()
    loops: dict[str, FusedLoop] = {}
    by_key: dict[tuple[str, str], str] = {}
    for tree in _expressions(policy):
        for node, enclosing in _aggregates(tree):
            if not _fusable(node, policy, enclosing - {node.var}):
                continue
            assert isinstance(node.iterable, ast.Name)
            loop = loops.setdefault(node.iterable.id, FusedLoop(node.iterable.id))
            key = _key(node)
            var = by_key.get((loop.iterable, key))
            if var is None:
                var = f"f_{len(by_key)}"
                by_key[(loop.iterable, key)] = var
                loop.aggregates.append(FusedAggregate(key, var, node))
            plan.by_node[id(node)] = var
    plan.loops = list(loops.values())
    return plan


def _expressions(policy: CheckedPolicy) -> list[ast.Expr]:
    trees: list[ast.Expr] = []
    for name in policy.order:
        node = policy.nodes[name]
        for expr in (node.expr, node.when):
            if expr is not None:
                trees.append(expr.tree)
        trees.extend(rule.when.tree for rule in node.rules)
    return trees


def _aggregates(tree: ast.Expr) -> list[tuple[ast.Aggregate, frozenset[str]]]:
    """Every aggregate in `tree` in `ast.walk`'s order, with the names bound by the
    aggregates around it (an aggregate's iterable is read outside it, its body and filter
    inside)."""
    found: list[tuple[ast.Aggregate, frozenset[str]]] = []
    stack: list[tuple[ast.Expr, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, enclosing = stack.pop()
        if isinstance(node, ast.Aggregate):
            found.append((node, enclosing))
            inside = enclosing | {node.var}
            scoped = [(child, enclosing if child is node.iterable else inside)
                      for child in ast.children(node)]
        else:
            scoped = [(child, enclosing) for child in ast.children(node)]
        stack.extend(reversed(scoped))
    return found


def _fusable(node: ast.Aggregate, policy: CheckedPolicy, enclosing: frozenset[str]) -> bool:
    """Whether the aggregate may be computed once at the top of the function: over one of
    the record's lists, its body total and reading no item of an aggregate around it (`m`
    in `any(count(n.x == m.x for n in members) > 1 for m in members)` differs per `m`)."""
    iterable = node.iterable
    if not isinstance(iterable, ast.Name):
        return False
    name = iterable.id
    if name in policy.nodes or name in policy.parameters or name in ("as_of", "case", "steps"):
        return False
    parts = [node.body] + ([node.filter] if node.filter is not None else [])
    if any(isinstance(sub, ast.Name) and sub.id in enclosing
           for part in parts for sub in ast.walk(part)):
        return False
    return all(_total(part, node.var, policy) for part in parts)


def _total(tree: ast.Expr, bound: str, policy: CheckedPolicy) -> bool:
    """Cannot raise, and reads nothing computed by the policy (only the bound name, the
    record, parameters, literals and the evaluation date)."""
    for node in ast.walk(tree):
        match node:
            case ast.Aggregate():
                return False
            case ast.Name(id=name) if name in policy.nodes:
                return False
            case ast.Call(func=func) if func not in _TOTAL_FUNCTIONS or \
                    FUNCTIONS[func].needs_calendar:
                return False
            case ast.BinOp(op=op) if op == "/" or t.strip(
                    policy.expr_types.get(id(node), t.DATE)) not in t.NUMERIC:
                return False
            case ast.Duration() | ast.IfExpr():
                return False
    return True


def _key(node: ast.Aggregate) -> str:
    """Canonical text with the bound name renamed `_`, so `any(m.x for m in l)` and
    `any(p.x for p in l)` are one aggregate."""
    return unparse(_rename(node, node.var))


def _rename(node: ast.Expr, bound: str) -> ast.Expr:
    if isinstance(node, ast.Name):
        return dataclasses.replace(node, id="_") if node.id == bound else node
    if isinstance(node, ast.Aggregate):
        if node.var != bound:  # an inner aggregate binding its own name: not fused anyway
            return node
        node = dataclasses.replace(node, var="_")
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, ast.Expr):
            changes[f.name] = _rename(value, bound)
        elif isinstance(value, tuple) and value and isinstance(value[0], ast.Expr):
            changes[f.name] = tuple(_rename(v, bound) for v in value)
    return dataclasses.replace(node, **changes) if changes else node
