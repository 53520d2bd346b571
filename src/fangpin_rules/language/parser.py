"""Text -> expression tree, with the grammar of `grammar.lark`.

Errors come back as `ExprSyntaxError` with the offset of the offending character, so the
caller can place them in the YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from fangpin_rules.language import ast
from fangpin_rules.limits import MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH

MAX_DEPTH = MAX_EXPRESSION_DEPTH
_UNITS = {
    "working_day": "working_days", "working_days": "working_days",
    "day": "days", "days": "days",
    "month": "months", "months": "months",
    "quarter": "quarters", "quarters": "quarters",
    "year": "years", "years": "years",
}
_TOKEN_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "DATE": "a date",
    "COMPARE": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'", "UNIT": "a unit",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "COLON": "':'",
    "DOT": "'.'", "$END": "the end of the expression",
}


@dataclass(frozen=True)
class ExprSyntaxError(Exception):
    message: str
    offset: int
    length: int = 1
    hint: str = ""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _span(meta_or_token: Any) -> ast.Span:
    if isinstance(meta_or_token, Token):
        return (meta_or_token.start_pos or 0, meta_or_token.end_pos or 0)
    return (meta_or_token.start_pos, meta_or_token.end_pos)


@v_args(meta=True)
class _ToAst(Transformer[Token, ast.Expr]):
    def number(self, meta: Any, children: list[Token]) -> ast.Expr:
        tok = children[0]
        return ast.Number(_span(meta), Decimal(str(tok)), str(tok))

    def duration(self, meta: Any, children: list[Token]) -> ast.Expr:
        amount, unit = children
        if "." in str(amount):
            raise ExprSyntaxError("a duration is a whole number of units", amount.start_pos or 0,
                                  len(str(amount)), "write e.g. 5 working_days or 12 months")
        return ast.Duration(_span(meta), int(str(amount)), _UNITS[str(unit)])

    def string(self, meta: Any, children: list[Token]) -> ast.Expr:
        return ast.String(_span(meta), str(children[0])[1:-1])

    def date(self, meta: Any, children: list[Token]) -> ast.Expr:
        tok = children[0]
        try:
            return ast.DateLit(_span(meta), date.fromisoformat(str(tok)))
        except ValueError:
            raise ExprSyntaxError(f"'{tok}' is not a valid date", tok.start_pos or 0,
                                  len(str(tok))) from None

    def true(self, meta: Any, children: list[Token]) -> ast.Expr:
        return ast.Bool(_span(meta), True)

    def false(self, meta: Any, children: list[Token]) -> ast.Expr:
        return ast.Bool(_span(meta), False)

    def null(self, meta: Any, children: list[Token]) -> ast.Expr:
        return ast.Null(_span(meta))

    def name(self, meta: Any, children: list[Token]) -> ast.Expr:
        return ast.Name(_span(meta), str(children[0]))

    def attribute(self, meta: Any, children: list[Any]) -> ast.Expr:
        value, attr = children
        return ast.Attribute(_span(meta), value, str(attr), _span(attr))

    def call(self, meta: Any, children: list[Any]) -> ast.Expr:
        func, *args = children
        return ast.Call(_span(meta), str(func), tuple(args), _span(func))

    def aggregate(self, meta: Any, children: list[Any]) -> ast.Expr:
        func, body, var, iterable, *cond = children
        return ast.Aggregate(_span(meta), str(func), str(var), iterable, body, _span(func),
                             cond[0] if cond else None)

    def list_(self, meta: Any, children: list[Any]) -> ast.Expr:
        return ast.ListLit(_span(meta), tuple(children))

    def not_(self, meta: Any, children: list[ast.Expr]) -> ast.Expr:
        return ast.Not(_span(meta), children[0])

    def neg(self, meta: Any, children: list[ast.Expr]) -> ast.Expr:
        return ast.Neg(_span(meta), children[0])

    def or_chain(self, meta: Any, children: list[ast.Expr]) -> ast.Expr:
        return children[0] if len(children) == 1 else ast.BoolOp(_span(meta), "or",
                                                                  tuple(children))

    def and_chain(self, meta: Any, children: list[ast.Expr]) -> ast.Expr:
        return children[0] if len(children) == 1 else ast.BoolOp(_span(meta), "and",
                                                                  tuple(children))

    def coalesce_chain(self, meta: Any, children: list[Any]) -> ast.Expr:
        result: ast.Expr = children[0]
        for right in children[1:]:
            result = ast.Coalesce((result.span[0], right.span[1]), result, right)
        return result

    def arith_chain(self, meta: Any, children: list[Any]) -> ast.Expr:
        result: ast.Expr = children[0]
        for op, right in zip(children[1::2], children[2::2], strict=True):
            result = ast.BinOp((result.span[0], right.span[1]), str(op), result, right)
        return result

    def compare(self, meta: Any, children: list[Any]) -> ast.Expr:
        left, op, right = children
        return ast.Compare(_span(meta), str(op), left, right)

    def contains(self, meta: Any, children: list[Any]) -> ast.Expr:
        return ast.Contains(_span(meta), children[0], children[1], False)

    def not_contains(self, meta: Any, children: list[Any]) -> ast.Expr:
        return ast.Contains(_span(meta), children[0], children[1], True)

    def if_expr(self, meta: Any, children: list[Any]) -> ast.Expr:
        return ast.IfExpr(_span(meta), children[0], children[1], children[2])


def _nesting(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "([":
            depth += 1
            best = max(best, depth)
        elif ch in ")]":
            depth -= 1
    return best


def parse_expression(text: str) -> ast.Expr:
    """Parse one expression; raises ExprSyntaxError."""
    if not isinstance(text, str):
        raise ExprSyntaxError("an expression must be text", 0)
    if not text.strip():
        raise ExprSyntaxError("the expression is empty", 0, hint="write an expression")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExprSyntaxError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} "
                              "characters", 0, hint="split it into named definitions")
    if _nesting(text) > MAX_DEPTH:
        raise ExprSyntaxError(f"the expression nests brackets deeper than {MAX_DEPTH} levels", 0,
                              hint="split it into named definitions")
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as exc:
        pos: int = exc.pos_in_stream or 0
        ch = text[pos] if pos < len(text) else ""
        hint = "use ==, !=, and, or, not" if ch in "=&|!" else ""
        raise ExprSyntaxError(f"unexpected character '{ch}'", pos, 1, hint) from None
    except UnexpectedEOF as exc:
        raise ExprSyntaxError("the expression ends too early", len(text), 1,
                              "expected " + _expected(exc.expected)) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise ExprSyntaxError("the expression ends too early", len(text), 1,
                                  "expected " + _expected(exc.expected)) from None
        hint = "expected " + _expected(exc.expected)
        if str(tok) == "*" and text[(tok.start_pos or 1) - 1:(tok.start_pos or 0) + 1] == "**":
            hint = "there is no exponent operator: write the multiplication out"
        raise ExprSyntaxError(f"unexpected {_TOKEN_NAMES.get(tok.type, repr(str(tok)))} "
                              f"'{tok}'", tok.start_pos or 0, len(str(tok)), hint) from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark input errors
        raise ExprSyntaxError(str(exc), getattr(exc, "pos_in_stream", 0) or 0) from None
    try:
        result = _ToAst().transform(tree)
    except RecursionError:
        raise ExprSyntaxError("the expression is nested too deeply", 0,
                              hint="split it into named definitions") from None
    except ExprSyntaxError:
        raise
    except Exception as exc:  # lark wraps transformer errors in VisitError
        inner = getattr(exc, "orig_exc", None)
        if isinstance(inner, ExprSyntaxError):
            raise inner from None
        raise
    if not isinstance(result, ast.Expr):  # pragma: no cover - grammar guarantees an Expr
        raise ExprSyntaxError("not an expression", 0)
    if ast.depth(result) > MAX_DEPTH:
        raise ExprSyntaxError(f"the expression nests deeper than {MAX_DEPTH} levels", 0,
                              hint="split it into named definitions")
    return result


def _expected(names: Any) -> str:
    readable = sorted({_TOKEN_NAMES.get(str(n), str(n).lower().strip('"')) for n in names})
    if len(readable) > 6:
        readable = [*readable[:6], "…"]
    return ", ".join(readable) if readable else "something else"


def unparse(node: ast.Expr) -> str:
    """Canonical text of an expression: the same for any formatting of the same tree."""
    return _unparse(node, 0)


_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "??": 5, "+": 6, "-": 6, "*": 7, "/": 7,
         "neg": 8, "atom": 9, "if": 0}


def _prec(node: ast.Expr) -> int:
    match node:
        case ast.IfExpr():
            return _PREC["if"]
        case ast.BoolOp(op=op):
            return _PREC[op]
        case ast.Not():
            return _PREC["not"]
        case ast.Compare() | ast.Contains():
            return _PREC["cmp"]
        case ast.Coalesce():
            return _PREC["??"]
        case ast.BinOp(op=op):
            return _PREC[op]
        case ast.Neg():
            return _PREC["neg"]
    return _PREC["atom"]


def _unparse(node: ast.Expr, parent: int) -> str:
    text = _unparse_node(node)
    return f"({text})" if _prec(node) < parent else text


def _unparse_node(node: ast.Expr) -> str:
    match node:
        case ast.Number(text=text):
            return str(Decimal(text).normalize()) if "." in text else text
        case ast.Duration(amount=a, unit=u):
            return f"{a} {u[:-1] if a == 1 else u}"  # 1 day, 5 working_days
        case ast.String(value=v):
            return '"' + v + '"' if '"' not in v else "'" + v + "'"
        case ast.DateLit(value=v):
            return v.isoformat()
        case ast.Bool(value=v):
            return "true" if v else "false"
        case ast.Null():
            return "null"
        case ast.Name(id=i):
            return i
        case ast.Attribute(value=v, attr=a):
            return f"{_unparse(v, _PREC['atom'])}.{a}"
        case ast.Call(func=f, args=args):
            return f"{f}(" + ", ".join(_unparse(a, 0) for a in args) + ")"
        case ast.Aggregate(func=f, var=var, iterable=it, body=body, filter=cond):
            where = f" if {_unparse(cond, 0)}" if cond is not None else ""
            return f"{f}({_unparse(body, 0)} for {var} in {_unparse(it, 0)}{where})"
        case ast.ListLit(items=items):
            return "[" + ", ".join(_unparse(i, 0) for i in items) + "]"
        case ast.Not(operand=o):
            return "not " + _unparse(o, _PREC["not"])
        case ast.Neg(operand=o):
            return "-" + _unparse(o, _PREC["neg"])
        case ast.BoolOp(op=op, operands=ops):
            return f" {op} ".join(_unparse(o, _PREC[op] + 1) for o in ops)
        case ast.BinOp(op=op, left=left, right=right):
            p = _PREC[op]
            return f"{_unparse(left, p)} {op} {_unparse(right, p + 1)}"
        case ast.Compare(op=op, left=left, right=right):
            return f"{_unparse(left, _PREC['cmp'] + 1)} {op} {_unparse(right, _PREC['cmp'] + 1)}"
        case ast.Contains(item=i, container=c, negated=n):
            kw = "not in" if n else "in"
            return f"{_unparse(i, _PREC['cmp'] + 1)} {kw} {_unparse(c, _PREC['cmp'] + 1)}"
        case ast.Coalesce(left=left, right=right):
            return f"{_unparse(left, _PREC['??'])} ?? {_unparse(right, _PREC['??'] + 1)}"
        case ast.IfExpr(cond=c, then=t, orelse=e):
            return f"if {_unparse(c, 0)} then {_unparse(t, 0)} else {_unparse(e, 0)}"
    raise TypeError(f"unknown node {node!r}")  # pragma: no cover
