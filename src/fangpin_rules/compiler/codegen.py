"""Translate a checked policy into Python source, compile it once, and build evaluators.

Two functions are generated from one translation: `evaluate`, straight-line code with no
tracing at all, and `evaluate_traced`, the same code with recording calls around every rule
condition (and its parts), every node and every unknown input read. Tracing therefore costs
nothing when it is off.

Safety: the generated code never contains a name or text from the policy file except as a
`repr()` string literal or, for the record's own fields, an attribute name the checker has
validated (`language.names`); everything else the code names is a local the compiler numbered
itself. No policy text goes into comments. Before it is compiled, the source is parsed and
checked against the compiler's allow-list (`compiler.safety`), which refuses any other name,
attribute or call; and it runs with no builtins but the few it needs.
"""

from __future__ import annotations

import builtins
import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from fangpin_rules.checker.checked import CheckedExpr, CheckedNode, CheckedPolicy
from fangpin_rules.compiler import runtime
from fangpin_rules.compiler.fusion import FusedLoop, FusionPlan, plan_fusion
from fangpin_rules.compiler.procedure import carried_path, due_link
from fangpin_rules.compiler.safety import (
    BUILTINS,
    UnsafeGeneratedCode,
    check_generated,
    data_attributes,
    record_attribute,
)
from fangpin_rules.diagnostics import Location, PolicyError, error
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.functions import FUNCTIONS
from fangpin_rules.model import Case
from fangpin_rules.policy.document import FirstMatchDecision

Evaluator = Callable[..., dict[str, Any]]  # (household, case=None) -> decision
_ALLOWED_BUILTINS = tuple(sorted(BUILTINS))
_ELIF_CHUNK = 100  # rules per if/elif chain (Python's compiler nests each elif one level)


@dataclass
class Part:
    """A piece of a rule condition whose value the trace records."""

    owner: str  # rule id or node name
    text: str
    offset: int


