"""Hostile text in every name and text position of the province's policy.

Each hostile string is put into every position at once. A name position must be refused with a
positioned `bad-name` error (exit 2), one per position; a text position must compile cleanly,
to code that passes the allow-list check and carries no policy text in a comment, and every
human-readable output of it must show control characters as escapes. Never execution (the
payloads would create a canary file), never a traceback.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.compiler.safety import check_generated, data_attributes
from fangpin_rules.language import types as t
from fangpin_rules.model import Case

from support import FUJIAN, ROOT

CANARY = "CANARY_FILE"


def payloads(canary: Path) -> list[str]:
    run = f"__import__('os').system('touch {canary}')"
    return [
        f"x\n{run}\n#",  # ends a comment, runs the next line
        f"x\r{run}",  # a lone CR ends a line for Python's tokenizer
        f"x\u2028{run}",  # a Unicode line separator
        "\x1b[2J\x1b[H",  # clears a terminal
        f"'\"\"\"{run}\"\"\"'",  # quotes of every kind
        "back\\slash\\n\\",
        "\x00nul",
        "\u202eevil",  # right-to-left override
        "\x9b31m",  # a C1 control sequence introducer
        run,
    ]


# Strings that are not names although they look like one.
NOT_NAMES = ["ﬁeld", "lambda", "None", "True", "match", "_private", "e\u0301t\u00e9",
             "名\u200b字", "a-b", "x" * 200]

_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_COLOUR = re.compile("\x1b\\[[0-9;]*m")
_OWN_COMMENT = re.compile(r"#( node \d+| fused loop \d+: one walk over a list of the record"
                          r"| procedure)")


def _province() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(FUJIAN.read_text(encoding="utf-8"))
    return loaded


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    items = list(mapping.items())
    mapping.clear()
    mapping.update((new if key == old else key, value) for key, value in items)


def _with_hostile_names(name: str, decision: str | None = None) -> tuple[dict[str, Any], int]:
    """The province's policy with `name` as every kind of declared name (one of each kind),
    and `decision` as a decision's (a definition and a decision cannot share one name); and
    how many positions there are."""
    doc = _province()
    positions = [
        (doc["definitions"], "size"),
        (doc["decisions"]["cadre"]["fields"], "rank"),
        (doc["parameters"], "monitoring_line"),
        (doc["vocabularies"], "risk"),
        (doc["vocabularies"]["category"], "unstable"),
        (doc["procedure"], "summary"),
        (doc["duties"], "routine_screening"),
    ]
    for mapping, old in positions:
        _rename(mapping, old, name)
    if decision is not None:
        _rename(doc["decisions"], "category", decision)
    return doc, len(positions) + (decision is not None)


def _with_hostile_texts(text: str) -> dict[str, Any]:
    """The province's policy with `text` in every title, label, article and a string."""
    doc = _province()
    doc["policy"]["title"] = text
    for article in doc["articles"].values():
        article["text"] = text
    for vocabulary in doc["vocabularies"].values():
        for entry in vocabulary.values():
            entry["zh"] = entry["en"] = text
    for section in ("parameters", "definitions", "decisions", "procedure", "duties"):
        for spec in doc[section].values():
            spec["title"] = {"zh": text, "en": text}
            for rule in spec.get("rules", []):  # rule ids have a pattern of their own
                rule["title"] = text
    if not any(ch in text for ch in "'\\\n"):  # a string literal of the language holds it
        doc["decisions"]["hostile_literal"] = {"expr": f"'{text}'", "cite": "§1"}
    return doc


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("index", range(len(payloads(Path("x")))))
def test_a_hostile_name_is_refused_at_every_position(
        index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    canary = tmp_path / CANARY
    hostile = payloads(canary)[index]
    doc, positions = _with_hostile_names(hostile, decision="y" + hostile)
    path = _write(tmp_path / "hostile.yaml", doc)
    code, output = _run(["check", str(path)], capsys)
    assert code == 2
    refused = re.findall(rf"^{re.escape(str(path))}:\d+:\d+: error\[bad-name\]", output,
                         flags=re.MULTILINE)
    assert len(refused) == positions, output
    assert not canary.exists()
    assert _RAW_CONTROL.search(output) is None


@pytest.mark.parametrize("name", NOT_NAMES)
def test_what_python_would_read_otherwise_is_no_name(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc, positions = _with_hostile_names(name)
    code, output = _run(["check", str(_write(tmp_path / "p.yaml", doc))], capsys)
    assert code == 2
    assert output.count("error[bad-name]") == positions, output


@pytest.mark.parametrize("index", range(len(payloads(Path("x")))))
def test_hostile_text_compiles_to_checked_code_and_prints_escaped(
        index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    canary = tmp_path / CANARY
    text = payloads(canary)[index]
    path = _write(tmp_path / "hostile.yaml", _with_hostile_texts(text))
    code, output = _run(["check", str(path)], capsys)
    assert code == 0, output

    policy = load_policy(path)
    fields = data_attributes([t.record_type(policy.checked.record_model),
                              t.record_type(Case)])
    for source in (policy.compiled.source, policy.compiled.traced_source):
        check_generated(source, fields)
        comments = [line.strip() for line in source.splitlines() if line.strip()[:1] == "#"]
        assert all(_OWN_COMMENT.fullmatch(comment) for comment in comments)

    if _RAW_CONTROL.search(text) is None:  # printable: nothing a terminal would obey
        assert not canary.exists()
        return
    household = ROOT / "examples" / "350181-0001.json"
    outputs = [
        _run(["explain", str(path), str(household), "--as-of", "2021-09-01"], capsys),
        _run(["show", str(path)], capsys),
        _run(["duties", "--as-of", "2021-10-08", "--policy", str(path)], capsys),
        _run(["diff", str(FUJIAN), str(path), "--color", "never"], capsys),
        _run(["diff", str(FUJIAN), str(path), "--color", "always"], capsys),
        _run(["diff", str(FUJIAN), str(path), "--format", "markdown"], capsys),
    ]
    for exit_code, shown in outputs:
        assert exit_code in (0, 1), shown
        assert _RAW_CONTROL.search(_COLOUR.sub("", shown)) is None, shown
    assert not canary.exists()


def test_the_payloads_would_run_if_they_were_code(tmp_path: Path) -> None:
    """The canary is live: executed, the payload does create the file."""
    canary = tmp_path / CANARY
    exec(compile(payloads(canary)[-1], "<payload>", "exec"), {})
    assert canary.exists()


def test_a_record_field_with_a_hostile_name_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    canary = tmp_path / CANARY
    hostile = [*payloads(canary)[:3], "lambda", "None", "ﬁeld"]
    doc = {"policy": {"id": "schema", "title": "schema", "effective": "2021-01-01"},
           "schema": {"name": "visit", "id": "visit_id", "fields": {
               "visit_id": "string",
               **{name: "count" for name in hostile},
               "people": {"list": {hostile[0] + "x": "count", "age": "count"}}}},
           "decisions": {"several": {"expr": "count(people) > 1", "cite": "§1"}}}
    code, output = _run(["check", str(_write(tmp_path / "p.yaml", copy.deepcopy(doc)))],
                        capsys)
    assert code == 2
    assert output.count("error[bad-name]") == len(hostile) + 1, output
    assert not canary.exists()


def test_hostile_record_text_and_file_names_print_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "record.json"
    record.write_text('{"household_id": "a\\u001b[2J", "bogus": "\\u001b[31m"}',
                      encoding="utf-8")
    missing = tmp_path / "no\x1b[2Jfile.json"
    for path in (record, missing):
        code, output = _run(["explain", str(FUJIAN), str(path), "--as-of", "2021-09-01"],
                            capsys)
        assert code in (1, 2) and "\\x1b[2J" in output
        assert _RAW_CONTROL.search(output) is None, output
