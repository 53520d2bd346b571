"""The fuzz campaign (docs/security.md): hostile records, policy files, county files, region
tables and policy test files given to the command line as a careless user or an attacker would.

Whatever comes in, every run: returns an exit code in the verb's documented set, with no
traceback and no hang; reads no file outside its own folder, the policies it was pointed at and
Python's own files, and writes none outside its folder; reports counts that add up (read =
decided + rejected, every line of the input read); and `--jobs 2` writes the same bytes as
`--jobs 1`. A policy that would run code creates a canary file: it must never exist.

Lean by default (the suite stays fast); `FANGPIN_FUZZ_EXAMPLES=N` runs a longer campaign and
`FANGPIN_FUZZ_REPORT=FILE` writes its figures (benchmarks/fuzz_campaign.py does both).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_support import CAMPAIGN, EXAMPLES, ROOT, Outcome, guarded_run, lines_of

POLICIES = ROOT / "policies"
FUJIAN = POLICIES / "fujian_2021.yaml"
EXAMPLE_LINES = [json.loads(line) for line in
                 (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
CANARY = "FANGPIN_FUZZ_CANARY"

# Exit codes each verb documents (README "Use", docs/security.md "How runs end").
EVAL_CODES = {0, 1}
CHECK_CODES = {0, 2}
TEST_CODES = {0, 1, 2}


def fuzz_settings(default: int) -> settings:
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=EXAMPLES is None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                    database=None)


def expect(kind: str, outcome: Outcome, codes: set[int]) -> None:
    problem = outcome.problem(codes)
    CAMPAIGN.record(kind, problem)
    assert problem is None, f"{kind}: {problem}\nstderr: {outcome.stderr[-2000:]}"


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Any:
    yield
    CAMPAIGN.write()


# ---------------------------------------------------------------------------------------------
# Hostile values: what a JSON value, a name or a text may be replaced by.

HOSTILE_TEXT = [
    "", " ", "a\nb", "a\rb", "\r", "a\u2028b", "\u2029", "\x1b[2J\x1b[31mred", "\x00", "\x07",
    "\u202etxt.exe", "\ufeff", "\ud800", "ﬁeld", "Ⅸ", "lambda", "None", "True", "__class__",
    "__import__('os').system('touch " + CANARY + "')", "'''", '"""', "\\", "{x}", "%s%n",
    "a" * 5000, "户主\t张三", "１２３", "x" * 300 + ".yaml", "../" * 12 + "etc/passwd",
    "/etc/passwd", "/proc/self/environ", "${HOME}", "$(touch " + CANARY + ")",
]
RAW_NUMBERS = [
    "1e-400", "1e-999999", "1e999999", "-0", "0.000000000000000000000000000001",
    "7151.9999999999999999999999999", "123456789012345678901234567890123456789",
    "1E+308", "-1", "0.1e1", "NaN", "Infinity", "1_000", "0x10", "01", "1.", ".5",
]
SCALARS: list[Any] = [None, True, False, 0, 1, -1, 2, 7152, 10**40, 0.5, 1e308, [], {}, [None],
                      {"a": 1}, "2021-02-30", "2021-13-01", "0001-01-01", "9999-12-31",
                      "20210901", "2021/09/01", "1_000", "7152", "true", "monitored"]

hostile_value = st.one_of(st.sampled_from(SCALARS), st.sampled_from(HOSTILE_TEXT),
                          st.integers(), st.text(max_size=30),
                          st.recursive(st.none() | st.booleans() | st.integers() | st.text(
                              max_size=5), lambda c: st.lists(c, max_size=3)
                              | st.dictionaries(st.text(max_size=5), c, max_size=3),
                              max_leaves=6))


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*prefix, index))
    return found


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        tree = tree[step]
    tree[path[-1]] = value


def _delete(tree: Any, path: tuple[Any, ...]) -> None:
    for step in path[:-1]:
        tree = tree[step]
    del tree[path[-1]]


@st.composite
def mutated_tree(draw: st.DrawFn, base: Any, values: st.SearchStrategy[Any],
                 names: st.SearchStrategy[str]) -> Any:
    """`base` with one to three places changed: a value replaced, a key removed, a key renamed
    or an unknown key added, anywhere in the tree."""
    tree = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(tree)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "rename", "add"]))
        parent: Any = tree
        for step in path[:-1]:
            parent = parent[step]
        if action == "replace":
            _set(tree, path, draw(values))
        elif action == "delete":
            _delete(tree, path)
        elif isinstance(parent, dict):
            key = draw(names)
            if action == "rename" and path[-1] in parent:
                parent[key] = parent.pop(path[-1])
            else:
                parent[key] = draw(values)
    return tree