@dataclass
class _Gen:
    policy: CheckedPolicy
    traced: bool
    constants: list[Any] = field(default_factory=list)
    const_index: dict[tuple[type, Any], int] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    temp_count: int = 0
    bound: dict[str, str] = field(default_factory=dict)
    bound_source: dict[str, str] = field(default_factory=dict)  # bound var -> iterable text
    owner: str = ""
    source_text: str = ""
    step_index: dict[str, int] = field(default_factory=dict)
    # the nodes of the due date being written along which an unknown date is carried on
    # (`procedure.carried_path`)
    carried: set[int] = field(default_factory=set)
    fusion: FusionPlan | None = None
    owner_is_step: bool = False
    # (collect decision, label) -> the local that says whether the label was added, for a
    # label only one rule adds: `"illness" in risks` reads it instead of searching the list
    label_flags: dict[tuple[str, str], str] = field(default_factory=dict)
    # whether the traced twin records unknown inputs read: not in the warning rules, which read
    # nulls to check the record, not to decide
    trace_reads: bool = True

    def const(self, value: Any) -> str:
        key = (type(value), value)
        index = self.const_index.get(key)
        if index is None:
            index = len(self.constants)
            self.constants.append(value)
            self.const_index[key] = index
        return f"k_{index}"

    def temp(self) -> str:
        self.temp_count += 1
        return f"t_{self.temp_count}"

    def type_of(self, node: ast.Expr) -> t.Type:
        return self.policy.expr_types.get(id(node), t.Prim("error"))

    # -- expressions --------------------------------------------------------------------------
    def expr(self, node: ast.Expr) -> str:
        code = self._expr(node)
        if self.traced and self.owner and isinstance(
                node, ast.BoolOp | ast.Compare | ast.Contains | ast.Not | ast.Aggregate) \
                and self.type_of(node) == t.BOOL:
            part = len(self.parts)
            self.parts.append(Part(self.owner, self.source_text[node.span[0]:node.span[1]],
                                   node.span[0]))
            return f"T.part({part}, {code})"
        return code

    def _expr(self, node: ast.Expr) -> str:
        match node:
            case ast.Number(value=v, text=text):
                if "." not in text:  # whole numbers stay ints: exact with Decimal, and faster
                    return str(int(text))
                return self.const(v)
            case ast.Duration(amount=a, unit=u):
                from fangpin_rules.language.values import DurationValue
                return self.const(DurationValue(a, u))
            case ast.String(value=v):
                return repr(v)
            case ast.DateLit(value=v):
                return self.const(v)
            case ast.Bool(value=v):
                return "True" if v else "False"
            case ast.Null():
                return "None"
            case ast.Name(id=name):
                return self.name(name, node)
            case ast.Attribute(value=ast.Name(id="steps"), attr=attr) if \
                    attr in self.step_index and "steps" not in self.bound:
                step = f"s_{self.step_index[attr]}"
                # an unknown date reads as missing, but where a due date is counted from it
                return step if id(node) in self.carried else f"rt_known_date({step})"
            case ast.Attribute(value=base, attr=attr):
                if isinstance(base, ast.Name) and base.id not in self.bound:
                    full = f"{base.id}.{attr}"
                    if full in self.policy.nodes:
                        return self.node_var(full)
                code = record_attribute(self.expr(base), attr)
                if self.traced and self.trace_reads and isinstance(self.type_of(node), t.Opt):
                    label = self.source_text[node.span[0]:node.span[1]]
                    if isinstance(base, ast.Name) and base.id in self.bound_source:
                        label = f"{self.bound_source[base.id]}[].{attr}"
                    return f"T.read({label!r}, {code})"
                return code
            case ast.Call(func="count", args=(arg,)):
                return f"len({self.expr(arg)})"
            case ast.Call(func=func, args=args):
                fn = FUNCTIONS[func]
                rendered = [self.expr(a) for a in args]
                if fn.needs_as_of:
                    rendered.append("AS_OF")
                if fn.needs_calendar:
                    rendered.append(self.calendar_var())
                code = f"rt_{fn.runtime}({', '.join(rendered)})"
                return self.given(node, code) if func == "next_working_day" else code
            case ast.Aggregate() if self.fusion is not None and id(node) in self.fusion.by_node:
                return self.fusion.by_node[id(node)]
            case ast.Aggregate():
                return self.aggregate(node)
            case ast.ListLit(items=items):
                if all(isinstance(i, ast.String | ast.Number | ast.DateLit) for i in items):
                    values = frozenset(_literal_value(i) for i in items)
                    return self.const(values)
                return "(" + "".join(self.expr(i) + ", " for i in items) + ")"
            case ast.Not(operand=o):
                return f"(not {self.expr(o)})"
            case ast.Neg(operand=o):
                return f"(-{self.expr(o)})"
            case ast.BoolOp(op=op, operands=ops):
                return "(" + f" {op} ".join(self.expr(o) for o in ops) + ")"
            case ast.BinOp(op=op, left=left, right=right):
                return self.binop(node, op, left, right)
            case ast.Compare(op=op, left=left, right=right):
                return self.compare(op, left, right)
            case ast.Contains(item=ast.String(value=label), container=ast.Name(id=name),
                              negated=neg) if (name, label) in self.label_flags \
                    and name not in self.bound:
                flag = self.label_flags[(name, label)]
                return f"(not {flag})" if neg else flag
            case ast.Contains(item=item, container=container, negated=neg):
                return f"({self.expr(item)} {'not in' if neg else 'in'} {self.expr(container)})"
            case ast.Coalesce(left=left, right=right):
                tmp = self.temp()
                return f"({tmp} if ({tmp} := {self.expr(left)}) is not None else " \
                       f"{self.beside(right, left)})"
            case ast.IfExpr(cond=c, then=a, orelse=b):
                return f"({self.expr(a)} if {self.expr(c)} else {self.expr(b)})"
        raise TypeError(f"cannot compile {node!r}")  # pragma: no cover

    def given(self, node: ast.Expr, code: str) -> str:
        """A date a step's expression asks the calendar for: carried on along the due date's
        path (an unknown one makes the step unknown there); anywhere else one the calendar
        cannot give makes the step unknown at once (`rt_given_date`)."""
        if not self.owner_is_step or id(node) in self.carried:
            return code
        return f"rt_given_date({code})"

    def is_date(self, node: ast.Expr) -> bool:
        return t.strip(self.type_of(node)) == t.DATE

    def calendar_var(self) -> str:
        """The procedure's steps read the calendar that makes an uncovered year's deadline
        unknown; decisions read the plain one (an uncovered year is an error there)."""
        return "SCAL" if self.owner_is_step else "CAL"

    def name(self, name: str, node: ast.Expr) -> str:
        if name in self.bound:
            return self.bound[name]
        if name == "as_of":
            return "AS_OF"
        if name == "case" and self.owner_is_step:
            return "c"
        if name in self.policy.parameters:
            return f"p_{list(self.policy.parameters).index(name)}"
        if name in self.policy.nodes:
            return self.node_var(name)
        code = record_attribute("r", name)
        if self.traced and self.trace_reads and isinstance(self.type_of(node), t.Opt):
            return f"T.read({name!r}, {code})"
        return code

    def node_var(self, name: str) -> str:
        return f"n_{self.policy.order.index(name)}"

    def aggregate(self, node: ast.Aggregate) -> str:
        var = f"b_{len(self.bound)}_{self.temp()}"
        iterable = self.expr(node.iterable)
        saved, saved_source = dict(self.bound), dict(self.bound_source)
        self.bound[node.var] = var
        self.bound_source[node.var] = self.source_text[node.iterable.span[0]:
                                                       node.iterable.span[1]]
        body = self.expr(node.body)
        source = f"{var} in {iterable}"
        if node.filter is not None:
            source += f" if {self.expr(node.filter)}"
        self.bound, self.bound_source = saved, saved_source
        func = node.func
        if func == "any":
            return f"any({body} for {source})"
        if func == "all":
            return f"all({body} for {source})"
        if func == "count":
            return f"sum(1 for {source} if {body})"
        if func == "sum":
            return f"sum(({body} for {source}), 0)"
        # the body's value named in the generator's condition: in a generator used as the
        # iterable of another one, a `??` in the body (an assignment) is a SyntaxError
        inner = self.temp()
        return (f"{func}(({inner} for {source} if ({inner} := {body}) is not None), "
                f"default=None)")

    def beside(self, node: ast.Expr, other: ast.Expr) -> str:
        """`node`, which meets `other` in an operation: a whole number meeting an amount or
        a ratio (a Decimal) is made a Decimal too, as Decimal with Decimal is twice as fast as
        Decimal with int; elsewhere whole numbers stay ints."""
        if isinstance(node, ast.Number) and "." not in node.text and \
                t.strip(self.type_of(other)) in (t.MONEY, t.RATIO):
            return self.const(Decimal(node.text))
        return self.expr(node)

    def binop(self, node: ast.BinOp, op: str, left: ast.Expr, right: ast.Expr) -> str:
        lt, rt = self.type_of(left), self.type_of(right)
        lc, rc = self.beside(left, right), self.beside(right, left)
        if t.strip(lt) == t.DATE or t.strip(rt) == t.DATE:
            date_code, dur_code = (lc, rc) if t.strip(lt) == t.DATE else (rc, lc)
            sign = "-1" if op == "-" else "1"
            return self.given(node, f"rt_add_duration({date_code}, {dur_code}, {sign}, "
                                    f"{self.calendar_var()})")
        if op == "/" and lt in (t.COUNT, t.NUMBER):  # may be an int: never a float division
            lc = self.const(Decimal(left.text)) if isinstance(left, ast.Number) else \
                f"rt_to_decimal({lc})"
        return f"({lc} {op} {rc})"

    def compare(self, op: str, left: ast.Expr, right: ast.Expr) -> str:
        lt, rt = self.type_of(left), self.type_of(right)
        lc, rc = self.beside(left, right), self.beside(right, left)
        if op in ("==", "!="):
            # With null, or a true/false value against a true/false literal, equality is
            # identity (one None, one True, one False): the same answer, faster.
            identity = isinstance(left, ast.Null) or isinstance(right, ast.Null) or (
                (isinstance(left, ast.Bool) or isinstance(right, ast.Bool))
                and t.strip(lt) == t.BOOL and t.strip(rt) == t.BOOL)
            if identity:
                return f"({lc} {'is' if op == '==' else 'is not'} {rc})"
            return f"({lc} {op} {rc})"
        # An unknown value satisfies no ordering comparison.
        guards = []
        if isinstance(lt, t.Opt):
            tmp = self.temp()
            guards.append(f"({tmp} := {lc}) is not None")
            lc = tmp
        if isinstance(rt, t.Opt):
            tmp = self.temp()
            guards.append(f"({tmp} := {rc}) is not None")
            rc = tmp
        test = f"{lc} {op} {rc}"
        return "(" + " and ".join([*guards, test]) + ")"

    # -- nodes --------------------------------------------------------------------------------
    def checked_expr(self, expr: CheckedExpr, owner: str) -> str:
        self.owner = owner if self.traced else ""
        self.source_text = expr.source.text
        code = self.expr(expr.tree)
        self.owner = ""
        return code

    def first_match_lines(self, var: str, node: CheckedNode) -> list[str]:
        """One `if`/`elif` chain; a long one in chunks, each tried only while no rule
        has matched, since Python nests an `elif` inside its `if` and cannot compile a chain
        of thousands."""
        chunks = [node.rules[i:i + _ELIF_CHUNK] for i in range(0, len(node.rules), _ELIF_CHUNK)]
        undecided = self.const(_Undecided()) if len(chunks) > 1 else None
        lines = [f"{var} = {undecided}"] if undecided else []
        for number, chunk in enumerate(chunks):
            indent = "    " if number > 0 else ""
            if number > 0:
                lines.append(f"if {var} is {undecided}:")
            for i, rule in enumerate(chunk):
                cond = self.checked_expr(rule.when, rule.id)
                if self.traced:
                    cond = f"T.rule({rule.id!r}, {cond})"
                lines.append(f"{indent}{'if' if i == 0 else 'elif'} {cond}:")
                lines.append(f"{indent}    {var} = {rule.label!r}")
        if undecided:
            lines += [f"if {var} is {undecided}:", f"    {var} = {node.otherwise!r}"]
        elif node.rules:
            lines += ["else:", f"    {var} = {node.otherwise!r}"]
        else:
            lines.append(f"{var} = {node.otherwise!r}")
        return lines

    def node_lines(self, index: int, node: CheckedNode) -> list[str]:
        var = f"n_{index}"
        lines: list[str] = []
        if node.kind in ("definition", "value"):
            assert node.expr is not None
            code = self.checked_expr(node.expr, node.name)
            if self.traced:
                lines.append(f"T.begin({index})")
            lines.append(f"{var} = {code}")
        elif node.kind == "first_match":
            if self.traced:
                lines.append(f"T.begin({index})")
            lines.extend(self.first_match_lines(var, node))
        elif node.kind == "collect":
            if self.traced:
                lines.append(f"T.begin({index})")
            lines.append(f"{var} = []")
            seen: set[str] = set()
            sources = Counter(label for rule in node.rules for label in rule.labels)
            for number, rule in enumerate(node.rules):
                cond = self.checked_expr(rule.when, rule.id)
                if self.traced:
                    cond = f"T.rule({rule.id!r}, {cond})"
                lines.append(f"if {cond}:")
                if not rule.labels:  # the checker refuses `add: []`; still valid code
                    lines.append("    pass")
                    continue
                if not self.traced and all(sources[label] == 1 for label in rule.labels):
                    flag = f"m_{index}_{number}"
                    self.label_flags.update({(node.name, label): flag for label in rule.labels})
                    lines.append(f"    {flag} = True")
                    lines.extend(f"    {var}.append({label!r})" for label in rule.labels)
                    lines += ["else:", f"    {flag} = False"]
                    seen.update(rule.labels)
                    continue
                for label in rule.labels:  # a label added before is added once, in first order
                    if label in seen or list(rule.labels).count(label) > 1:
                        lines.append(f"    if {label!r} not in {var}: {var}.append({label!r})")
                    else:
                        lines.append(f"    {var}.append({label!r})")
                    seen.add(label)
        elif node.kind == "object":
            fields = ", ".join(
                f"{f.split('.', 1)[1]!r}: {self.node_var(f)}" for f in node.fields)
            if self.traced:
                lines.append(f"T.begin({index})")
            if node.when is not None:
                cond = self.checked_expr(node.when, node.name)
                lines.append(f"{var} = {{{fields}}} if {cond} else None")
            else:
                lines.append(f"{var} = {{{fields}}}")
        if self.traced:
            lines.append(f"T.node({index}, {var})")
        return lines


