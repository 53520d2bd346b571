"""Stage 3: policy document -> checked policy.

Runs before anything is evaluated and reports, each at its file:line:column with the offending
text and what to do: syntax errors, unknown names and keys (with a suggestion), type errors,
cycles among definitions, unknown labels, malformed parameter values, unused parameters
(a warning).
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from fangpin_rules.checker.checked import (
    CheckedExpr,
    CheckedNode,
    CheckedParameter,
    CheckedPolicy,
    CheckedRule,
    CheckedStep,
    Vocabulary,
)
from fangpin_rules.checker.expression_source import ExprSource
from fangpin_rules.checker.infer import ERR, Scope, free_names
from fangpin_rules.checker.parameters import check_parameters
from fangpin_rules.checker.regional import check_regional_warnings
from fangpin_rules.checker.schema import record_of
from fangpin_rules.checker.warnings import check_warnings
from fangpin_rules.diagnostics import (
    Diagnostic,
    Location,
    PolicyError,
    Severity,
    did_you_mean,
    error,
    warning,
)
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.names import NAME_HINT, name_problem
from fangpin_rules.language.parser import ExprSyntaxError, parse_expression
from fangpin_rules.limits import MAX_RULES
from fangpin_rules.model import Case, Decision
from fangpin_rules.policy.document import (
    CollectDecision,
    DecisionSpec,
    FirstMatchDecision,
    ObjectDecision,
    ValueDecision,
    localized,
)
from fangpin_rules.policy.read import SourcedDocument
from fangpin_rules.text import safe_text

# the decision record's fields as the contract orders them (model.Decision, records.md)
CONTRACT_ORDER = {key: rank for rank, key in enumerate(Decision.model_fields)}
CONTRACT_FIELD_ORDER = {
    key: {name: rank for rank, name in enumerate(model.model_fields)}
    for key, info in Decision.model_fields.items()
    for model in typing.get_args(info.annotation) or (info.annotation,)
    if isinstance(model, type) and issubclass(model, BaseModel)}
# the contract's steps in the procedure's order (records.md); a policy's own steps follow, by
# name: the deadlines' order is the procedure's, each step after the steps it reads, whatever
# the order of the file's `procedure:` mapping
PROCEDURE_ORDER = {step: rank for rank, step in enumerate((
    "summary", "assignment", "preliminary_review", "verification", "commitment",
    "publicity_identification", "publicity_measures", "publicity_risk_elimination",
    "confirmation", "visit", "dibao_grace_end"))}


def _step_rank(name: str) -> tuple[int, str]:
    return (PROCEDURE_ORDER.get(name, len(PROCEDURE_ORDER)), name)


RECORD_KEYS = {"household_id", "policy", "as_of", "deadlines", "overdue", "violations",
               "warnings", "trace"}
RESERVED = {"as_of", "true", "false", "null", "and", "or", "not", "in", "if", "then", "else"}


def check(sourced: SourcedDocument) -> CheckedPolicy:
    """Check a policy document; raises PolicyError listing every error (and the warnings)."""
    checker = _Checker(sourced)
    policy = checker.run()
    if any(d.severity is Severity.ERROR for d in checker.diagnostics):
        raise PolicyError(checker.diagnostics)
    return policy


class _NodeSpec:
    def __init__(self, name: str, kind: str, spec: Any, path: tuple[str | int, ...],
                 output: bool, parent: str | None) -> None:
        self.name, self.kind, self.spec, self.path = name, kind, spec, path
        self.output, self.parent = output, parent
        self.exprs: dict[tuple[str | int, ...], tuple[ExprSource, ast.Expr | None]] = {}


class _Checker:
    def __init__(self, sourced: SourcedDocument) -> None:
        self.sourced = sourced
        self.doc = sourced.document
        self.diagnostics: list[Diagnostic] = []
        self.record_model, self.record_id = record_of(self.doc.schema_, self._schema_error)
        self.inputs = dict(t.record_type(self.record_model).fields)
        if self.doc.schema_ is not None:  # a field whose declaration was refused: no cascades
            for name in self.doc.schema_.fields:
                self.inputs.setdefault(name, ERR)
        self.expr_types: dict[int, t.Type] = {}
        self.vocabularies: dict[str, Vocabulary] = {}
        self.parameters: dict[str, CheckedParameter] = {}
        self.specs: dict[str, _NodeSpec] = {}
        self.nodes: dict[str, CheckedNode] = {}
        self.used_parameters: set[str] = set()
        self.used_nodes: set[str] = set()
        self.rule_ids: dict[str, Location] = {}
        self.rule_count = 0

    # -- helpers ------------------------------------------------------------------------------
    def _schema_error(self, code: str, message: str, path: tuple[str | int, ...],
                      hint: str) -> None:
        self.err(code, message, self.loc(path), hint=hint)

    def err(self, code: str, message: str, loc: Location, **kw: Any) -> None:
        self.diagnostics.append(error(code, message, loc, **kw))

    def warn(self, code: str, message: str, loc: Location, **kw: Any) -> None:
        self.diagnostics.append(warning(code, message, loc, **kw))

    def loc(self, path: tuple[str | int, ...]) -> Location:
        return self.sourced.location(path)

    def key_loc(self, path: tuple[str | int, ...]) -> Location:
        from fangpin_rules.source import key_location
        return key_location(self.sourced.tree, path)

    def expr_error(self, src: ExprSource, node: ast.Expr | tuple[int, int], code: str,
                   message: str, hint: str = "") -> None:
        span = node if isinstance(node, tuple) else node.span
        excerpt = src.text[span[0]:span[1]]
        self.err(code, message, src.location(span[0]), excerpt=excerpt,
                 length=max(1, span[1] - span[0]), hint=hint)

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> CheckedPolicy:
        self._vocabularies()
        self._parameters()
        self._collect_specs()
        self._check_names()
        self._parse_all()
        order = self._order()
        for name in order:
            self._check_node(self.specs[name])
        steps = self._procedure()
        warnings = check_warnings(self)
        for duty in self.doc.duties:
            self._check_identifier(duty, ("duties", duty), "duty")
        regional = check_regional_warnings(self)
        calendar = self._calendar()
        self._unused()
        self._citations()
        outputs = sorted(self.doc.decisions, key=self._output_rank)
        nodes = {name: self.nodes[name] for name in order if name in self.nodes}
        # reported in the file's order, whatever order the checks ran in
        self.diagnostics.sort(key=lambda d: (d.location.file, d.location.line,
                                             d.location.column))
        return CheckedPolicy(self.doc, self.sourced.path, self.sourced.sha256,
                             self.vocabularies, self.parameters, nodes,
                             [n for n in order if n in nodes], outputs, self.expr_types,
                             self.diagnostics, steps, warnings, calendar,
                             inheritance=self.sourced.inheritance,
                             record_model=self.record_model, record_id=self.record_id,
                             regional_warnings=regional)

    def _output_rank(self, name: str) -> tuple[int, str]:
        """Where a decision's key stands in the decision record, whatever the order of the
        file's mapping: the contract's fields in the contract's order (records.md), then the
        policy's own outputs by name."""
        key = self.doc.decisions[name].output or name
        return (CONTRACT_ORDER.get(key, len(CONTRACT_ORDER)), key)

    def _field_order(self, spec: _NodeSpec) -> list[str]:
        """An object decision's fields in an order the file's mapping does not set: a contract
        field's in the contract's order (`dibao`: recommend_enrolment, grace_until), then the
        others by name."""
        key = (spec.spec.output or spec.name) if spec.output else None
        known = CONTRACT_FIELD_ORDER.get(key or "", {})
        return sorted(spec.spec.fields, key=lambda f: (known.get(f, len(known)), f))

    def _calendar(self) -> Any:
        """The working-day calendar named by the metadata, with the file's corrections."""
        from fangpin_rules.calendar import CalendarError, CalendarOverrides, WorkingDayCalendar

        if self.doc.policy.calendar != "cn-mainland":
            self.err("unknown-calendar", f"unknown calendar '{self.doc.policy.calendar}'",
                     self.loc(("policy", "calendar")),
                     hint="the calendar of mainland China is `cn-mainland`")
            return None
        years = {year: {"rest_days": section.rest_days, "working_days": section.working_days}
                 for year, section in self.doc.calendar.years.items()}
        try:
            return WorkingDayCalendar(CalendarOverrides.from_policy_years(years))
        except CalendarError as exc:
            self.err("calendar", str(exc), self.key_loc(("calendar", "years")),
                     hint="list each year's rest_days and working_days as dates of that year")
            return None

    # -- procedure ----------------------------------------------------------------------------
    def _procedure(self) -> list[CheckedStep]:
        """Type the steps in dependency order: a step may read the case and any other step,
        wherever it is written (YAML mappings are unordered)."""
        steps: list[CheckedStep] = []
        needs_case: dict[str, bool] = {}
        case_type = t.record_type(Case)
        dates = (t.DATE, t.Opt(t.DATE))
        names = list(self.doc.procedure)
        # Every step is a field of `steps`; a step caught in a cycle is left out of the order.
        all_steps = t.Record("steps", {name: t.Opt(t.DATE) for name in names})
        for name in self._step_order():
            step = self.doc.procedure[name]
            index = names.index(name)
            path: tuple[str | int, ...] = ("procedure", name)
            self._check_identifier(name, path, "step")
            extra: dict[str, t.Type] = {"case": case_type, "steps": all_steps}
            done_types = (t.ListOf(t.DATE),) if step.kind == "quarterly" else dates
            typed = [self._step_expr(name, (*path, key), want, text, extra, needs_case)
                     for key, want, text in (("when", (t.BOOL,), step.when),
                                             ("due", dates, step.due),
                                             ("done", done_types, step.done),
                                             ("until", dates, step.until),
                                             ("required_by", dates, step.required_by))]
            (when, when_case), (due, due_case), (done, done_case), (until, until_case), \
                (required_by, required_case) = typed
            if step.kind == "quarterly" and step.done is None:
                self.err("missing-key", "a quarterly step needs `done:` (the list of dates it "
                         "was done)", self.key_loc(path))
            for key, allowed in (("until", "quarterly"), ("required_by", "notice")):
                if getattr(step, key) is not None and step.kind != allowed:
                    self.err("misplaced-key", f"`{key}:` belongs to {allowed} steps",
                             self.key_loc((*path, key)), length=len(key),
                             hint=f"remove it, or make the step `kind: {allowed}`")
            reads_case = when_case or due_case or done_case or until_case or required_case
            if due is not None:
                steps.append(CheckedStep(
                    name, index, step.kind, localized(step.title, "zh") or name,
                    localized(step.title, "en"), step.cite, step.basis, when, due, done,
                    reads_case, self.key_loc(path), until, required_by))
            needs_case[name] = reads_case
        return steps

    def _step_references(self, name: str) -> dict[str, tuple[ExprSource, ast.Attribute]]:
        """The steps a step's expressions read (`steps.X`), each with its first reading."""
        step = self.doc.procedure[name]
        found: dict[str, tuple[ExprSource, ast.Attribute]] = {}
        for key, text in (("when", step.when), ("due", step.due), ("done", step.done)):
            if text is None:
                continue
            try:
                tree = parse_expression(text)
            except ExprSyntaxError:
                continue  # reported when the step is typed
            path: tuple[str | int, ...] = ("procedure", name, key)
            src = ExprSource(text, self.sourced.scalar(path), self.loc(path), path)
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                        and node.value.id == "steps" and node.attr in self.doc.procedure):
                    found.setdefault(node.attr, (src, node))
        return found

    def _step_order(self) -> list[str]:
        """The steps, each after the steps it reads, otherwise in file order; a cycle is an
        error at each step of it. Its steps are left out (nothing sound can be computed)."""
        graph = {name: self._step_references(name) for name in self.doc.procedure}
        order: list[str] = []
        state: dict[str, int] = {}  # 1: being visited, 2: placed
        in_cycle: set[str] = set()

        def visit(name: str, path: list[str]) -> None:
            state[name] = 1
            path.append(name)
            for ref in sorted(graph[name], key=_step_rank):
                if state.get(ref) == 1:
                    cycle = [*path[path.index(ref):], ref]
                    in_cycle.update(cycle)
                    src, node = graph[name][ref]
                    span = node.span
                    self.err("cycle", "procedure steps depend on each other in a cycle: "
                             + " -> ".join(cycle), src.location(span[0]),
                             excerpt=src.text[span[0]:span[1]], length=span[1] - span[0],
                             related=tuple((f"'{c}'", self.key_loc(("procedure", c)))
                                           for c in cycle[:-1]),
                             hint="break the cycle: one of these steps must be due without "
                             "reading the other")
                elif not state.get(ref):
                    visit(ref, path)
            path.pop()
            state[name] = 2
            order.append(name)

        for name in sorted(graph, key=_step_rank):
            if not state.get(name):
                visit(name, [])
        return [name for name in order if name not in in_cycle]

    def _step_expr(self, step: str, path: tuple[str | int, ...], want: tuple[t.Type, ...],
                   text: str | None, extra: dict[str, t.Type], needs_case: dict[str, bool]
                   ) -> tuple[CheckedExpr | None, bool]:
        """A step's expression, typed; and whether it reads the case (itself or through an
        earlier step that does)."""
        if text is None:
            return None, False
        src = ExprSource(text, self.sourced.scalar(path), self.loc(path), path)
        try:
            tree = parse_expression(text)
        except ExprSyntaxError as exc:
            self.err("syntax", f"syntax error: {exc.message}", src.location(exc.offset),
                     excerpt=text, length=exc.length, hint=exc.hint)
            return None, False
        scope = Scope(self, src, f"procedure.{step}", extra)
        result = scope.infer(tree)
        self.used_parameters.update(scope.params)
        self.used_nodes.update(scope.nodes)
        reads_case = "case" in free_names(tree) or any(
            needs_case.get(node.attr, False) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "steps")
        if result is not ERR and result not in want:
            self.expr_error(src, tree, "type", f"`{path[-1]}` must be "
                            + " or ".join(t.describe(w) for w in want)
                            + f", but this is {t.describe(result)}")
        return CheckedExpr(tree, result, src), reads_case

    def _vocabularies(self) -> None:
        for name, entries in self.doc.vocabularies.items():
            path: tuple[str | int, ...] = ("vocabularies", name)
            self._check_identifier(name, path, "vocabulary")
            for label in entries:
                self._check_identifier(label, (*path, label), "label")
            if not entries:
                self.err("empty-vocabulary", f"vocabulary '{name}' has no labels",
                         self.loc(path))
            enum = t.Enum(name, tuple(entries))
            self.vocabularies[name] = Vocabulary(
                name, enum, {k: (v.zh, v.en) for k, v in entries.items()})

    def _check_identifier(self, name: str, path: tuple[str | int, ...], what: str) -> bool:
        problem = name_problem(name)
        if problem is not None:
            self.err("bad-name", f"{safe_text(repr(name))} is not a valid {what} name: {problem}",
                     self.key_loc(path), length=max(1, len(name)), hint=NAME_HINT)
            return False
        return True

    # -- parameters ---------------------------------------------------------------------------
    def _parameters(self) -> None:
        for name in self.doc.parameters:
            self._check_identifier(name, ("parameters", name), "parameter")
        self.parameters = check_parameters(self.sourced, self.diagnostics.append)

    # -- nodes --------------------------------------------------------------------------------
    def _collect_specs(self) -> None:
        for name, definition in self.doc.definitions.items():
            self._add_spec(_NodeSpec(name, "definition", definition, ("definitions", name),
                                     False, None))
        for name, decision in self.doc.decisions.items():
            self._add_decision(name, decision, ("decisions", name), None)

    def _add_decision(self, name: str, spec: DecisionSpec, path: tuple[str | int, ...],
                      parent: str | None) -> None:
        self._add_spec(_NodeSpec(name, spec.kind, spec, path, parent is None, parent))
        if spec.output is not None:
            self._check_identifier(spec.output, (*path, "output"), "output")
        if isinstance(spec, ObjectDecision):
            for field_name, field_spec in spec.fields.items():
                self._check_identifier(field_name, (*path, "fields", field_name), "field")
                self._add_decision(f"{name}.{field_name}", field_spec,
                                   (*path, "fields", field_name), name)

    def _add_spec(self, spec: _NodeSpec) -> None:
        self.specs[spec.name] = spec
        rules = getattr(spec.spec, "rules", None)
        if rules:
            before = self.rule_count
            self.rule_count += len(rules)
            if before <= MAX_RULES < self.rule_count:
                self.err("too-many-rules", f"the policy has more than {MAX_RULES} rules",
                         self.loc((*spec.path, "rules", MAX_RULES - before)),
                         hint="split the policy, or turn a table of cases into a parameter "
                         "or region table")

    def _check_names(self) -> None:
        seen: dict[str, tuple[str, Location]] = {}
        for name in self.parameters:
            seen[name] = ("parameter", self.key_loc(("parameters", name)))
        for name, spec in self.specs.items():
            if spec.parent is not None:
                continue
            here = self.key_loc(spec.path)
            self._check_identifier(name, spec.path, spec.kind)
            what = "definition" if spec.kind == "definition" else "decision"
            if name in RESERVED:
                self.err("reserved-name", f"'{name}' is a reserved word", here)
            elif name in self.inputs:
                record = "household" if self.doc.schema_ is None else self.doc.schema_.name
                self.err("name-clash", f"{what} '{name}' has the name of a {record} field",
                         here, hint="choose another name")
            elif name in seen:
                other_kind, other_loc = seen[name]
                self.err("name-clash", f"{what} '{name}' has the name of a {other_kind}", here,
                         related=((f"the {other_kind}", other_loc),),
                         hint="every name is defined once")
            seen[name] = (what, here)
        outputs: dict[str, Location] = {}
        for name, decision in self.doc.decisions.items():
            key = decision.output or name
            where = self.key_loc(("decisions", name))
            if key in RECORD_KEYS:
                self.err("output-clash", f"output name '{key}' is reserved for the decision "
                         "record itself", where, hint="give the decision another `output:`")
            elif key in outputs:
                self.err("output-clash", f"two decisions output '{key}'", where,
                         related=(("the other", outputs[key]),))
            outputs[key] = where

    def _parse(self, spec: _NodeSpec, rel: tuple[str | int, ...], text: str) -> None:
        path = (*spec.path, *rel)
        scalar = self.sourced.scalar(path)
        src = ExprSource(text, scalar, self.loc(path), path)
        try:
            tree: ast.Expr | None = parse_expression(text)
        except ExprSyntaxError as exc:
            length = exc.length if exc.offset < len(text) else 1
            self.err("syntax", f"syntax error: {exc.message}", src.location(exc.offset),
                     excerpt=text, length=length, hint=exc.hint)
            tree = None
        spec.exprs[rel] = (src, tree)

    def _parse_all(self) -> None:
        for spec in self.specs.values():
            s = spec.spec
            if isinstance(s, ValueDecision) or spec.kind == "definition":
                self._parse(spec, ("expr",), s.expr)
            elif isinstance(s, FirstMatchDecision | CollectDecision):
                for i, rule in enumerate(s.rules):
                    self._parse(spec, ("rules", i, "when"), rule.when)
            elif isinstance(s, ObjectDecision) and s.when is not None:
                self._parse(spec, ("when",), s.when)

    def _references(self, spec: _NodeSpec) -> set[str]:
        """The nodes a node's expressions read; `obj.field` reads that field's node only."""
        names: set[str] = set()
        for _src, tree in spec.exprs.values():
            if tree is not None:
                names |= self._tree_references(tree, frozenset())
        if isinstance(spec.spec, ObjectDecision):
            names |= {f"{spec.name}.{f}" for f in spec.spec.fields}
        return {n for n in names if n in self.specs}

    def _tree_references(self, tree: ast.Expr, bound: frozenset[str]) -> set[str]:
        match tree:
            case ast.Name(id=name):
                return set() if name in bound else {name}
            case ast.Attribute(value=ast.Name(id=base), attr=attr) if base not in bound and \
                    f"{base}.{attr}" in self.specs:
                return {f"{base}.{attr}"}
            case ast.Aggregate(var=var, iterable=it, body=body, filter=cond):
                inner = bound | {var}
                found = self._tree_references(it, bound) | self._tree_references(body, inner)
                if cond is not None:
                    found |= self._tree_references(cond, inner)
                return found
        names: set[str] = set()
        for child in ast.children(tree):
            names |= self._tree_references(child, bound)
        return names

    def _order(self) -> list[str]:
        """Topological order of the nodes; a cycle is an error naming every step of it."""
        graph = {name: self._references(spec) for name, spec in self.specs.items()}
        order: list[str] = []
        state: dict[str, int] = {}
        # roots in an order the file's mappings do not set: the decisions as the record lists
        # them, then the rest by name; each node comes after what it reads
        decisions = sorted(self.doc.decisions, key=self._output_rank)
        for root in [*decisions, *sorted(set(self.specs) - set(decisions))]:
            if state.get(root):
                continue
            stack: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
            state[root] = 1
            path = [root]
            while stack:
                node, pending = stack[-1]
                if pending:
                    nxt = pending.pop()
                    if state.get(nxt) == 1:
                        cycle = [*path[path.index(nxt):], nxt]
                        spec = self.specs[nxt]
                        self.err("cycle", "definitions depend on each other in a cycle: "
                                 + " -> ".join(cycle), self.key_loc(spec.path),
                                 related=tuple((f"'{c}'", self.key_loc(self.specs[c].path))
                                               for c in cycle[:-1]),
                                 hint="break the cycle: one of them must not use the other")
                        continue
                    if not state.get(nxt):
                        state[nxt] = 1
                        path.append(nxt)
                        stack.append((nxt, sorted(graph[nxt])))
                    continue
                stack.pop()
                path.pop()
                state[node] = 2
                order.append(node)
        return order

    # -- type checking ------------------------------------------------------------------------
    def _check_node(self, spec: _NodeSpec) -> None:
        s = spec.spec
        title = localized(getattr(s, "title", None), "zh")
        cite = getattr(s, "cite", None)
        basis = getattr(s, "basis", "document")
        here = self.key_loc(spec.path)
        deps: set[str] = set()
        params: set[str] = set()
        inputs: set[str] = set()

        def typed(rel: tuple[str | int, ...], expect: t.Type | None = None) -> CheckedExpr | None:
            src, tree = spec.exprs[rel]
            if tree is None:
                return None
            scope = Scope(self, src, spec.name)
            result = scope.infer(tree)
            deps.update(scope.nodes)
            params.update(scope.params)
            inputs.update(scope.inputs)
            if expect is not None and result is not ERR and result != expect:
                hint = ""
                if expect == t.BOOL and result == t.Opt(t.BOOL):
                    hint = ("it may be unknown (null): write `x == true`, `x == false` or "
                            "`x ?? false`")
                self.expr_error(src, tree, "type", f"expected {t.describe(expect)}, but this is "
                                f"{t.describe(result)}", hint)
            return CheckedExpr(tree, result, src)

        node_type: t.Type = ERR
        node = CheckedNode(spec.name, spec.kind, ERR, here, cite, basis, title, spec.output,
                           parent=spec.parent)
        if isinstance(s, ValueDecision) or spec.kind == "definition":
            expr = typed(("expr",))
            node.expr = expr
            node_type = expr.type if expr else ERR
            declared = getattr(s, "type", None)
            if declared is not None and expr is not None and node_type is not ERR:
                want = self._declared_type(declared, (*spec.path, "type"))
                if want is not None and t.unify(want, node_type) != want:
                    self.expr_error(expr.source, expr.tree, "type",
                                    f"'{spec.name}' is declared {t.describe(want)}, but its "
                                    f"expression is {t.describe(node_type)}")
                elif want is not None:
                    node_type = want
        elif isinstance(s, FirstMatchDecision | CollectDecision):
            vocab = self._vocabulary(s.type, (*spec.path, "type"))
            rules: list[CheckedRule] = []
            for i, rule in enumerate(s.rules):
                rpath = (*spec.path, "rules", i)
                when = typed(("rules", i, "when"), t.BOOL)
                labels = self._rule_labels(rule, s, vocab, rpath)
                if rule.id in self.rule_ids:
                    self.err("duplicate-rule-id", f"rule id '{rule.id}' is used twice",
                             self.loc((*rpath, "id")),
                             related=(("first used", self.rule_ids[rule.id]),))
                self.rule_ids[rule.id] = self.loc((*rpath, "id"))
                if when is not None:
                    rules.append(CheckedRule(rule.id, spec.name, i, when,
                                             labels[0] if labels else None, tuple(labels),
                                             rule.cite, rule.basis,
                                             localized(rule.title, "zh"), self.loc(rpath)))
            node.rules = tuple(rules)
            if isinstance(s, FirstMatchDecision):
                if s.otherwise is not None and vocab is not None and \
                        s.otherwise not in vocab.type.values:
                    self._unknown_label(s.otherwise, vocab, (*spec.path, "otherwise"))
                node.otherwise = s.otherwise
                node_type = t.Opt(vocab.type) if vocab and s.otherwise is None else (
                    vocab.type if vocab else ERR)
            else:
                node_type = t.LabelSet(vocab.type) if vocab else ERR
        elif isinstance(s, ObjectDecision):
            if s.when is not None:
                node.when = typed(("when",), t.BOOL)
            fields = {f: self.nodes[f"{spec.name}.{f}"].type if f"{spec.name}.{f}" in
                      self.nodes else ERR for f in self._field_order(spec)}
            record = t.Record(spec.name, fields)
            node.fields = tuple(f"{spec.name}.{f}" for f in fields)
            deps.update(node.fields)
            node_type = t.Opt(record) if s.when is not None else record
        node.type = node_type
        node.dependencies = frozenset(deps)
        node.parameters = frozenset(params)
        node.inputs = frozenset(inputs)
        self.used_parameters |= params
        self.used_nodes |= deps
        self.nodes[spec.name] = node

    def _declared_type(self, declared: str, path: tuple[str | int, ...]) -> t.Type | None:
        base = declared.rstrip("?")
        found: t.Type | None = t.BY_NAME.get(base)
        if found is None and base in self.vocabularies:
            found = self.vocabularies[base].type
        if found is None:
            self.err("unknown-type", f"unknown type '{declared}'", self.loc(path),
                     hint=did_you_mean(base, [*t.BY_NAME, *self.vocabularies]))
            return None
        return t.Opt(found) if declared.endswith("?") else found

    def _vocabulary(self, name: str, path: tuple[str | int, ...]) -> Vocabulary | None:
        vocab = self.vocabularies.get(name)
        if vocab is None:
            self.err("unknown-vocabulary", f"unknown vocabulary '{name}'", self.loc(path),
                     length=len(name), hint=did_you_mean(name, self.vocabularies) or
                     "declare it under `vocabularies:`")
        return vocab

    def _unknown_label(self, label: str, vocab: Vocabulary, path: tuple[str | int, ...]) -> None:
        self.err("unknown-label", f"'{label}' is not a label of vocabulary '{vocab.name}'",
                 self.loc(path), length=len(label),
                 hint=did_you_mean(label, vocab.type.values) or
                 f"add it under `vocabularies: {vocab.name}:`")

    def _rule_labels(self, rule: Any, spec: FirstMatchDecision | CollectDecision,
                     vocab: Vocabulary | None, rpath: tuple[str | int, ...]) -> list[str]:
        if isinstance(spec, FirstMatchDecision):
            if rule.add is not None:
                self.err("misplaced-key", "`add:` belongs to collect decisions",
                         self.key_loc((*rpath, "add")), hint="a first_match rule uses `then:`")
            if rule.then is None:
                self.err("missing-key", "a first_match rule needs `then:`", self.loc(rpath))
                return []
            labels = [rule.then]
            lpath: list[tuple[str | int, ...]] = [(*rpath, "then")]
        else:
            if rule.then is not None:
                self.err("misplaced-key", "`then:` belongs to first_match decisions",
                         self.key_loc((*rpath, "then")), hint="a collect rule uses `add:`")
            if rule.add is None:
                self.err("missing-key", "a collect rule needs `add:`", self.loc(rpath))
                return []
            labels = [rule.add] if isinstance(rule.add, str) else list(rule.add)
            if not labels:
                self.err("empty-add", "a collect rule must add at least one label",
                         self.loc((*rpath, "add")),
                         hint="name the label(s) the rule adds, or remove the rule")
                return []
            lpath = [(*rpath, "add")] if isinstance(rule.add, str) else [
                (*rpath, "add", i) for i in range(len(labels))]
        if vocab is not None:
            for label, path in zip(labels, lpath, strict=True):
                if label not in vocab.type.values:
                    self._unknown_label(label, vocab, path)
        return labels

    def _unused(self) -> None:
        for name, param in self.parameters.items():
            if name not in self.used_parameters:
                self.warn("unused-parameter", f"parameter '{name}' is never used",
                          param.location, length=len(name),
                          hint="use it in an expression, or remove it")
        for name, spec in self.specs.items():
            if spec.kind == "definition" and name not in self.used_nodes:
                self.warn("unused-definition", f"definition '{name}' is never used",
                          self.key_loc(spec.path), length=len(name))

    def _citations(self) -> None:
        articles = set(self.doc.articles)
        if not articles:
            return
        import re
        for name, param in self.parameters.items():
            self._cite_known(param.cite, articles, ("parameters", name, "cite"), re)
        for spec in self.specs.values():
            cite = getattr(spec.spec, "cite", None)
            if cite:
                self._cite_known(cite, articles, (*spec.path, "cite"), re)
            for i, rule in enumerate(getattr(spec.spec, "rules", []) or []):
                self._cite_known(rule.cite, articles, (*spec.path, "rules", i, "cite"), re)
        for name, rule in self.doc.warnings.items():
            self._cite_known(rule.cite, articles, ("warnings", name, "cite"), re)
        for name, regional in self.doc.regional_warnings.items():
            self._cite_known(regional.cite, articles, ("regional_warnings", name, "cite"), re)

    def _cite_known(self, cite: str, articles: set[str], path: tuple[str | int, ...],
                    re: Any) -> None:
        for ref in re.findall(r"§\d+", cite):
            if ref not in articles:
                self.err("unknown-article", f"citation {ref} names no article of this policy",
                         self.loc(path), hint=did_you_mean(ref, articles) or
                         "add it under `articles:`")
