"""`fangpin diff --impact --engine columnar`: the households decided by both versions (and by
attribution's variants) in columns give the record path's report, byte for byte; what the back
end cannot express is refused, never decided otherwise."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.audit import diff_policies, impact
from fangpin_rules.audit.attribution import attribute
from fangpin_rules.cli.main import main
from fangpin_rules.columnar.engine import ColumnarUnsupported
from fangpin_rules.engine.stream import numbered_items

from support import FUJIAN, ROOT, benchmark_module

REVISED = ROOT / "policies" / "examples" / "fujian_2021_revised.yaml"
QUANZHOU = ROOT / "policies" / "counties" / "quanzhou_350500.yaml"
pytestmark = pytest.mark.slow
RUNS = [(FUJIAN, REVISED, "2022-03-01", "json"), (FUJIAN, REVISED, "2022-03-01", "markdown"),
        (FUJIAN, QUANZHOU, "2022-06-30", "json")]


def _attribution_cases(name: str) -> ModuleType:
    """test_attribution.py or test_warning_attribution.py, for its constructed pair's edits
    and households."""
    spec = importlib.util.spec_from_file_location(f"cases_{name}", Path(__file__).with_name(name))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["test_attribution.py", "test_warning_attribution.py"])
def attribution_pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                     ) -> tuple[Policy, Policy, Path, ModuleType]:
    """The constructed pairs of tests/audit/: the line raised, a sharp drop from 40 %, in
    range on the line too; a warning rule changed, one added, a title changed (each moving
    households alone, in combination, or not at all)."""
    cases = _attribution_cases(request.param)
    folder = tmp_path_factory.mktemp("pair")
    text = FUJIAN.read_text(encoding="utf-8")
    for old, new in cases.EDITS:
        assert text.count(old) == 1
        text = text.replace(old, new)
    (folder / "old.yaml").write_text(FUJIAN.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "new.yaml").write_text(text, encoding="utf-8")
    return load_policy(folder / "old.yaml"), load_policy(folder / "new.yaml"), folder, cases


def households_file(tmp_path: Path) -> Path:
    """Synthetic and boundary households with every kind of bad record put in: not JSON,
    outside the contract, the same member twice, no members (a zero divisor), an id twice."""
    lines = list(benchmark_module("gen_households").generate_lines(300, 7))
    lines += list(benchmark_module("boundary_households").boundary_lines(300, 8))
    first = json.loads(lines[0])
    lines[5] = "{not json"
    lines[9] = '{"household_id": "NO-FIELDS", "members": 3}'
    lines.append(json.dumps({**first, "household_id": "TWICE",
                             "members": first["members"] + first["members"][:1]}))
    lines.append(json.dumps({**first, "household_id": "EMPTY", "members": []}))
    lines.append(lines[20])
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], tmp_path: Path, old: Path, new: Path,
         records: Path, as_of: str, engine: str, form: str) -> tuple[int, bytes, bytes, str]:
    out, changed = tmp_path / f"{engine}.{form}", tmp_path / f"{engine}-{form}.jsonl"
    code = main(["diff", str(old), str(new), "--impact", str(records), "--as-of", as_of,
                 "--format", form, "--engine", engine, "-o", str(out),
                 "--impact-out", str(changed)])
    return code, out.read_bytes(), changed.read_bytes(), capsys.readouterr().err


@pytest.mark.parametrize(("old", "new", "as_of", "form"), RUNS,
                         ids=["revised-json", "revised-markdown", "quanzhou-json"])
def test_the_report_is_the_record_paths_byte_for_byte(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: Path, new: Path, as_of: str,
        form: str) -> None:
    records = households_file(tmp_path)
    by_record = _run(capsys, tmp_path, old, new, records, as_of, "record", form)
    by_column = _run(capsys, tmp_path, old, new, records, as_of, "columnar", form)
    assert by_column == by_record
    code, report, changed, err = by_column
    assert code == 1 and "rejected 4," in err  # not JSON, no fields, a member twice, no members
    assert changed.count(b"\n") > 10
    if form == "json":
        figures = json.loads(report)["impact"]
        assert figures["read"] == 603 and figures["changed"] > 10
        assert figures["read"] == figures["compared"] + figures["rejected"]


def test_the_example_households_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = ROOT / "examples" / "households.jsonl"
    runs = [_run(capsys, tmp_path, FUJIAN, REVISED, records, "2022-03-01", engine, "json")
            for engine in ("record", "columnar")]
    assert runs[0] == runs[1] and runs[0][0] == 0


def test_the_attribution_pairs_through_the_api(
        attribution_pair: tuple[Policy, Policy, Path, ModuleType], tmp_path: Path) -> None:
    """The constructed pairs (every kind of attribution: alone, combination, none), on their
    own households and on many synthetic and boundary households."""
    old, new, _, cases = attribution_pair
    diff = diff_policies(old, new)
    records = households_file(tmp_path)
    for numbered in (False, True):
        results = []
        for engine in ("record", "columnar"):
            with records.open(encoding="utf-8") as source:
                households = numbered_items(source) if numbered else cases._records()
                report, attribution = attribute(old, new, diff, households, "2021-09-01",
                                                numbered=numbered, engine=engine)
            results.append((report.to_json(), attribution.to_json(),
                            attribution.variants_built))
        assert results[0] == results[1]
        by_how = results[0][1]["by_how"]
        assert by_how["alone"] > 0 and (numbered or by_how["combination"] > 0)


def test_the_attribution_pairs_through_the_cli(
        attribution_pair: tuple[Policy, Policy, Path, ModuleType], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, _, folder, _ = attribution_pair
    records = households_file(tmp_path)
    for form in ("json", "markdown"):
        runs = [_run(capsys, tmp_path, folder / "old.yaml", folder / "new.yaml", records,
                     "2021-09-01", engine, form) for engine in ("record", "columnar")]
        assert runs[0] == runs[1]


def test_a_version_it_cannot_express_is_refused_with_its_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    line = "expr: per_capita_income < monitoring_line\n"
    assert text.count(line) == 1
    (tmp_path / "new.yaml").write_text(
        text.replace(line, "expr: round(per_capita_income, count(members)) < monitoring_line\n"),
        encoding="utf-8")
    records = ROOT / "examples" / "households.jsonl"
    code = main(["diff", str(FUJIAN), str(tmp_path / "new.yaml"), "--impact", str(records),
                 "--as-of", "2021-09-01", "--engine", "columnar"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "new.yaml:" in err and "round()" in err and "columnar-unsupported" in err
    new = load_policy(tmp_path / "new.yaml")
    with pytest.raises(ColumnarUnsupported):
        impact(load_policy(FUJIAN), new, [], "2021-09-01", engine="columnar")


def test_cases_are_decided_in_columns_too(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """With --cases, both versions decide each household with its cases in columns: the record
    path's report byte for byte (a version whose township review takes 3 working days moves
    the households with a review due); through the API, a bad case rejects its household as
    on the record path."""
    generator = benchmark_module("boundary_households")
    records = households_file(tmp_path)
    cases = generator.boundary_cases(list(generator.boundary_households(300, 8)), 9)
    listed = [case for own in cases.values() for case in own]
    (tmp_path / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in listed),
                                          encoding="utf-8")
    text = FUJIAN.read_text(encoding="utf-8")
    (tmp_path / "quicker.yaml").write_text(text.replace(
        "    value: 5 working_days\n", "    value: 3 working_days\n", 1), encoding="utf-8")
    runs = []
    for engine in ("record", "columnar"):
        out = tmp_path / f"{engine}.json"
        code = main(["diff", str(FUJIAN), str(tmp_path / "quicker.yaml"), "--impact",
                     str(records), "--as-of", "2021-12-31", "--format", "json", "--engine",
                     engine, "--cases", str(tmp_path / "cases.jsonl"), "-o", str(out)])
        runs.append((code, out.read_bytes(), capsys.readouterr().err))
    assert runs[0] == runs[1]
    figures = json.loads(runs[1][1])["impact"]
    assert figures["changed"] > 20 and figures["read"] == 603
    fujian = load_policy(FUJIAN)
    household = next(generator.boundary_households(1, 8))
    bad = {"case_id": "B", "household_id": household["household_id"], "source": "media",
           "received_on": "2021-10-11", "assigned_on": "2021-10-08"}
    reports = [impact(fujian, fujian, [household], "2021-12-31", engine=engine,
                      cases={household["household_id"]: [bad]})
               for engine in ("record", "columnar")]
    assert reports[0].rejected == reports[1].rejected == 1
    assert reports[0].to_json() == reports[1].to_json()


def test_label_sets_in_another_order_are_compared_in_columns(tmp_path: Path,
                                                              fujian: Policy) -> None:
    """A version that adds the same risks in another order (its rules reversed) changes no
    household, and the columnar run finds that in columns: no household's decisions are
    turned into Python values whole (each set is sorted before the columns are compared)."""
    import yaml

    from fangpin_rules.columnar import decide_batch, records_to_arrow

    document = yaml.safe_load(FUJIAN.read_text(encoding="utf-8"))
    document["decisions"]["risks"]["rules"].reverse()
    (tmp_path / "reversed.yaml").write_text(yaml.safe_dump(document, allow_unicode=True),
                                            encoding="utf-8")
    reversed_risks = load_policy(tmp_path / "reversed.yaml")
    records = list(benchmark_module("boundary_households").boundary_households(600, seed=5))
    table = records_to_arrow(fujian, records)
    before = decide_batch(fujian, table, "2021-09-01").decisions.column("risks").to_pylist()
    after = decide_batch(reversed_risks, table, "2021-09-01").decisions.column("risks"
                                                                              ).to_pylist()
    reordered = sum(a != b and sorted(a) == sorted(b) for a, b in zip(before, after,
                                                                       strict=True))
    assert reordered > 20 and all(sorted(a) == sorted(b) for a, b in zip(before, after,
                                                                          strict=True))
    batches: list[object] = []
    report = impact(fujian, reversed_risks, records, "2021-09-01", engine="columnar",
                    on_decided=lambda decided: batches.append(decided.batch))
    assert report.compared == len(records) and report.changed == 0
    assert batches and all(batch is not None and not batch.whole  # type: ignore[attr-defined]
                           for batch in batches)