def _procedure_lines(gen: _Gen) -> list[str]:
    """The steps, in the order they are resolved (each after the steps it reads). Consecutive
    steps that read the case share one `if c is not None:` block, so a household without a
    case pays one test for them."""
    steps = gen.policy.steps
    lines = ["# procedure", "D = []"]
    if not steps:
        return lines
    gen.step_index = {step.name: step.index for step in steps}
    gen.owner_is_step = True
    in_case_block = cleared = False
    for step in steps:
        if step.needs_case and not in_case_block:
            lines.append("if c is not None:")
            lines.append("    case_id = c.case_id")
            if not cleared:  # once: a later block reads the steps of an earlier one
                case_vars = [f"s_{s.index}" for s in steps if s.needs_case]
                lines.append("    " + " = ".join(case_vars) + " = None")
                cleared = True
            in_case_block = True
        elif not step.needs_case:
            in_case_block = False
        block = "    " if step.needs_case else ""
        var = f"s_{step.index}"
        if not step.needs_case and (step.when is not None or step.kind == "quarterly"):
            # a step after it reads no date where it does not apply, nor of a quarterly step
            # (the case steps are cleared at their block's start)
            lines.append(f"{var} = None")
        if not _asks_calendar(gen, step):
            lines += _step_lines(gen, step, block)
            continue
        # a working day the calendar cannot give off the due date's path: the step unknown
        lines.append(f"{block}try:")
        lines += _step_lines(gen, step, block + "    ")
        lines.append(f"{block}except rt_coverage_error as {var}_error:")
        lines.append(f"{block}    {var} = rt_uncovered({var}_error)")
        lines.append(f"{block}    D.append(rt_step_entry({step.name!r}, {step.kind!r}, {var}, "
                     f"None, AS_OF, CAL, {step.cite!r}, {_step_owner(step)}))")
    gen.owner_is_step = False
    return lines


