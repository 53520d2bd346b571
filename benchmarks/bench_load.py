"""Policy load time: read (YAML -> located tree -> document), check, compile, per policy file.

    python benchmarks/bench_load.py [POLICY ...]   (default: every policies/*.yaml, and the
                                                    anchors workload's policy)

Best of 5, each stage timed on its own; a county's file is measured as soon as one exists
under policies/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench_support import HERE, ROOT, best_of, machine


def main(paths: list[Path]) -> None:
    from fangpin_rules.checker import check
    from fangpin_rules.compiler import compile_policy
    from fangpin_rules.policy import read_document

    print(f"bench_load: {machine()}")
    print(f"  {'policy':40s} {'read ms':>8} {'check ms':>9} {'compile ms':>10} {'total ms':>9}")
    for path in paths:
        sourced = read_document(path)
        checked = check(sourced)
        read = best_of(5, lambda p=path: read_document(p))
        checking = best_of(5, lambda s=sourced: check(s))
        compiling = best_of(5, lambda c=checked: compile_policy(c))
        name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        print(f"  {name:40s} {read * 1e3:8.1f} {checking * 1e3:9.1f} {compiling * 1e3:10.1f} "
              f"{(read + checking + compiling) * 1e3:9.1f}")


if __name__ == "__main__":
    chosen = [Path(p).resolve() for p in sys.argv[1:]] or [
        *sorted((ROOT / "policies").glob("*.yaml")), HERE / "anchors_policy.yaml"]
    main(chosen)
