"""The allow-list the generated code must keep to, checked on its syntax tree before it runs.

The code generator writes policy text only as `repr()` literals and names locals itself; this
check makes a future slip fail closed. It parses the generated source and refuses any construct,
name, attribute, call or literal the compiler does not make: a refused source is an internal
error (`UnsafeGeneratedCode`), never executed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from fangpin_rules.language import types as t
from fangpin_rules.language.functions import FUNCTIONS
from fangpin_rules.language.names import is_plain_name

BUILTINS = frozenset({"len", "any", "all", "sum", "min", "max", "isinstance"})
RUNTIME_HELPERS = frozenset({fn.runtime for fn in FUNCTIONS.values()} | {
    "to_decimal", "step_entry", "known_by", "known_date", "quarterly_entries", "add_duration",
    "indexed", "indexed_warning", "procedure_calendar", "given_date", "uncovered",
    "coverage_error"})
TRACE_METHODS = frozenset({"begin", "part", "rule", "node", "read", "warning"})
_FIXED_NAMES = frozenset({"factory", "evaluate", "evaluate_traced", "r", "c", "T", "D", "P",
                          "K", "AS_OF", "AS_OF_TEXT", "POLICY_REF", "CAL", "SCAL", "RT",
                          "case_id", "v_", "W", "wh_n", "wh_w"})
# The locals the compiler numbers: parameters, constants, nodes, steps, temporaries, bound
# names, fused aggregates, label flags, and the runtime helpers bound as `rt_<helper>`.
_NUMBERED = re.compile(r"(?:[pkntfm]_\d+(?:_\d+)?|s_\d+(?:_due|_done|_error)?|b_\d+_t_\d+"
                       r"|b_loop_\d+|w_\d+|wi_\d+|wh_\d+)")
# The lists the warnings are gathered in: every warning (W) and a walk's hits (wh_<n>).
_WARNING_LIST = re.compile(r"W|wh_\d+")
_NODE_LOCAL = re.compile(r"n_\d+")
_CONSTANT_LOCAL = re.compile(r"k_\d+")
_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.AugAssign,
    ast.If, ast.For, ast.Expr, ast.Pass, ast.Name, ast.Load, ast.Store, ast.Constant,
    ast.Attribute, ast.Call, ast.keyword, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.Add,
    ast.Sub, ast.Mult, ast.Div, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.Eq, ast.NotEq,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.IfExp,
    ast.NamedExpr, ast.GeneratorExp, ast.comprehension, ast.Tuple, ast.Dict, ast.Subscript,
    ast.List, ast.Try, ast.ExceptHandler)
_NODE_TYPES = frozenset(_NODES)


class UnsafeGeneratedCode(Exception):
    """The compiler made code outside its own allow-list: a bug in fangpin-rules."""


def record_attribute(base: str, attr: str) -> str:
    """`base.attr` for a field of the record (or of one of its lists, or of the case)."""
    if not is_plain_name(attr):
        raise UnsafeGeneratedCode(f"a record field name {attr!r} that is not a plain name")
    return f"{base}.{attr}"


def data_attributes(records: Iterable[t.Record]) -> frozenset[str]:
    """Every field name of these records and of the records inside them."""
    names: set[str] = set()
    pending: list[t.Type] = list(records)
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, t.Opt):
            pending.append(current.inner)
        elif isinstance(current, t.ListOf):
            pending.append(current.element)
        elif isinstance(current, t.Record):
            names.update(current.fields)
            pending.extend(current.fields.values())
    return frozenset(name for name in names if is_plain_name(name))


def check_generated(source: str, data_fields: frozenset[str]) -> None:
    """Return if the source keeps to the allow-list; else raise UnsafeGeneratedCode.

    The source is checked in pieces of whole statements (the frame of `factory` and
    `evaluate`, then the body of `evaluate` some thousand lines at a time), so that a large
    policy never holds the syntax tree of all its code at once. A piece that parses on its own
    ends outside any string, bracket or continuation: within the whole source it parses to the
    same statements, so the source compiled is exactly what was checked."""
    lines = source.split("\n")
    frame_end = next((i for i, line in enumerate(lines) if line.startswith("    def evaluate")),
                     None)
    if frame_end is None or lines[-1] != "" or lines[-2] not in (
            "    return evaluate", "    return evaluate_traced"):
        raise UnsafeGeneratedCode("the generated code does not have the compiler's frame")
    frame = [*lines[:frame_end + 1], "        pass", lines[-2]]
    _check_piece("\n".join(frame) + "\n", data_fields, functions=True, first_line=1)
    body = lines[frame_end + 1:-2]
    start = 0
    while start < len(body):
        end = min(len(body), start + _PIECE_LINES)
        while end < len(body) and not _starts_statement(body[end]):
            end += 1
        piece = body[start:end]
        if any(not line.startswith(_BODY_INDENT) for line in piece):
            raise UnsafeGeneratedCode("a line of the generated code outside `evaluate`")
        text = "\n".join(line[len(_BODY_INDENT):] for line in piece) + "\n"
        _check_piece(text, data_fields, functions=False, first_line=frame_end + 2 + start)
        start = end


_PIECE_LINES = 2000
_BODY_INDENT = " " * 8


def _starts_statement(line: str) -> bool:
    """A line of `evaluate`'s own block that does not continue an `if` before it."""
    return line.startswith(_BODY_INDENT) and line[8:9] not in (" ", "") and not \
        line[8:].startswith(("elif ", "elif(", "else:", "except ", "except:"))