def _step_owner(step: Any) -> str:
    return "case_id" if step.needs_case else "None"


def _asks_calendar(gen: _Gen, step: Any) -> bool:
    """Whether some expression of the step may ask the working-day calendar (a shift of a
    date by a duration, or a working-day function)."""
    for checked in (step.due, step.done, step.when, step.required_by, step.until):
        if checked is None:
            continue
        for node in ast.walk(checked.tree):
            link = due_link(node, gen.is_date)  # a shift, or next_working_day
            if (link is not None and link[0] != "step") or (
                    isinstance(node, ast.Call) and node.func in FUNCTIONS and
                    FUNCTIONS[node.func].needs_calendar):
                return True
    return False


def _step_lines(gen: _Gen, step: Any, block: str) -> list[str]:
    """A step's entry (or a quarterly step's entries) appended to D, its date in s_<index>."""
    lines: list[str] = []
    gen.carried = carried_path(step.due.tree, gen.is_date)
    due = gen.checked_expr(step.due, step.name)
    gen.carried = set()
    done = gen.checked_expr(step.done, step.name) if step.done is not None else None
    indent = block
    var = f"s_{step.index}"
    if step.when is not None:
        lines.append(f"{block}if {gen.checked_expr(step.when, step.name)}:")
        indent = block + "    "
    owner_case = _step_owner(step)
    if step.kind == "quarterly":
        until = gen.checked_expr(step.until, step.name) if step.until is not None else "None"
        lines.append(f"{indent}D.extend(rt_quarterly_entries({step.name!r}, {due}, "
                     f"{done}, AS_OF, {step.cite!r}, {owner_case}, {until}))")
        return lines
    lines.append(f"{indent}{var}_due = {due}")
    # As of a date, what happened after it has not happened yet.
    if done is not None:
        lines.append(f"{indent}{var}_done = rt_known_by({done}, AS_OF)")
    else:
        lines.append(f"{indent}{var}_done = None")
    lines.append(f"{indent}{var} = {var}_done if {var}_done is not None else {var}_due")
    required_by = "None" if step.required_by is None else \
        gen.checked_expr(step.required_by, step.name)
    lines.append(f"{indent}D.append(rt_step_entry({step.name!r}, {step.kind!r}, {var}_due, "
                 f"{var}_done, AS_OF, CAL, {step.cite!r}, {owner_case}, {required_by}))")
    return lines


