"""Run the fuzz campaign (tests/security/test_fuzz_campaign.py) with more examples than the test
suite's lean profile, and print its figures: inputs tried per kind and what was found.

    python benchmarks/fuzz_campaign.py [EXAMPLES_PER_TEST]   # default 300

docs/security.md quotes the last run's figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    examples = sys.argv[1] if len(sys.argv) > 1 else "300"
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "figures.json"
        env = {**os.environ, "FANGPIN_FUZZ_EXAMPLES": examples,
               "FANGPIN_FUZZ_REPORT": str(report),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                           os.environ.get("PYTHONPATH")]))}
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             str(ROOT / "tests" / "security" / "test_fuzz_campaign.py")],
            cwd=ROOT, env=env, check=False)
        elapsed = time.perf_counter() - started
        figures = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    tried = figures.get("tried", {})
    found = figures.get("found", {})
    print(f"fuzz campaign: {examples} examples per test, {elapsed:.0f} s, pytest exit "
          f"{result.returncode}")
    for kind, count in sorted(tried.items()):
        print(f"  {kind:<18} {count:>7} runs")
    print(f"  {'total':<18} {sum(tried.values()):>7} runs")
    print("  found: " + (", ".join(f"{k} x{v}" for k, v in sorted(found.items())) or
                         "crashes 0, hangs 0, losses 0, files outside 0, echoes 0"))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
