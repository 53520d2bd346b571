"""Normal form of an expression: equivalent rewordings get the same tree, hence the same text.

`unparse` already ignores layout (spacing, line breaks, redundant brackets). `normalize` goes
further, with rewrites that keep the meaning under the language's rules for unknown values
(docs/language.md, "Unknown values"):

- `and`/`or` chains are flattened and their operands sorted (the language has no side effects);
- `a > b` becomes `b < a` and `a >= b` becomes `b <= a`; `==`/`!=` operands are sorted;
- `not not a` is `a`; `not (a == b)` is `a != b`; `not (a in b)` is `a not in b`;
- `not (a < b)` is `b <= a` (and so on) only when both sides are always known: an ordering
  comparison with an unknown side is false, so `not (x < 5)` holds for an unknown `x` while
  `x >= 5` does not;
- a list literal after `in` is a set: its items are sorted and repeated ones dropped;
- numbers are written in one way (`7152.00` is `7152`).

Arithmetic is left as written: Decimal sums are exact but not associative under rounding, and an
auditor reads a changed formula better as written. A reordered `and` that relied on
short-circuiting to avoid a division by zero compares equal: the results agree wherever both are
defined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.parser import unparse

_MIRROR = {">": "<", ">=": "<="}
_NEGATED_ORDER = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_NEGATED_EQUALITY = {"==": "!=", "!=": "=="}
_NO_SPAN = (0, 0)

TypeLookup = Mapping[int, t.Type]


def canonical(tree: ast.Expr, types: TypeLookup | None = None) -> str:
    """The text of the normal form: equal for equivalent rewordings of the same condition.

    `types` maps `id(node)` to the node's checked type (`CheckedPolicy.expr_types`); without it
    every value is taken as possibly unknown, which only forgoes the `not (a < b)` rewrite.
    """
    return unparse(normalize(tree, types))


def normalize(tree: ast.Expr, types: TypeLookup | None = None) -> ast.Expr:
    """The normal form of `tree` (spans are dropped: the result has no source text)."""
    known = _known_in(types or {})
    return _Normalizer(known).run(tree)


def _known_in(types: TypeLookup) -> Callable[[ast.Expr], bool]:
    def known(node: ast.Expr) -> bool:
        found = types.get(id(node))
        return found is not None and not isinstance(found, t.Opt) and found != t.NULL
    return known


class _Normalizer:
    def __init__(self, known: Callable[[ast.Expr], bool]) -> None:
        self.known = known

    def run(self, node: ast.Expr) -> ast.Expr:
        match node:
            case ast.Number(value=value):
                return ast.Number(_NO_SPAN, value, _number_text(value))
            case ast.Attribute(value=v, attr=a):
                return ast.Attribute(_NO_SPAN, self.run(v), a, _NO_SPAN)
            case ast.Call(func=f, args=args):
                return ast.Call(_NO_SPAN, f, tuple(self.run(a) for a in args), _NO_SPAN)
            case ast.Aggregate(func=f, var=var, iterable=it, body=body, filter=cond):
                return ast.Aggregate(_NO_SPAN, f, var, self.run(it), self.run(body), _NO_SPAN,
                                     self.run(cond) if cond is not None else None)
            case ast.ListLit(items=items):
                return ast.ListLit(_NO_SPAN, tuple(self.run(i) for i in items))
            case ast.Neg(operand=o):
                return ast.Neg(_NO_SPAN, self.run(o))
            case ast.Not(operand=o):
                return self.negate(o)
            case ast.BoolOp(op=op, operands=ops):
                return self.bool_op(op, [self.run(o) for o in ops])
            case ast.BinOp(op=op, left=left, right=right):
                return ast.BinOp(_NO_SPAN, op, self.run(left), self.run(right))
            case ast.Compare(op=op, left=left, right=right):
                return self.compare(op, self.run(left), self.run(right))
            case ast.Contains(item=item, container=container, negated=negated):
                return self.contains(self.run(item), self.run(container), negated)
            case ast.Coalesce(left=left, right=right):
                return ast.Coalesce(_NO_SPAN, self.run(left), self.run(right))
            case ast.IfExpr(cond=c, then=a, orelse=b):
                return ast.IfExpr(_NO_SPAN, self.run(c), self.run(a), self.run(b))
        return node  # literals and names carry no sub-expression

    def negate(self, operand: ast.Expr) -> ast.Expr:
        """`not operand`, pushed inwards where that keeps the meaning."""
        match operand:
            case ast.Not(operand=inner):  # `not` takes known booleans: not not a == a
                return self.run(inner)
            case ast.Compare(op=op, left=left, right=right) if op in _NEGATED_EQUALITY:
                return self.compare(_NEGATED_EQUALITY[op], self.run(left), self.run(right))
            case ast.Compare(op=op, left=left, right=right) if self.known(left) and \
                    self.known(right):
                return self.compare(_NEGATED_ORDER[op], self.run(left), self.run(right))
            case ast.Contains(item=item, container=container, negated=negated):
                return self.contains(self.run(item), self.run(container), not negated)
        return ast.Not(_NO_SPAN, self.run(operand))

    def bool_op(self, op: str, operands: list[ast.Expr]) -> ast.Expr:
        flat: dict[str, ast.Expr] = {}
        for operand in operands:
            parts = operand.operands if isinstance(operand, ast.BoolOp) and operand.op == op \
                else (operand,)
            for part in parts:
                flat.setdefault(unparse(part), part)
        if len(flat) == 1:
            return next(iter(flat.values()))
        return ast.BoolOp(_NO_SPAN, op, tuple(flat[key] for key in sorted(flat)))

    def compare(self, op: str, left: ast.Expr, right: ast.Expr) -> ast.Expr:
        if op in _MIRROR:
            op, left, right = _MIRROR[op], right, left
        elif op in _NEGATED_EQUALITY and unparse(right) < unparse(left):
            left, right = right, left
        return ast.Compare(_NO_SPAN, op, left, right)

    def contains(self, item: ast.Expr, container: ast.Expr, negated: bool) -> ast.Expr:
        if isinstance(container, ast.ListLit):
            unique = {unparse(i): i for i in container.items}
            container = ast.ListLit(_NO_SPAN, tuple(unique[key] for key in sorted(unique)))
        return ast.Contains(_NO_SPAN, item, container, negated)


def _number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")
