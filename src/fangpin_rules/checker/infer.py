"""Type inference for one expression: names resolved in the policy's scopes, kinds of
quantity, unknown values, labels; every problem reported at its place in the YAML."""

from __future__ import annotations

from typing import Any, Protocol

from fangpin_rules.checker.checked import CheckedNode, CheckedParameter
from fangpin_rules.checker.expression_source import ExprSource
from fangpin_rules.diagnostics import did_you_mean
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.functions import AGGREGATES, FUNCTIONS
from fangpin_rules.policy.document import ObjectDecision

ERR = t.Prim("error")  # the type of an expression already reported as wrong: no cascades
NULL_T = t.NULL


class Names(Protocol):
    """What inference reads from the checker: the names a policy defines, and where to report."""

    parameters: dict[str, CheckedParameter]
    specs: dict[str, Any]  # name -> the node's spec (definition, decision, object field)
    nodes: dict[str, CheckedNode]  # the nodes already typed
    inputs: dict[str, t.Type]  # the record's fields
    expr_types: dict[int, t.Type]

    def expr_error(self, src: ExprSource, node: ast.Expr | tuple[int, int], code: str,
                   message: str, hint: str = "") -> None: ...


def free_names(tree: ast.Expr, bound: frozenset[str] = frozenset()) -> set[str]:
    """Names an expression reads from outside (not bound by an aggregate)."""
    match tree:
        case ast.Name(id=name):
            return set() if name in bound else {name}
        case ast.Aggregate(var=var, iterable=it, body=body, filter=cond):
            inner = bound | {var}
            found = free_names(it, bound) | free_names(body, inner)
            return found | (free_names(cond, inner) if cond is not None else set())
    names: set[str] = set()
    for child in ast.children(tree):
        names |= free_names(child, bound)
    return names