def _warning_lines(gen: _Gen) -> list[str]:
    """The data-consistency rules (`warnings:`), after every decision they may read. The rules
    with `for:` over one list share one walk over it, their hits kept aside (rare) and put in
    their rule's place, so that the warnings come in rule order, then item order."""
    rules = gen.policy.warnings
    gen.trace_reads = False
    walks: dict[str, list[int]] = {}
    for number, rule in enumerate(rules):
        if rule.iterable is not None:
            walks.setdefault(rule.iterable, []).append(number)
    lines: list[str] = []
    for walk, (iterable, numbers) in enumerate(walks.items()):
        assert iterable.isidentifier()
        item, index, hits = f"w_{walk}", f"wi_{walk}", f"wh_{walk}"
        lines.append(f"{hits} = []")
        lines.append(f"for {index}, {item} in rt_indexed(r.{iterable}):")
        for number in numbers:
            rule = rules[number]
            assert rule.var is not None
            gen.bound = {rule.var: item}
            gen.bound_source = {rule.var: iterable}
            cond = gen.checked_expr(rule.when, rule.id)
            gen.bound, gen.bound_source = {}, {}
            if gen.traced:
                cond = f"T.warning({number}, {index}, {cond})"
            prefix, suffix = rule.field.split("[]", 1)
            lines.append(f"    if {cond}:")
            lines.append(f"        {hits}.append(({number}, rt_indexed_warning({rule.code!r}, "
                         f"{prefix!r}, {index}, {suffix!r}, {rule.cite!r})))")
    lines.append("W = []")
    for number, rule in enumerate(rules):
        if rule.iterable is not None:
            hits = f"wh_{list(walks).index(rule.iterable)}"
            lines.append(f"if {hits}:")
            lines.append(f"    W.extend(wh_w for wh_n, wh_w in {hits} if wh_n == {number})")
            continue
        cond = gen.checked_expr(rule.when, rule.id)
        if gen.traced:
            cond = f"T.warning({number}, None, {cond})"
        lines.append(f"if {cond}:")
        lines.append(f"    W.append({{'code': {rule.code!r}, 'field': {rule.field!r}, "
                     f"'cite': {rule.cite!r}}})")
    gen.trace_reads = True
    return lines