def _check_piece(text: str, data_fields: frozenset[str], *, functions: bool,
                 first_line: int) -> None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise UnsafeGeneratedCode(f"the generated code does not parse near line {first_line} "
                                  f"({exc})") from None
    _Checker(data_fields, functions=functions).run(tree)


class _Checker:
    """Looks at every node once, without recursion (a policy's rules make long code)."""

    def __init__(self, data_fields: frozenset[str], *, functions: bool) -> None:
        self.data_fields = data_fields
        self.functions = functions  # only the frame defines `factory` and `evaluate`
        self.methods: set[int] = set()  # the Attribute nodes that are checked calls' targets

    def run(self, tree: ast.Module) -> None:
        handlers = {ast.FunctionDef: self.function, ast.Name: self.name_node,
                    ast.arg: self.arg, ast.Constant: self.constant, ast.Try: self.try_node,
                    ast.ExceptHandler: self.except_handler,
                    ast.Attribute: self.attribute, ast.Call: self.call,
                    ast.Subscript: self.subscript}
        pending: list[ast.AST] = [tree]
        while pending:  # a call is seen before its target (`methods`)
            node = pending.pop()
            kind = type(node)
            if kind not in _NODE_TYPES:
                self.refuse(node, f"a {kind.__name__} construct")
            handler = handlers.get(kind)
            if handler is not None:
                handler(node)  # type: ignore[operator]
            pending.extend(ast.iter_child_nodes(node))

    def refuse(self, node: ast.AST, what: str) -> None:
        line = getattr(node, "lineno", 0)
        raise UnsafeGeneratedCode(f"{what} at line {line} of the generated code")

    def function(self, node: ast.FunctionDef) -> None:
        if not self.functions or node.name not in ("factory", "evaluate", "evaluate_traced") \
                or node.decorator_list or node.returns is not None:
            self.refuse(node, f"a function {node.name!r}")
        for default in node.args.defaults:
            if not (isinstance(default, ast.Constant) and default.value is None):
                self.refuse(default, "a default argument")
        if node.args.vararg or node.args.kwarg or node.args.kwonlyargs:
            self.refuse(node, "variable arguments")

    def try_node(self, node: ast.Try) -> None:
        # only a step's `try:` around its lines, with one handler (`except_handler`)
        if len(node.handlers) != 1 or node.orelse or node.finalbody:
            self.refuse(node, "a try statement of another form")

    def except_handler(self, node: ast.ExceptHandler) -> None:
        # the calendar's coverage error only, named by a step's numbered local
        if not (isinstance(node.type, ast.Name) and node.type.id == "rt_coverage_error") or \
                node.name is None or not _NUMBERED.fullmatch(node.name):
            self.refuse(node, "an except clause of another form")

    def name_node(self, node: ast.Name) -> None:
        self.name(node, node.id)

    def arg(self, node: ast.arg) -> None:
        self.name(node, node.arg)

    def name(self, node: ast.AST, name: str) -> None:
        if name in _FIXED_NAMES or name in BUILTINS or _NUMBERED.fullmatch(name):
            return
        if name.startswith("rt_") and name[3:] in RUNTIME_HELPERS:
            return
        self.refuse(node, f"the name {name!r}")

    def constant(self, node: ast.Constant) -> None:
        # Policy text only ever arrives as str; numbers the compiler writes are whole ints
        # (fractions are Decimal constants passed in K), so a float here is a slip.
        if node.value is None or type(node.value) in (str, int, bool):
            return
        self.refuse(node, f"a {type(node.value).__name__} literal")

    def attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Store) or node.attr.startswith("_"):
            self.refuse(node, f"the attribute {node.attr!r}")
        if id(node) in self.methods:
            return
        base = node.value
        if isinstance(base, ast.Name) and base.id == "RT":
            if node.attr not in RUNTIME_HELPERS:
                self.refuse(node, f"the runtime attribute {node.attr!r}")
        elif node.attr not in self.data_fields:
            self.refuse(node, f"the attribute {node.attr!r}")

    def call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id not in BUILTINS and not (func.id.startswith("rt_") and
                                                func.id[3:] in RUNTIME_HELPERS):
                self.refuse(node, f"a call of {func.id!r}")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner, method = func.value.id, func.attr
            allowed = (owner == "T" and method in TRACE_METHODS) or (
                owner == "RT" and method in RUNTIME_HELPERS) or (
                method in ("append", "extend") and (owner == "D" or
                                                    _NODE_LOCAL.fullmatch(owner) or
                                                    _WARNING_LIST.fullmatch(owner))) or (
                method == "get" and _CONSTANT_LOCAL.fullmatch(owner))
            if not allowed:
                self.refuse(node, f"a call of {owner}.{method}")
            self.methods.add(id(func))
        else:
            self.refuse(node, "a call of a computed function")
        for keyword in node.keywords:
            if keyword.arg != "default":
                self.refuse(node, f"the keyword argument {keyword.arg!r}")

    def subscript(self, node: ast.Subscript) -> None:
        if not (isinstance(node.value, ast.Name) and node.value.id in ("P", "K")
                and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int):
            self.refuse(node, "a subscript")
