"""Every limit of `fangpin_rules.limits` is refused with a positioned error, and an empty
`add:` too; and `safe_text` shows what a terminal would obey as an escape."""

from __future__ import annotations

import importlib
import re
import textwrap
from pathlib import Path

import pytest

from fangpin_rules import limits
from fangpin_rules.cli.main import main
from fangpin_rules.text import safe_block, safe_text

HEAD = "policy: {id: limits, title: limits, effective: 2021-01-01}\n"


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["check", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _positioned(output: str, code: str) -> re.Match[str] | None:
    return re.search(rf"policy\.yaml:\d+:\d+: error\[{re.escape(code)}\]", output)


def test_a_policy_file_over_the_size_limit(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + "# " + "x" * limits.MAX_POLICY_FILE_BYTES + "\n"
    code, output = _check(tmp_path, text, capsys)
    assert code == 2 and _positioned(output, "file-too-large"), output
    assert f"{limits.MAX_POLICY_FILE_BYTES:,}" in output


def test_yaml_nested_over_the_depth_limit(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    nested = "[" * (limits.MAX_YAML_DEPTH + 2) + "]" * (limits.MAX_YAML_DEPTH + 2)
    code, output = _check(tmp_path, HEAD + f"articles: {nested}\n", capsys)
    assert code == 2 and _positioned(output, "yaml-depth"), output


def _decision(expr: str) -> str:
    return HEAD + f"decisions:\n  d: {{expr: '{expr}', cite: §1}}\n"


def test_an_expression_over_the_length_limit(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    expr = " + ".join(["1"] * (limits.MAX_EXPRESSION_LENGTH // 4 + 1))
    code, output = _check(tmp_path, _decision(expr), capsys)
    assert code == 2 and _positioned(output, "syntax"), output
    assert f"longer than {limits.MAX_EXPRESSION_LENGTH}" in output


def test_an_expression_over_the_depth_limit(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    depth = limits.MAX_EXPRESSION_DEPTH + 1
    code, output = _check(tmp_path, _decision("(" * depth + "1" + ")" * depth), capsys)
    assert code == 2 and _positioned(output, "syntax"), output
    assert f"deeper than {limits.MAX_EXPRESSION_DEPTH}" in output


def test_a_name_over_the_length_limit(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    name = "d" * (limits.MAX_NAME_LENGTH + 1)
    text = HEAD + f"decisions:\n  {name}: {{expr: '1', cite: §1}}\n"
    code, output = _check(tmp_path, text, capsys)
    assert code == 2 and _positioned(output, "bad-name"), output
    assert f"at most {limits.MAX_NAME_LENGTH} characters" in output


def _collect(rules: list[str]) -> str:
    return HEAD + textwrap.dedent("""\
        vocabularies:
          flag: {a: {zh: 甲, en: a}}
        decisions:
          flags:
            kind: collect
            type: flag
            cite: §1
            rules:
        """) + "".join(f"      - {rule}\n" for rule in rules)


def test_more_rules_than_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # the module, not the package's `check` function of the same name
    monkeypatch.setattr(importlib.import_module("fangpin_rules.checker.check"), "MAX_RULES", 3)
    rules = [f"{{id: r{n}, when: net_income > {n}, add: a, cite: §1}}" for n in range(5)]
    code, output = _check(tmp_path, _collect(rules), capsys)
    assert code == 2
    assert re.search(r"policy\.yaml:13:9: error\[too-many-rules\]: the policy has more than "
                     r"3 rules", output), output  # at the first rule over the limit


def test_a_collect_rule_that_adds_nothing(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(tmp_path, _collect(["{id: r, when: net_income > 0, add: [], "
                                              "cite: §1}"]), capsys)
    assert code == 2 and _positioned(output, "empty-add"), output
    assert "Traceback" not in output


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2J", "\\x1b[2J"),
    ("a\rb", "a\\rb"),
    ("a\nb\tc", "a\\nb\\tc"),
    ("\x00\x07\x7f\x9b", "\\x00\\x07\\x7f\\x9b"),
    ("\u202eabc\u2066", "\\u202eabc\\u2066"),
    ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
    ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
    ("防止返贫 §2 7152.00 元", "防止返贫 §2 7152.00 元"),
])
def test_safe_text_escapes_what_a_terminal_would_obey(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_safe_block_keeps_its_own_lines_only() -> None:
    assert safe_block("a\tb\nc\x1b[Kd\r\n") == "a\tb\nc\\x1b[Kd\\r\n"