def _literal_value(node: ast.Expr) -> Any:
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Number):
        return int(node.text) if "." not in node.text else node.value
    if isinstance(node, ast.DateLit):
        return node.value
    raise TypeError(node)  # pragma: no cover


def _fused_loop_lines(gen: _Gen, number: int, loop: FusedLoop) -> list[str]:
    """One walk over a record's list computing every fused aggregate over it."""
    item = f"b_loop_{number}"
    lines = []
    for fused in loop.aggregates:
        start = {"any": "False", "all": "True", "count": "0", "sum": "0"}.get(fused.node.func,
                                                                            "None")
        lines.append(f"{fused.var} = {start}")
    lines.append(f"for {item} in {record_attribute('r', loop.iterable)}:")
    for fused in loop.aggregates:
        node = fused.node
        gen.bound = {node.var: item}
        body = gen.expr(node.body)
        indent = "    "
        if node.filter is not None:
            lines.append(f"    if {gen.expr(node.filter)}:")
            indent = "        "
        var = fused.var
        if node.func == "any":
            lines.append(f"{indent}if not {var} and {body}: {var} = True")
        elif node.func == "all":
            lines.append(f"{indent}if {var} and not {body}: {var} = False")
        elif node.func == "count":
            lines.append(f"{indent}if {body}: {var} += 1")
        elif node.func == "sum":
            lines.append(f"{indent}{var} += {body}")
        else:
            compare = "<" if node.func == "min" else ">"
            lines.append(f"{indent}v_ = {body}")
            lines.append(f"{indent}if v_ is not None and ({var} is None or v_ {compare} {var}): "
                         f"{var} = v_")
    gen.bound = {}
    return lines