# ---------------------------------------------------------------------------------------------
# Records: JSON lines of mutated households, with raw-text hostilities no dict can express.

RAW_TEXT_EDITS: list[Callable[[str], str]] = [
    lambda line: line,
    lambda line: "\ufeff" + line,
    lambda line: line.replace('"members"', '"members\r"', 1),
    lambda line: line.replace(', "', ',\r "', 1),
    lambda line: line.replace('": "', '": "\u2028', 1),
    lambda line: line.replace("{", '{"household_id": "dup", ', 1),  # a duplicate key
    lambda line: line[: len(line) // 2],  # cut in half
    lambda line: line + " trailing",
    lambda line: line + "\r",  # a CRLF line end
]


@st.composite
def record_line(draw: st.DrawFn, index: int) -> str:
    base = dict(draw(st.sampled_from(EXAMPLE_LINES)))
    base["household_id"] = f"fz-{index}"
    keys = st.sampled_from(["household_id", "members", "net_income", "unknown_field",
                            "region_code", "dibao", *HOSTILE_TEXT[:12]])
    household = draw(st.one_of(st.just(base), mutated_tree(base, hostile_value, keys)))
    text = json.dumps(household, ensure_ascii=draw(st.booleans()))
    number = draw(st.sampled_from([None, *RAW_NUMBERS]))
    if number is not None:  # a number JSON can spell but Python's json would not write
        text = text.replace('"net_income": ', f'"net_income": {number}, "_x": ', 1) \
            if draw(st.booleans()) else text.replace(
                '"previous_net_income": ', f'"previous_net_income": {number}, "_y": ', 1)
    return draw(st.sampled_from(RAW_TEXT_EDITS))(text)


@st.composite
def record_file(draw: st.DrawFn) -> list[str]:
    return [draw(record_line(i)) for i in range(draw(st.integers(1, 12)))]


def _eval(folder: Path, lines: list[str], *extra: str) -> Outcome:
    records = folder / "households.jsonl"
    records.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    return guarded_run(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01",
                        "-o", "decisions.jsonl", "--rejects", "rejects.jsonl", *extra], folder)


@fuzz_settings(15)
@given(record_file())
def test_hostile_records_are_decided_or_rejected_and_counted(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _eval(folder, lines, "--explain")
        expect("records", outcome, EVAL_CODES)
        counts = outcome.counts
        assert counts is not None, outcome.stderr
        read, decided, rejected = counts
        assert read == decided + rejected
        assert read == len(lines), "a line was lost or split in two"
        assert decided == len(lines_of(folder / "decisions.jsonl"))
        assert rejected == len(lines_of(folder / "rejects.jsonl"))
        size_in = sum(len(line) for line in lines)
        size_out = (folder / "decisions.jsonl").stat().st_size
        assert size_out <= 200 * size_in + 100_000, "a record blew up into a huge decision"


@fuzz_settings(3)
@given(record_file())
def test_two_workers_write_what_one_writes(lines: list[str]) -> None:
    outputs = []
    for jobs in ("1", "2"):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            outcome = _eval(folder, lines, "--jobs", jobs)
            expect("records --jobs", outcome, EVAL_CODES)
            outputs.append(((folder / "decisions.jsonl").read_bytes(),
                            (folder / "rejects.jsonl").read_bytes(), outcome.counts))
    assert outputs[0] == outputs[1]


# ---------------------------------------------------------------------------------------------
# Policy files: the province's and the counties', with hostile names, keys and texts.

PROVINCE_TREE = yaml.safe_load(FUJIAN.read_text(encoding="utf-8"))
COUNTY_FILES = sorted((POLICIES / "counties").glob("*.yaml"))

HOSTILE_EXPRESSIONS = [
    "__import__('os').system('touch " + CANARY + "')", "len.__self__.open('/etc/passwd')",
    "().__class__.__bases__[0].__subclasses__()", "(lambda: 1)()", "members.__len__()",
    "open('/etc/passwd')", "exec('x')", "eval('1')", "1 if True else 2", "net_income ** 99999",
    "(" * 500 + "1" + ")" * 500, "not " * 3000 + "true", "net_income / 0", "count(count)",
    "as_of + 99999999 days", "m.x for m in members", "1; import os",
]
hostile_name = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(min_size=1, max_size=12))
policy_value = st.one_of(hostile_value, st.sampled_from(HOSTILE_EXPRESSIONS))