class Scope:
    """Type inference for one expression."""

    def __init__(self, checker: Names, src: ExprSource, owner: str,
                 extra: dict[str, t.Type] | None = None) -> None:
        self.c = checker
        self.src = src
        self.owner = owner
        self.extra = extra or {}
        self.bound: dict[str, t.Type] = {}
        self.nodes: set[str] = set()
        self.params: set[str] = set()
        self.inputs: set[str] = set()

    def fail(self, node: ast.Expr | tuple[int, int], message: str, hint: str = "",
             code: str = "type") -> t.Type:
        self.c.expr_error(self.src, node, code, message, hint)
        return ERR

    def infer(self, node: ast.Expr) -> t.Type:
        result = self._infer(node)
        self.c.expr_types[id(node)] = result
        return result

    def _visible(self) -> list[str]:
        return [*self.bound, *self.extra, *self.c.parameters, *self.c.specs, *self.c.inputs,
                "as_of"]

    def _infer(self, node: ast.Expr) -> t.Type:
        match node:
            case ast.Number():
                return t.NUMBER
            case ast.Duration():
                return t.DURATION
            case ast.String():
                return t.STRING
            case ast.DateLit():
                return t.DATE
            case ast.Bool():
                return t.BOOL
            case ast.Null():
                return t.NULL
            case ast.Name(id=name):
                return self._name(node, name)
            case ast.Attribute():
                return self._attribute(node)
            case ast.Call():
                return self._call(node)
            case ast.Aggregate():
                return self._aggregate(node)
            case ast.ListLit(items=items):
                if not items:
                    return t.ListOf(ERR)
                element = self.infer(items[0])
                for item in items[1:]:
                    other = self.infer(item)
                    merged = t.unify(element, other)
                    if merged is None:
                        return self.fail(item, f"list items differ in type: {element} and "
                                         f"{other}")
                    element = merged
                return t.ListOf(element)
            case ast.Not(operand=o):
                return self._boolean(o, "not")
            case ast.Neg(operand=o):
                inner = self.infer(o)
                if inner is ERR:
                    return ERR
                if inner not in t.NUMERIC:
                    return self.fail(node, f"cannot negate {t.describe(inner)}")
                return inner
            case ast.BoolOp(op=op, operands=ops):
                for o in ops:
                    self._boolean(o, op)
                return t.BOOL
            case ast.BinOp():
                return self._arith(node)
            case ast.Compare():
                return self._compare(node)
            case ast.Contains():
                return self._contains(node)
            case ast.Coalesce(left=left, right=right):
                lt, rt = self.infer(left), self.infer(right)
                if ERR in (lt, rt):
                    return ERR
                if not isinstance(lt, t.Opt):
                    return self.fail(left, f"'??' gives a default for a value that may be "
                                     f"unknown, but this is always known ({lt})",
                                     "remove the '?? …'")
                merged = t.unify(lt.inner, rt)
                if merged is None or (isinstance(merged, t.Opt) and not isinstance(rt, t.Opt)):
                    return self.fail(right, f"the default ({rt}) does not match the value "
                                     f"({lt.inner})")
                return merged
            case ast.IfExpr(cond=c, then=a, orelse=b):
                self._boolean(c, "if")
                at, bt = self.infer(a), self.infer(b)
                if ERR in (at, bt):
                    return ERR
                merged = t.unify(at, bt)
                if merged is None:
                    return self.fail(node, f"the branches differ in type: {at} and {bt}")
                return merged
        return self.fail(node, "unsupported expression")  # pragma: no cover

    def _boolean(self, operand: ast.Expr, op: str) -> t.Type:
        ty = self.infer(operand)
        if ty is ERR or ty == t.BOOL:
            return t.BOOL
        if ty == t.Opt(t.BOOL):
            return self.fail(operand, f"'{op}' needs a known true/false, but this may be "
                             "unknown (null)", "write `x == true`, `x == false` or `x ?? false` "
                             "to say what unknown means")
        return self.fail(operand, f"'{op}' needs a true/false value, not {t.describe(ty)}")

    def _name(self, node: ast.Expr, name: str) -> t.Type:
        if name.startswith("_"):
            return self.fail(node, f"'{name}': names starting with '_' are reserved",
                             code="unknown-name")
        if name in self.bound:
            return self.bound[name]
        if name in self.extra:
            return self.extra[name]
        if name == "as_of":
            return t.DATE
        if name in self.c.parameters:
            self.params.add(name)
            return self.c.parameters[name].type
        if name in self.c.specs:
            spec = self.c.specs[name]
            if spec.parent is not None:
                return self.fail(node, f"'{name}' is a field of an object decision",
                                 code="unknown-name")
            self.nodes.add(name)
            done = self.c.nodes.get(name)
            return done.type if done is not None else ERR  # ERR: in a reported cycle
        if name in self.c.inputs:
            self.inputs.add(name)
            return self.c.inputs[name]
        hint = did_you_mean(name, self._visible())
        if name in FUNCTIONS or name in AGGREGATES:
            hint = f"'{name}' is a function: call it as {name}(…)"
        return self.fail(node, f"unknown name '{name}'", hint, code="unknown-name")

    def _attribute(self, node: ast.Attribute) -> t.Type:
        if node.attr.startswith("_"):
            return self.fail(node.attr_span, f"'{node.attr}': names starting with '_' are "
                             "reserved", code="unknown-name")
        if isinstance(node.value, ast.Name) and node.value.id in self.c.specs and \
                node.value.id not in self.bound:
            full = f"{node.value.id}.{node.attr}"
            base = self.c.specs[node.value.id]
            if isinstance(base.spec, ObjectDecision):
                if full not in self.c.specs:
                    return self.fail(node.attr_span, f"decision '{node.value.id}' has no field "
                                     f"'{node.attr}'", did_you_mean(node.attr,
                                                                    base.spec.fields),
                                     code="unknown-name")
                self.nodes.add(full)
                done = self.c.nodes.get(full)
                self.c.expr_types[id(node.value)] = ERR
                return done.type if done is not None else ERR
        base_type = self.infer(node.value)
        if base_type is ERR:
            return ERR
        if isinstance(base_type, t.Opt) and isinstance(base_type.inner, t.Record):
            return self.fail(node.value, f"'{node.attr}' of a value that may be unknown")
        if not isinstance(base_type, t.Record):
            return self.fail(node.attr_span, f"{t.describe(base_type)} has no fields",
                             code="unknown-name")
        if node.attr not in base_type.fields:
            return self.fail(node.attr_span, f"{base_type.name} has no field '{node.attr}'",
                             did_you_mean(node.attr, base_type.fields), code="unknown-name")
        if isinstance(node.value, ast.Name) and node.value.id in self.c.inputs:
            self.inputs.add(f"{node.value.id}.{node.attr}")
        return base_type.fields[node.attr]

    def _call(self, node: ast.Call) -> t.Type:
        fn = FUNCTIONS.get(node.func)
        if fn is None:
            return self.fail(node.func_span, f"unknown function '{node.func}'",
                             did_you_mean(node.func, [*FUNCTIONS, *AGGREGATES]) or
                             "functions: " + ", ".join(sorted(FUNCTIONS)),
                             code="unknown-function")
        lo, hi = fn.arity
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            return self.fail(node, f"{node.func}() takes {want} argument(s), "
                             f"got {len(node.args)}")
        args = [self.infer(a) for a in node.args]
        if ERR in args:
            return ERR
        result = fn.signature(args)
        if isinstance(result, str):
            return self.fail(node, result)
        return result

    def _aggregate(self, node: ast.Aggregate) -> t.Type:
        if node.func not in AGGREGATES:
            return self.fail(node.func_span, f"'{node.func}' is not an aggregate",
                             "aggregates: " + ", ".join(AGGREGATES), code="unknown-function")
        if node.var.startswith("_") or node.var in self.c.specs or \
                node.var in self.c.parameters or node.var in self.c.inputs or \
                node.var in self.bound:  # an enclosing aggregate's name, too
            taken = {node.var, *self.bound, *self.c.specs, *self.c.parameters,
                     *self.c.inputs}
            free = next((n for n in ("m", "n", "k", "p", "q", "item", "item2", "item3")
                         if n not in taken), f"{node.var}2")
            return self.fail(node, f"the bound name '{node.var}' hides another name",
                             f"choose another name, such as `{free}`")
        it = self.infer(node.iterable)
        if it is ERR:
            return ERR
        element = t.element_of(it)
        if element is None:
            return self.fail(node.iterable, f"{node.func}() goes over a list, not "
                             f"{t.describe(it)}")
        self.bound[node.var] = element
        body = self.infer(node.body)
        if node.filter is not None:
            self._boolean(node.filter, "if")
        del self.bound[node.var]
        if body is ERR:
            return ERR
        if node.func in ("any", "all", "count"):
            if body != t.BOOL:
                hint = "write `… == true`" if body == t.Opt(t.BOOL) else ""
                return self.fail(node.body, f"{node.func}() needs a true/false condition, "
                                 f"not {t.describe(body)}", hint)
            return t.COUNT if node.func == "count" else t.BOOL
        if body == t.BOOL or body == t.Opt(t.BOOL):
            return self.fail(node.body, f"{node.func}() of a boolean: true/false values "
                             "cannot be summed", "use count(condition for m in …)")
        inner = t.strip(body)
        if node.func == "sum":
            if isinstance(body, t.Opt):
                return self.fail(node.body, "sum() of values that may be unknown",
                                 "give a default with ??")
            if inner not in t.NUMERIC:
                return self.fail(node.body, f"sum() needs numbers, not {t.describe(body)}")
            return inner
        if inner not in t.NUMERIC and inner != t.DATE:
            return self.fail(node.body, f"{node.func}() needs numbers or dates, not "
                             f"{t.describe(body)}")
        return t.Opt(inner)

    def _arith(self, node: ast.BinOp) -> t.Type:
        lt, rt = self.infer(node.left), self.infer(node.right)
        if ERR in (lt, rt):
            return ERR
        if node.op in "+-" and lt == t.Opt(t.DATE) and rt == t.DURATION:
            return t.Opt(t.DATE)  # an unknown date moved by a period is still unknown
        for side, ty in ((node.left, lt), (node.right, rt)):
            if isinstance(ty, t.Opt):
                return self.fail(side, f"'{node.op}' of a value that may be unknown ({ty})",
                                 "give a default with ??, e.g. `(x ?? 0)`")
        if node.op in "+-" and lt == t.DATE and rt == t.DURATION:
            return t.DATE
        if node.op == "+" and lt == t.DURATION and rt == t.DATE:
            return t.DATE
        if lt not in t.NUMERIC or rt not in t.NUMERIC:
            return self.fail(node, f"cannot apply '{node.op}' to {t.describe(lt)} and "
                             f"{t.describe(rt)}")
        if node.op in "+-":
            kind = t.add_kind(lt, rt)
        elif node.op == "*":
            kind = t.multiply_kind(lt, rt)
        else:
            kind = t.divide_kind(lt, rt)
        if kind is None:
            return self.fail(node, f"cannot apply '{node.op}' to {lt} and {rt}",
                             "the kinds of quantity do not mix (money with ratio, money "
                             "times money, …)")
        return kind

    def _compare(self, node: ast.Compare) -> t.Type:
        lt, rt = self.infer(node.left), self.infer(node.right)
        if ERR in (lt, rt):
            return t.BOOL
        if node.op in ("==", "!="):
            self._check_equal(node, lt, rt)
            return t.BOOL
        a, b = t.strip(lt), t.strip(rt)
        if NULL_T in (a, b):
            self.fail(node, "only == and != compare with null")
        elif not t.comparable(a, b):
            self.fail(node, f"cannot compare {t.describe(lt)} with {t.describe(rt)}")
        return t.BOOL

    def _check_equal(self, node: ast.Compare, lt: t.Type, rt: t.Type) -> None:
        a, b = t.strip(lt), t.strip(rt)
        if t.NULL in (lt, rt):
            other, side = (rt, node.right) if lt == t.NULL else (lt, node.left)
            if not isinstance(other, t.Opt) and other != t.NULL:
                self.fail(side, f"this is never null ({t.describe(other)}): comparing it with "
                          "null is always false")
            return
        for enum, lit_type, lit in ((a, b, node.right), (b, a, node.left)):
            if isinstance(enum, t.Enum) and lit_type == t.STRING:
                self._label_literal(lit, enum)
                return
        if isinstance(a, t.Enum) and isinstance(b, t.Enum) and a.name == b.name:
            return
        if a == b or (a in t.NUMERIC and b in t.NUMERIC and t.add_kind(a, b) is not None):
            return
        self.fail(node, f"cannot compare {t.describe(lt)} with {t.describe(rt)}")

    def _label_literal(self, lit: ast.Expr, enum: t.Enum) -> None:
        if isinstance(lit, ast.String) and lit.value not in enum.values:
            self.fail(lit, f"'{lit.value}' is not a value of {enum.name}",
                      did_you_mean(lit.value, enum.values) or
                      "values: " + ", ".join(enum.values), code="unknown-label")

    def _contains(self, node: ast.Contains) -> t.Type:
        it, ct = self.infer(node.item), self.infer(node.container)
        if ERR in (it, ct):
            return t.BOOL
        element = t.element_of(ct)
        if element is None:
            return self.fail(node.container, f"'in' needs a list or a set, not "
                             f"{t.describe(ct)}")
        item = t.strip(it)
        if isinstance(element, t.Enum) and item == t.STRING:
            self._label_literal(node.item, element)
        elif isinstance(item, t.Enum) and element == t.STRING and \
                isinstance(node.container, ast.ListLit):
            for lit in node.container.items:
                self._label_literal(lit, item)
        elif element is not ERR and t.unify(item, element) is None:
            self.fail(node, f"{t.describe(it)} is never in a {t.describe(ct)}")
        return t.BOOL