def generate_source(policy: CheckedPolicy, traced: bool) -> tuple[str, _Gen]:
    gen = _Gen(policy, traced)
    body: list[str] = []
    if not traced:  # the traced path keeps every aggregate in place: it is the reference
        gen.fusion = plan_fusion(policy)
        for number, loop in enumerate(gen.fusion.loops):
            body.append(f"# fused loop {number}: one walk over a list of the record")
            body.extend(_fused_loop_lines(gen, number, loop))
    for index, name in enumerate(policy.order):
        node = policy.nodes[name]
        lines = gen.node_lines(index, node)
        body.append(f"# node {index}")  # never the node's name: a comment ends at a newline
        body.extend(lines)
    outputs = []
    for name in policy.outputs:
        key = policy.output_name(name)
        outputs.append(f"{key!r}: {gen.node_var(name)}")
        node = policy.nodes[name]
        spec = policy.document.decisions[name]
        if isinstance(spec, FirstMatchDecision) and spec.emit_label:
            vocab = policy.vocabularies[spec.type]
            labels = {k: v[0] for k, v in vocab.labels.items()}
            outputs.append(f"{key + '_label'!r}: {gen.const(_FrozenLookup(labels))}"
                           f".get({gen.node_var(name)})")
    record_id = record_attribute("r", policy.record_id) if policy.record_id else "None"
    body.extend(_procedure_lines(gen))
    body.extend(_warning_lines(gen))
    fname = "evaluate_traced" if traced else "evaluate"
    args = "r, c, T" if traced else "r, c=None"
    lines = [
        "def factory(P, K, AS_OF, AS_OF_TEXT, POLICY_REF, CAL, RT):",
        *[f"    p_{i} = P[{i}]" for i in range(len(policy.parameters))],
        *[f"    k_{i} = K[{i}]" for i in range(len(gen.constants))],
        *[f"    rt_{fn.runtime} = RT.{fn.runtime}" for fn in FUNCTIONS.values()],
        "    rt_to_decimal = RT.to_decimal",
        "    rt_step_entry = RT.step_entry",
        "    rt_known_by = RT.known_by",
        "    rt_known_date = RT.known_date",
        "    rt_given_date = RT.given_date",
        "    rt_uncovered = RT.uncovered",
        "    rt_coverage_error = RT.coverage_error",
        "    rt_quarterly_entries = RT.quarterly_entries",
        "    rt_add_duration = RT.add_duration",
        "    rt_indexed = RT.indexed",
        "    SCAL = RT.procedure_calendar(CAL)",
        "    rt_indexed_warning = RT.indexed_warning",
        f"    def {fname}({args}):",
        *["        " + line for line in body],
        # `overdue` and `violations` are filled by the engine from D (engine/policy.py); they
        # are placed here so that the record's keys come in the contract's order
        f"        return {{'household_id': {record_id}, 'policy': POLICY_REF, "
        "'as_of': AS_OF_TEXT, " + ", ".join(outputs)
        + ", 'deadlines': D, 'overdue': (), 'violations': (), 'warnings': W}",
        f"    return {fname}",
    ]
    return "\n".join(lines) + "\n", gen