def _check(folder: Path, tree: Any, *extra: str) -> Outcome:
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8",
                    errors="surrogatepass")
    return guarded_run(["check", str(path), *extra], folder)


def _no_canary(folder: Path) -> None:
    assert not (folder / CANARY).exists(), "a policy file ran code"
    assert not (Path.cwd() / CANARY).exists(), "a policy file ran code"


@fuzz_settings(15)
@given(mutated_tree(PROVINCE_TREE, policy_value, hostile_name))
def test_a_hostile_province_policy_is_checked_never_run(tree: Any) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _check(folder, tree)
        expect("policy", outcome, CHECK_CODES)
        _no_canary(folder)


@st.composite
def named_by_hostile(draw: st.DrawFn) -> Any:
    """The province's file with a definition, decision, object field or parameter renamed to a
    hostile name (its uses left as they were): names are where code generation was attacked."""
    tree = copy.deepcopy(PROVINCE_TREE)
    section = draw(st.sampled_from(["definitions", "decisions", "parameters", "procedure"]))
    names = list(tree[section])
    old = draw(st.sampled_from(names))
    new = draw(hostile_name)
    if section == "decisions" and draw(st.booleans()):
        tree[section]["cadre"]["fields"][new] = tree[section]["cadre"]["fields"].pop("pairing")
    else:
        tree[section][new] = tree[section].pop(old)
    return tree


@fuzz_settings(15)
@given(named_by_hostile())
def test_hostile_names_never_reach_generated_code(tree: Any) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _check(folder, tree)
        expect("policy names", outcome, CHECK_CODES)
        _no_canary(folder)


@st.composite
def county_file(draw: st.DrawFn) -> tuple[str, Any]:
    path = draw(st.sampled_from(COUNTY_FILES))
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    return path.name, draw(mutated_tree(tree, policy_value, hostile_name))


@fuzz_settings(12)
@given(county_file())
def test_a_hostile_county_file_is_checked_within_its_roots(named: tuple[str, Any]) -> None:
    _, tree = named
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        outcome = _check(folder, tree, "--policy-path", str(POLICIES))
        expect("county policy", outcome, CHECK_CODES)
        _no_canary(folder)


# ---------------------------------------------------------------------------------------------
# Region tables (CSV) and policy test files.

REGION_ROWS = list(csv.reader(io.StringIO(
    (POLICIES / "regions" / "fujian_example_regions.csv").read_text(encoding="utf-8"))))
region_cell = st.one_of(st.sampled_from(HOSTILE_TEXT + RAW_NUMBERS), st.text(max_size=20),
                        st.just("9" * 200_000))


@st.composite
def region_table(draw: st.DrawFn) -> str:
    rows = [list(row) for row in REGION_ROWS]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, len(rows[row]) - 1))
        rows[row][column] = draw(region_cell)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    prefix = draw(st.sampled_from(["", "\ufeff"]))
    return prefix + buffer.getvalue()


@fuzz_settings(10)
@given(region_table())
def test_a_hostile_region_table_is_refused_or_used(table: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "regions.csv").write_text(table, encoding="utf-8", errors="surrogatepass")
        lines = [json.dumps(line) for line in EXAMPLE_LINES[:4]]
        outcome = _eval(folder, lines, "--regions", "regions.csv")
        expect("region table", outcome, EVAL_CODES | {2})
        if outcome.code in EVAL_CODES:
            counts = outcome.counts
            assert counts is not None and counts[0] == counts[1] + counts[2] == len(lines)


TEST_FILES = sorted((POLICIES / "tests" / "fujian_2021").glob("*.yaml"))


@st.composite
def policy_test_file(draw: st.DrawFn) -> Any:
    tree = yaml.safe_load(draw(st.sampled_from(TEST_FILES)).read_text(encoding="utf-8"))
    tree = draw(mutated_tree(tree, hostile_value, hostile_name))
    if isinstance(tree, dict):
        tree["policy"] = str(FUJIAN)  # the test file now lives in a temporary folder
    return tree


@fuzz_settings(10)
@given(policy_test_file())
def test_a_hostile_policy_test_file_fails_cleanly(tree: Any) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "cases.yaml"
        path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        outcome = guarded_run(["test", str(path)], folder)
        expect("test file", outcome, TEST_CODES)
