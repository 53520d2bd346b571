"""What the benchmark scripts share: paths, timing, and the synthetic inputs."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"  # generated inputs (git-ignored)
FUJIAN = ROOT / "policies" / "fujian_2021.yaml"
AS_OF = "2021-09-01"
sys.path.insert(0, str(HERE))  # gen_households, handwritten_fujian
sys.path.insert(0, str(ROOT / "src"))


def shared_bench() -> Path:
    """The shared benchmark material (the anchors workload): $FANGPIN_SHARED_BENCH, else
    ../shared/bench beside the repository, else /work/shared/bench."""
    for candidate in (os.environ.get("FANGPIN_SHARED_BENCH"), ROOT.parent / "shared" / "bench",
                      Path("/work/shared/bench")):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise SystemExit("the shared bench directory is missing: set FANGPIN_SHARED_BENCH")


def best_of(runs: int, action: Callable[[], Any]) -> float:
    """The least CPU time of `runs` runs, in seconds. CPU time, not wall time: on a shared
    machine a process waits for a core, and the wait is not the engine's cost."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        action()
        best = min(best, time.process_time() - started)
    return best


def households_file(n: int, seed: int = 0) -> Path:
    """benchmarks/data/households-N.jsonl, written by gen_households.py when missing."""
    from gen_households import generate_lines

    DATA.mkdir(exist_ok=True)
    path = DATA / f"households-{n}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for line in generate_lines(n, seed):
                out.write(line + "\n")
        partial.rename(path)
    return path


def machine() -> str:
    return (f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} cores, load average "
            + " ".join(f"{x:.1f}" for x in os.getloadavg()))


def run_measured(script: Path, args: list[str]) -> dict[str, Any]:
    """Run `script args` in a process of its own (the figures it prints as one JSON object
    on stdout), with its peak resident memory (os.wait4) as `peak_mb`: a measurement's
    memory is then its own, not the parent's."""
    import json
    import subprocess

    process = subprocess.Popen([sys.executable, str(script), *args], cwd=ROOT,
                               stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read()  # read before waiting: a full pipe would block the child
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{script.name} {' '.join(args)} failed")
    figures: dict[str, Any] = json.loads(output)
    figures["peak_mb"] = usage.ru_maxrss / 1024
    return figures
