"""Checking a very large policy: time and peak memory of `fangpin check` per stage.

    python benchmarks/bench_large_policy.py [RULES]     (default 44,000 rules, about 4.9 MB)

Writes a policy of RULES first_match rules (in decisions of 1,000 rules each, every rule
reading a record field and a parameter, as a county's table of cases might), then runs
`fangpin check` on it in a fresh process and prints the wall time and the peak resident memory
of that process, and the time of each stage (read, check, compile) in this one.

Last run (2 cores shared with other work, run back to back), 44,000 rules, 4.51 MB: before
(collector running during load, the traced twin compiled at load) 62.9 s and 1,423 MB peak;
after 41.4 s and 1,015 MB.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_DECISION = 1000


def large_policy(rules: int) -> str:
    lines = ["policy: {id: large, title: large, effective: 2021-01-01}",
             "articles: {'§1': {section: one, title: {zh: 一, en: one}, text: one}}",
             "vocabularies:", "  band:",
             "    low: {zh: 低, en: low}", "    high: {zh: 高, en: high}",
             "parameters:",
             "  line: {type: money, value: 7152, cite: §1, basis: document,"
             " title: {zh: 线, en: line}}",
             "decisions:"]
    for start in range(0, rules, PER_DECISION):
        lines += [f"  band_{start // PER_DECISION}:", "    kind: first_match", "    type: band",
                  "    cite: §1", "    otherwise: low", "    rules:"]
        for number in range(start, min(rules, start + PER_DECISION)):
            lines.append(f"      - {{id: r.{number}, cite: §1, then: high, "
                         f"when: 'net_income > line + {number} and count(members) > 1'}}")
    return "\n".join(lines) + "\n"


def main(rules: int) -> None:
    from fangpin_rules.checker import check
    from fangpin_rules.compiler import compile_policy
    from fangpin_rules.compiler.codegen import collector_paused
    from fangpin_rules.policy import read_document

    from bench_support import ROOT, machine  # here: the tests import large_policy alone

    print(f"bench_large_policy: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.yaml"
        path.write_text(large_policy(rules), encoding="utf-8")
        size = path.stat().st_size
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "fangpin_rules.cli.main", "check", str(path)],
            capture_output=True, text=True, cwd=ROOT, check=False)
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        status = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else \
            result.stderr.strip()[-300:]
        print(f"  {rules} rules, {size / 1e6:.2f} MB: fangpin check {wall:.1f} s, "
              f"peak RSS {peak_mb:.0f} MB (exit {result.returncode}: {status})")
        with collector_paused():  # as load_policy does
            t0 = time.perf_counter()
            sourced = read_document(path)
            t1 = time.perf_counter()
            checked = check(sourced)
            t2 = time.perf_counter()
            compile_policy(checked)
            t3 = time.perf_counter()
        print(f"  stages: read {t1 - t0:.1f} s, check {t2 - t1:.1f} s, compile {t3 - t2:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 44_000)
