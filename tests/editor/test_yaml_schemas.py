"""The YAML files' JSON Schemas (for editors): the shipped files equal what the models give,
every YAML file of the repository passes its schema, and a misspelt key fails it as it fails
the engine. The validation needs `jsonschema` (in the dev extra: `make test` installs it)."""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from fangpin_rules.cli.main import main
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.policy import read_document
from fangpin_rules.schemas import SCHEMA_DIR, YAML_SCHEMAS, file_name, render, yaml_schema
from fangpin_rules.testing.format import read_test_file

from support import ROOT

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)
POLICY_FILES = sorted((ROOT / "policies").rglob("*.yaml"))
OTHER_FILES = sorted(p for p in (ROOT / "tests").rglob("*.yaml") if "bad" not in p.parts)


def _json_like(value: Any) -> Any:
    """A YAML value as an editor's language server sees it: dates are text, keys are text."""
    if isinstance(value, dict):
        return {str(k): _json_like(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_like(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _load(path: Path) -> Any:
    return _json_like(yaml.safe_load(path.read_text(encoding="utf-8")))


def _kind(data: dict[str, Any]) -> str:
    if "cases" in data:
        return "test"
    if "regions" in data:
        return "regions"
    return "policy-extension" if "extends" in data else "policy"


def _errors(data: Any, name: str) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema: the dev extra")
    schema = yaml_schema(name)
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(data)]


def _all_messages(data: Any, name: str) -> str:
    """Every error message, those of the branches of an anyOf included."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema: the dev extra")
    schema = yaml_schema(name)
    validator = jsonschema.validators.validator_for(schema)(schema)

    def walk(errors: Any) -> list[str]:
        out = []
        for error in errors:
            out.append(error.message)
            out += walk(error.context or [])
        return out

    return "\n".join(walk(validator.iter_errors(data)))


@pytest.mark.parametrize("name", list(YAML_SCHEMAS))
def test_the_shipped_schema_files_are_what_the_models_give(name: str) -> None:
    shipped = (SCHEMA_DIR / file_name(name)).read_text(encoding="utf-8")
    assert shipped == render(yaml_schema(name)), (
        f"{file_name(name)} is stale: run `fangpin schema --write src/fangpin_rules/schemas`")


def test_the_schemas_are_draft_07_with_no_dangling_reference() -> None:
    for name in YAML_SCHEMAS:
        schema = yaml_schema(name)
        text = json.dumps(schema)
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert "$defs" not in text and '"oneOf"' not in text
        for ref in re.findall(r'"\$ref": "#/definitions/([^"]+)"', text):
            assert ref in schema["definitions"], (name, ref)


@pytest.mark.parametrize("path", POLICY_FILES, ids=[str(p.relative_to(ROOT)) for p in POLICY_FILES])
def test_every_policies_file_has_a_modeline_to_its_schema(path: Path) -> None:
    found = MODELINE.findall(path.read_text(encoding="utf-8"))
    schema = SCHEMA_DIR / file_name(_kind(_load(path)))
    wanted = f"# yaml-language-server: $schema={os.path.relpath(schema, path.parent)}"
    assert len(found) == 1, f"add this first line (docs/county-guide.md): {wanted}"
    target = (path.parent / found[0]).resolve()
    assert target.parent == SCHEMA_DIR.resolve() and target.is_file(), found[0]
    assert target.name == file_name(_kind(_load(path)))


@pytest.mark.parametrize("path", POLICY_FILES + OTHER_FILES,
                         ids=[str(p.relative_to(ROOT)) for p in POLICY_FILES + OTHER_FILES])
def test_every_yaml_file_of_the_repository_passes_its_schema(path: Path) -> None:
    data = _load(path)
    assert _errors(data, _kind(data)) == []


MISSPELT = [
    # (file, path to a mapping, the right key, the misspelling)
    ("policies/fujian_2021.yaml", ("policy",), "effective", "efective"),
    ("policies/fujian_2021.yaml", ("parameters", "monitoring_line"), "values", "valeus"),
    ("policies/fujian_2021.yaml", ("decisions", "category"), "rules", "ruels"),
    ("policies/counties/minhou_350121.yaml", ("parameters", "dibao_standard"), "values",
     "vaules"),
    ("policies/counties/minhou_350121.yaml", (), "extends", "extend"),
    ("policies/tests/fujian_2021/s02_monitoring_line.yaml", ("cases", 0), "expect", "expcet"),
    ("policies/regions/fujian_example_regions.yaml", ("region_table",), "title", "titel"),
    ("policies/regions/fujian_example_regions.yaml", ("regions", "350121", "dibao_standard", 0),
     "value", "vaule"),
]


def _rename(data: Any, where: tuple[Any, ...], old: str, new: str) -> Any:
    changed = copy.deepcopy(data)
    node = changed
    for step in where:
        node = node[step]
    node[new] = node.pop(old)
    return changed


@pytest.mark.parametrize(("file", "where", "key", "typo"), MISSPELT,
                         ids=[f"{f.rsplit('/', 1)[-1]}:{t}" for f, _, _, t in MISSPELT])
def test_a_misspelt_key_fails_the_schema(file: str, where: tuple[Any, ...], key: str,
                                         typo: str) -> None:
    data = _load(ROOT / file)
    name = _kind(data)
    assert _errors(data, name) == []
    assert _errors(_rename(data, where, key, typo), name) != []
    assert typo in _all_messages(_rename(data, where, key, typo), name)


def test_the_engine_refuses_the_misspellings_the_schema_refuses(tmp_path: Path) -> None:
    """One source of truth: what the schema flags, reading the file refuses too."""
    for file, where, key, typo in MISSPELT:
        source = ROOT / file
        data = _rename(_load(source), where, key, typo)
        folder = tmp_path / "policies" / source.relative_to(ROOT / "policies").parent
        folder.mkdir(parents=True, exist_ok=True)
        (tmp_path / "policies" / "fujian_2021.yaml").write_text(  # the base, as it is
            (ROOT / "policies" / "fujian_2021.yaml").read_text(encoding="utf-8"), "utf-8")
        copy_of = folder / source.name
        copy_of.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        with pytest.raises(PolicyError) as caught:
            if "cases" in data:
                read_test_file(copy_of)
            elif "regions" in data:
                from fangpin_rules import load_policy
                from fangpin_rules.engine.regions import load_regions

                load_regions(load_policy(tmp_path / "policies" / "fujian_2021.yaml"), copy_of)
            else:
                read_document(copy_of)
            pytest.fail(f"{file}: '{typo}' was accepted")
        codes = {d.code for d in caught.value.diagnostics}
        assert codes & {"unknown-key", "invalid-value", "parameter-override",
                        "unknown-name"}, (file, typo, codes)


def test_a_county_override_passes_the_extension_schema_only() -> None:
    county = _load(ROOT / "policies" / "counties" / "minhou_350121.yaml")
    assert _errors(county, "policy-extension") == []
    problems = "\n".join(_errors(county, "policy"))
    assert "extends" in problems  # the province's schema has no `extends:`
    assert "'decisions' is a required property" in problems
    without_extends = {k: v for k, v in county.items() if k != "extends"}
    assert "'extends' is a required property" in "\n".join(
        _errors(without_extends, "policy-extension"))


def test_a_rule_added_by_a_county_may_say_where_it_goes() -> None:
    rule = {"id": "elimination.local", "when": "true", "then": "eligible", "cite": "§9",
            "before": "elimination.income_not_stable"}
    county = {"extends": "fujian-2021",
              "policy": {"id": "x-1", "title": "X", "effective": "2022-01-01"},
              "decisions": {"risk_elimination": {"rules": [rule]}}}
    assert _errors(county, "policy-extension") == []
    rule["behind"] = rule.pop("before")
    assert _errors(county, "policy-extension") != []


def test_a_chinese_name_is_not_flagged_by_an_ascii_pattern() -> None:
    """An editor's regex reads \\w as ASCII: the schema leaves such patterns to the engine."""
    data = _load(ROOT / "tests" / "checker" / "good" / "chinese_names.yaml")
    assert re.search(r"[\u4e00-\u9fff]", json.dumps(data, ensure_ascii=False))
    assert _errors(data, "policy") == []
    assert "\\\\w" not in json.dumps(yaml_schema("policy"))


def test_a_region_code_must_have_six_digits() -> None:
    table = _load(ROOT / "policies" / "regions" / "fujian_example_regions.yaml")
    table["regions"]["35012"] = table["regions"].pop("350121")
    assert _errors(table, "regions") != []


def test_the_cli_prints_and_writes_the_schemas(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "policy-extension"]) == 0
    assert capsys.readouterr().out == render(yaml_schema("policy-extension"))
    assert main(["schema", "--write", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(file_name(name) for name in YAML_SCHEMAS)
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    assert main(["schema", "--write", str(blocked)]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_a_test_files_households_complete_the_data_contract() -> None:
    """An editor offers the household's fields in `base:` and a case's `household:`."""
    schema = yaml_schema("test")
    household = schema["definitions"]["Household"]
    assert "net_income" in household["properties"] and "required" not in household
    refs = json.dumps([schema["properties"]["base"],
                       schema["definitions"]["TestCase"]["properties"]["household"]])
    assert refs.count("#/definitions/Household") == 2
    case = schema["definitions"]["TestCase"]["properties"]["case"]
    assert {"$ref": "#/definitions/Case"} in case["anyOf"] and {"type": "null"} in case["anyOf"]
    # a policy with its own `schema:` reads another record: such households still pass
    data = _load(ROOT / "policies" / "tests" / "fujian_2021" / "s02_monitoring_line.yaml")
    data["base"]["plot_area"] = 3
    assert _errors(data, "test") == []


# -- ledger formats (the spreadsheet layouts of ledger/format.py) ---------------------------
LEDGER_FORMATS = sorted(p for folder in ("src", "examples", "tests") for p in
                        (ROOT / folder).rglob("*.yaml")
                        if "bad" not in p.parts and "ledger_format" in (_load(p) or {}))


def test_the_repository_has_its_ledger_formats() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in LEDGER_FORMATS}
    assert {"src/fangpin_rules/ledger/formats/national.yaml",
            "examples/ledger/county_format.yaml"} <= names


@pytest.mark.parametrize("path", LEDGER_FORMATS,
                         ids=[str(p.relative_to(ROOT)) for p in LEDGER_FORMATS])
def test_every_ledger_format_has_its_modeline_and_passes_its_schema(path: Path) -> None:
    from fangpin_rules.ledger.format import load_format

    schema = SCHEMA_DIR / file_name("ledger-format")
    wanted = f"# yaml-language-server: $schema={os.path.relpath(schema, path.parent)}"
    assert MODELINE.findall(path.read_text(encoding="utf-8")) == [
        os.path.relpath(schema, path.parent)], f"add this first line: {wanted}"
    assert _errors(_load(path), "ledger-format") == []
    load_format(path)  # and the reader takes it


LEDGER_MISSPELT = [
    # (file, path to a mapping, the right key, the misspelling)
    ("src/fangpin_rules/ledger/formats/national.yaml", (), "header_search_rows",
     "header_serach_rows"),
    ("src/fangpin_rules/ledger/formats/national.yaml", ("columns", "net_income"), "required",
     "requried"),
    ("src/fangpin_rules/ledger/formats/national.yaml", ("head",), "value", "vaule"),
    ("examples/ledger/county_format.yaml", (), "ignore", "ingore"),
    ("examples/ledger/county_format.yaml", ("columns", "region_code"), "labels", "lables"),
]


@pytest.mark.parametrize(("file", "where", "key", "typo"), LEDGER_MISSPELT,
                         ids=[f"{f.rsplit('/', 1)[-1]}:{t}" for f, _, _, t in LEDGER_MISSPELT])
def test_a_misspelt_ledger_format_key_fails_the_schema_and_the_reader(
        file: str, where: tuple[Any, ...], key: str, typo: str, tmp_path: Path) -> None:
    from fangpin_rules.ledger.format import load_format

    data = _rename(_load(ROOT / file), where, key, typo)
    assert typo in _all_messages(data, "ledger-format")
    copy_of = tmp_path / "format.yaml"
    copy_of.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_format(copy_of)
    assert "unknown-key" in {d.code for d in caught.value.diagnostics}


def test_a_county_ledger_format_needs_only_extends() -> None:
    county = {"extends": "national", "sheet": "台帐"}
    assert _errors(county, "ledger-format") == []
    problems = "\n".join(_errors({"sheet": "台帐"}, "ledger-format"))
    for key in ("ledger_format", "head", "date_forms", "columns"):  # without a base: all
        assert f"'{key}' is a required property" in problems
    national = _load(ROOT / "src" / "fangpin_rules" / "ledger" / "formats" / "national.yaml")
    national["columns"]["Net Income"] = national["columns"].pop("net_income")
    assert _errors(national, "ledger-format") != []  # a column is named by a field path
    national["columns"]["net_income"] = national["columns"].pop("Net Income")
    national["columns"]["net_income"]["kind"] = "yuan"
    assert "'yuan' is not one of" in _all_messages(national, "ledger-format")


def test_every_ledger_format_key_says_what_it_is_for() -> None:
    """An editor shows a key's description on hover: every top-level key has one."""
    properties = yaml_schema("ledger-format")["properties"]
    assert set(properties) > {"extends", "columns", "labels"}
    assert [key for key, spec in properties.items() if not spec.get("description")] == []
