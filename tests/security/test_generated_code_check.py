"""The allow-list check on generated code: every real policy passes it, anything the compiler
does not make is refused, and a slip in the compiler fails closed (an internal error, never
execution)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.compiler import codegen
from fangpin_rules.compiler.safety import UnsafeGeneratedCode, check_generated, data_attributes
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.language import types as t
from fangpin_rules.model import Case, Household

from support import ROOT, benchmark_module, household, policy_from_text

POLICIES = [
    ROOT / "policies" / "fujian_2021.yaml",
    *sorted((ROOT / "policies" / "counties").glob("*.yaml")),
    *sorted((ROOT / "policies" / "examples").glob("*.yaml")),
    *sorted((ROOT / "tests" / "checker" / "good").glob("*.yaml")),
    ROOT / "benchmarks" / "anchors_policy.yaml",
]
FIELDS = data_attributes([t.record_type(Household), t.record_type(Case)])


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_every_policy_compiles_to_code_that_passes_the_check(path: Path) -> None:
    policy = load_policy(path)
    fields = data_attributes([t.record_type(policy.checked.record_model), t.record_type(Case)])
    for source in (policy.compiled.source, policy.compiled.traced_source):
        check_generated(source, fields)


def test_the_large_benchmark_policy_passes_the_check(tmp_path: Path) -> None:
    path = tmp_path / "large.yaml"
    path.write_text(benchmark_module("bench_large_policy").large_policy(1200), encoding="utf-8")
    policy = load_policy(path)
    check_generated(policy.compiled.traced_source, FIELDS)


def _wrapped(line: str) -> str:
    return ("def factory(P, K, AS_OF, AS_OF_TEXT, POLICY_REF, CAL, RT):\n"
            "    k_0 = K[0]\n    rt_age = RT.age\n"
            "    def evaluate(r, c=None):\n"
            f"        {line}\n"
            "        return {'household_id': r.household_id}\n"
            "    return evaluate\n")


@pytest.mark.parametrize("line", [
    "n_0 = rt_age(r.members, AS_OF) if r.net_income > k_0 else None",
    "n_1 = sum((1 for b_1_t_2 in r.members if b_1_t_2.health == 'healthy'), 0)",
    "n_2 = k_0.get(n_1)",
    "T.part(0, (n_1 is not None))",
    "n_3 = (t_1 if (t_1 := r.net_income) is not None else 0)",
    # a step that asks the calendar: unknown where it cannot answer
    "try:\n            s_0 = rt_given_date(rt_add_duration(AS_OF, k_0, 1, SCAL))\n"
    "        except rt_coverage_error as s_0_error:\n            s_0 = rt_uncovered(s_0_error)",
])
def test_what_the_compiler_writes_is_allowed(line: str) -> None:
    check_generated(_wrapped(line), FIELDS)


@pytest.mark.parametrize("line", [
    "__import__('os').system('true')",
    "n_0 = len.__self__",
    "n_0 = r.__class__",
    "n_0 = open('x')",
    "n_0 = getattr(r, 'net_income')",
    "import os",
    "n_0 = lambda: 1",
    "x = 1",
    "n_0 = 1.5",
    "n_0 = b'bytes'",
    "n_0 = r.net_income.conjugate",
    "n_0 = r.members.pop()",
    "n_0 = k_0.pop()",
    "n_0 = P[r]",
    "n_0 = [b_1_t_2 for b_1_t_2 in r.members]",
    "n_0 = f'{r}'",
    "del r",
    "global n_0",
    "r.net_income = 0",
    "n_0 = RT.__dict__",
    "n_0 = RT.os",
    "n_0 = max(*r.members)",
    "n_0 = max(r.members, key=len)",
    "n_0 = (len or any)(r.members)",
    "try:\n            pass\n        except Exception:\n            pass",
    "try:\n            pass\n        except:\n            pass",
    "try:\n            pass\n        except rt_coverage_error:\n            pass",
    "try:\n            pass\n        except rt_coverage_error as x:\n            pass",
    "try:\n            pass\n        except rt_coverage_error as s_0_error:\n            pass\n"
    "        finally:\n            pass",
    "try:\n            pass\n        except rt_coverage_error as s_0_error:\n            pass\n"
    "        except rt_coverage_error as s_1_error:\n            pass",
    "try:\n            pass\n        except rt_coverage_error as s_0_error:\n            pass\n"
    "        else:\n            pass",
    "try:\n            pass\n        except (rt_coverage_error, Exception) as s_0_error:\n"
    "            pass",
    "try:\n            pass\n        finally:\n            pass",
    "n_0 = s_0_error.__traceback__",
    "class C: pass",
    "def helper(): pass",
])
def test_anything_else_is_refused(line: str) -> None:
    with pytest.raises(UnsafeGeneratedCode):
        check_generated(_wrapped(line), FIELDS)


def test_a_slip_in_the_compiler_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    canary = tmp_path / "CANARY"
    real = codegen.generate_source

    def slipping(policy: object, traced: bool) -> tuple[str, object]:
        source, gen = real(policy, traced)  # type: ignore[arg-type]
        payload = f"__import__('os').system('touch {canary}')"
        return source.replace("def factory(", f"{payload}\ndef factory(", 1), gen

    monkeypatch.setattr(codegen, "generate_source", slipping)
    with pytest.raises(PolicyError) as raised:
        load_policy(ROOT / "policies" / "fujian_2021.yaml")
    assert raised.value.diagnostics[0].code == "internal-unsafe-code"
    assert main(["check", str(ROOT / "policies" / "fujian_2021.yaml")]) == 2
    err = capsys.readouterr().err
    assert "error[internal-unsafe-code]: the compiler refused its own code" in err
    assert "Traceback" not in err
    assert not canary.exists()


def test_a_long_first_match_decides_by_its_first_matching_rule(tmp_path: Path) -> None:
    rules = "\n".join(
        f"      - {{id: r.{n}, cite: §1, when: 'net_income < {100 * (n + 1)}', "
        f"then: {'even' if n % 2 == 0 else 'odd'}}}" for n in range(250))
    text = textwrap.dedent("""\
        policy: {id: long, title: long, effective: 2021-01-01}
        vocabularies:
          parity: {even: {zh: 双, en: even}, odd: {zh: 单, en: odd}, none: {zh: 无, en: none}}
        decisions:
          parity:
            kind: first_match
            type: parity
            cite: §1
            otherwise: none
            rules:
        """) + rules + "\n"
    policy = policy_from_text(tmp_path, text)
    assert "elif" in policy.compiled.source and policy.compiled.source.count("is k_") > 1
    for income, expected in (("23050", "even"), ("23150", "odd"), ("50", "even"),
                             ("9950", "odd"), ("99999", "none")):
        record = household(net_income=income)
        fast = policy.evaluate(record, "2021-09-01")["parity"]
        traced = policy.evaluate(record, "2021-09-01", explain=True)["parity"]
        assert fast == traced == expected, income


def test_the_traced_twin_is_checked_when_first_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Loading compiles only the fast path; the traced twin is checked (and refused) when a
    trace is first asked for, still before any of it runs."""
    canary = tmp_path / "CANARY"
    real = codegen.generate_source

    def slipping(policy: object, traced: bool) -> tuple[str, object]:
        source, gen = real(policy, traced)  # type: ignore[arg-type]
        if traced:
            payload = f"__import__('os').system('touch {canary}')"
            source = source.replace("def factory(", f"{payload}\ndef factory(", 1)
        return source, gen

    monkeypatch.setattr(codegen, "generate_source", slipping)
    policy = load_policy(ROOT / "policies" / "fujian_2021.yaml")
    record = household()
    assert policy.evaluate(record, "2021-09-01")["household_id"] == record["household_id"]
    with pytest.raises(PolicyError) as raised:
        policy.evaluate(record, "2021-09-01", explain=True)
    assert raised.value.diagnostics[0].code == "internal-unsafe-code"
    assert not canary.exists()
    assert main(["explain", str(ROOT / "policies" / "fujian_2021.yaml"),
                 str(ROOT / "examples" / "350181-0001.json"), "--as-of", "2021-09-01"]) == 2
    assert "error[internal-unsafe-code]" in capsys.readouterr().err
    assert not canary.exists()