class _Undecided:
    """The value of a long first_match decision while none of its rules has matched yet."""


class _FrozenLookup(dict[str, str]):
    """A label table used as a constant (hashable by identity)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)


class CompiledPolicy:
    """A checked policy compiled to Python: builds evaluators for a date."""

    def __init__(self, policy: CheckedPolicy) -> None:
        self.policy = policy
        self._fields = data_attributes([t.record_type(policy.record_model), t.record_type(Case)])
        self.source, fast = self._generate(traced=False)
        self.traced_source, traced = self._generate(traced=True)
        self.parts = traced.parts
        self._constants = tuple(fast.constants)
        self._traced_constants = tuple(traced.constants)
        self._fast_factory = self._checked_compile(self.source, f"<policy {policy.id}>")
        # The traced twin is checked and compiled when a trace is first asked for: checking
        # or deciding without `--explain` never pays for it (half the time and memory of
        # loading a large policy).
        self._traced_factory: Callable[..., Any] | None = None

    def _refused(self, exc: UnsafeGeneratedCode) -> PolicyError:
        return PolicyError([error(
            "internal-unsafe-code", f"the compiler refused its own code: {exc}",
            Location(self.policy.path, 0, 0),
            hint="this is a bug in fangpin-rules, not in the policy: nothing of the policy "
            "was run; please report it with the policy file")])

    def _generate(self, traced: bool) -> tuple[str, _Gen]:
        try:
            return generate_source(self.policy, traced=traced)
        except UnsafeGeneratedCode as exc:
            raise self._refused(exc) from None

    def _checked_compile(self, source: str, filename: str) -> Callable[..., Any]:
        try:
            check_generated(source, self._fields)
        except UnsafeGeneratedCode as exc:
            raise self._refused(exc) from None
        return _compile(source, filename)

    def build(self, params: tuple[Any, ...], as_of: date, policy_ref: dict[str, str],
              calendar: Any) -> Evaluator:
        result: Evaluator = self._fast_factory(params, self._constants, as_of, as_of.isoformat(),
                                               policy_ref, calendar, runtime)
        return result

    def build_traced(self, params: tuple[Any, ...], as_of: date, policy_ref: dict[str, str],
                     calendar: Any) -> Callable[[Any, Any, Any], dict[str, Any]]:
        if self._traced_factory is None:
            with collector_paused():
                self._traced_factory = self._checked_compile(
                    self.traced_source, f"<policy {self.policy.id} traced>")
        result: Callable[[Any, Any, Any], dict[str, Any]] = self._traced_factory(
            params, self._traced_constants, as_of, as_of.isoformat(), policy_ref, calendar,
            runtime)
        return result


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading builds millions of objects for a large policy (located tree, expression trees,
    the generated code's syntax tree), almost none of them garbage: each cyclic collection
    walks all of them again, which made loading grow faster than the file
    (benchmarks/bench_large_policy.py). Collection resumes when loading ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _compile(source: str, filename: str) -> Callable[..., Any]:
    """Compile the checked source (`check_generated`: what runs is what was checked)."""
    namespace: dict[str, Any] = {
        "__builtins__": {name: getattr(builtins, name) for name in _ALLOWED_BUILTINS}}
    exec(compile(source, filename, "exec"), namespace)
    factory: Callable[..., Any] = namespace["factory"]
    return factory


def compile_policy(policy: CheckedPolicy) -> CompiledPolicy:
    return CompiledPolicy(policy)
