"""Build policies/examples/fujian_2021_revised.yaml from policies/fujian_2021.yaml.

    python tests/audit/revise_fujian.py

The revision is the province's file with four documented edits (and a new version), so that the
diff tests know exactly which changes are real. When fujian_2021.yaml changes, run this again: a
test fails until the committed example equals what this builds.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "policies" / "fujian_2021.yaml"
TARGET = ROOT / "policies" / "examples" / "fujian_2021_revised.yaml"

HEADER = """\
# ILLUSTRATIVE REVISION of fujian_2021.yaml, for `fangpin diff` and its tests (docs/audit-guide.md).
# It is not a published document. Built by tests/audit/revise_fujian.py; against fujian_2021.yaml
# it makes exactly these changes:
#   (1) monitoring_line: a raised line of 7500 from 2022-01-01 (an illustrative figure);
#   (2) sharp_drop_ratio, an interpretation parameter: 0.5 -> 0.4;
#   (3) rule category.sudden_hardship reworded, same meaning (operands reordered, comparisons
#       flipped), and cadre.deputy_section's label list reordered: no change;
#   (4) rule measure.employment really changed: employment support for any labour capacity;
# and the version, 2021.1 -> 2022.1-example.
"""

EDITS = [
    # the editor's schema, from one folder deeper
    ("$schema=../src/fangpin_rules/", "$schema=../../src/fangpin_rules/"),
    ('  version: "2021.1"\n', '  version: "2022.1-example"\n'),
    # (1)
    ("      - {from: 2021-01-01, until: 2021-12-31, value: 7152, source: 闽委振兴组〔2021〕5号}\n"
     "  dibao_standard:",
     "      - {from: 2021-01-01, until: 2021-12-31, value: 7152, source: 闽委振兴组〔2021〕5号}\n"
     '      - {from: 2022-01-01, value: 7500, source: 示例, note: "illustrative figure, not a '
     'published standard"}\n  dibao_standard:'),
    # (2)
    ("    basis: interpretation\n    value: 0.5\n", "    basis: interpretation\n    value: 0.4\n"),
    # (3)
    ("        when: >-\n"
     "          not formerly_poor and per_capita_after_rigid < monitoring_line\n"
     "          and (per_capita_income >= monitoring_line or sharp_drop)\n"
     "        then: sudden_hardship",
     "        # Reworded, same meaning: the test is what the household's income lacks.\n"
     "        when: >-\n"
     "          (sharp_drop or monitoring_line <= per_capita_income)\n"
     "          and monitoring_line > per_capita_after_rigid\n"
     "          and not formerly_poor\n"
     "        then: sudden_hardship"),
    ('            when: category in ["unstable", "marginal"]\n'
     "            then: deputy_section_or_above",
     '            when: category in ["marginal", "unstable"]\n'
     "            then: deputy_section_or_above"),
    # (4)
    ("        when: monitored and low_income_or_drop and can_work_fully\n        add: employment",
     "        when: monitored and low_income_or_drop and has_labour\n        add: employment"),
]


def revised_text() -> str:
    text = SOURCE.read_text(encoding="utf-8")
    for old, new in EDITS:
        if text.count(old) != 1:
            raise SystemExit(f"fujian_2021.yaml changed: {old[:60]!r} is not there exactly once; "
                             "update EDITS")
        text = text.replace(old, new)
    return HEADER + text


if __name__ == "__main__":
    TARGET.write_text(revised_text(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