def _long(lines: list[str]) -> str:
    return _wrapped("\n        ".join(lines))


@pytest.mark.parametrize("lines", [
    ["n_0 = '''", "__import__('os').system('true')", "'''"],  # a string across
    ["n_0 = (1 +", "__import__('os').system('true'))"],  # a bracket across
    ["n_0 = 1 + \\", "__import__('os').system('true')"],  # a continuation across
    ["n_0 = 1\n    __import__('os').system('true')"],  # a line outside `evaluate`
])
def test_code_is_checked_in_pieces_that_cannot_hide_anything(
        lines: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A large source is checked a piece at a time; a piece boundary inside a string, a bracket
    or a continuation leaves a piece that does not parse: refused, never run."""
    monkeypatch.setattr("fangpin_rules.compiler.safety._PIECE_LINES", 1)
    with pytest.raises(UnsafeGeneratedCode):
        check_generated(_long(["n_1 = 1", *lines, "n_2 = 2"]), FIELDS)


def test_pieces_of_sound_code_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fangpin_rules.compiler.safety._PIECE_LINES", 1)
    check_generated(_long(["if r.net_income > 1:", "    n_0 = 1", "elif r.net_income > 0:",
                           "    n_0 = 2", "else:", "    n_0 = 3", "n_1 = n_0"]), FIELDS)


def test_a_source_without_the_compilers_frame_is_refused() -> None:
    with pytest.raises(UnsafeGeneratedCode):
        check_generated("__import__('os')\n" + _wrapped("n_0 = 1"), FIELDS)
    with pytest.raises(UnsafeGeneratedCode):
        check_generated(_wrapped("n_0 = 1") + "__import__('os')\n", FIELDS)
