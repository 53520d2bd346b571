"""A policy file cannot make the engine run Python, import modules, read files or loop forever."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fangpin_rules import PolicyError, load_policy

HEADER = textwrap.dedent("""\
    policy:
      id: hostile
      title: hostile
      effective: 2021-01-01
    """)


def _load(tmp_path: Path, body: str) -> PolicyError:
    path = tmp_path / "hostile.yaml"
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return info.value


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!custom 1",
])
def test_yaml_tags_are_refused_without_running_anything(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "ran"
    error = _load(tmp_path, f"decisions:\n  x: {tag.format(marker=marker)}\n")
    assert error.diagnostics[0].code == "yaml-tag"
    assert not marker.exists()


@pytest.mark.parametrize("expr", [
    '__import__("os").system("true")',
    "members.__class__.__bases__",
    'open("/etc/passwd")',
    'exec("1")',
    "globals()",
    "r.__dict__",
    "_private",
])
def test_python_names_are_unknown(tmp_path: Path, expr: str) -> None:
    error = _load(tmp_path, f"decisions:\n  x:\n    expr: '{expr}'\n")
    assert error.diagnostics[0].code in ("unknown-name", "unknown-function", "syntax")


def test_huge_exponent_is_not_an_operator(tmp_path: Path) -> None:
    error = _load(tmp_path, "decisions:\n  x:\n    expr: 10 ** 100000000 > net_income\n")
    assert error.diagnostics[0].code == "syntax"


def test_huge_literal_is_refused(tmp_path: Path) -> None:
    error = _load(tmp_path, "decisions:\n  x:\n    expr: net_income > " + "9" * 40 + "\n")
    assert error.diagnostics[0].code == "syntax"


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    deep = "(" * 200 + "net_income" + ")" * 200
    error = _load(tmp_path, f"decisions:\n  x:\n    expr: {deep} > 0\n")
    assert "deeper" in error.diagnostics[0].message


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.diagnostics[0].code == "yaml-alias"


def test_recursion_is_impossible_definitions_cannot_call_themselves(tmp_path: Path) -> None:
    error = _load(tmp_path, "definitions:\n  a:\n    expr: a + 1\n"
                            "decisions:\n  x:\n    expr: a > 0\n")
    assert error.diagnostics[0].code == "cycle"


def test_generated_code_has_no_builtins_beyond_the_few_it_needs(tmp_path: Path) -> None:
    from fangpin_rules.compiler import codegen

    assert set(codegen._ALLOWED_BUILTINS) <= {"len", "any", "all", "sum", "min", "max",
                                              "isinstance"}
    policy = load_policy(Path(__file__).parents[2] / "policies" / "fujian_2021.yaml")
    for forbidden in ("import", "open(", "exec(", "eval(", "__"):
        body = policy.compiled.source.split("def evaluate", 1)[1]
        assert forbidden not in body
