"""Deciding chunks of records in worker processes, results in input order.

Each worker loads the policy once, from its file (so the design works under every start
method, `spawn` included), checks that the file is still the one the parent loaded, and decides
whole chunks with the same `ChunkDecider` as a one-process run. At most `2 * jobs` chunks are in
flight, so memory stays bounded however long the input is.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from multiprocessing.pool import AsyncResult
from typing import Any

from fangpin_rules.engine.stream import ChunkDecider, ChunkResult, Item, quiet_collector

_decider: ChunkDecider | None = None


class PolicyChanged(RuntimeError):
    """The policy file changed between the parent's load and a worker's."""


def _start_worker(path: str, sha256: str, as_of: date, explain: bool,
                  cases: Mapping[str, list[Any]] | None) -> None:
    from fangpin_rules.engine.policy import load_policy

    global _decider
    policy = load_policy(path)
    if policy.sha256 != sha256:
        raise PolicyChanged(f"{path} changed while the run was starting; run it again")
    _decider = ChunkDecider(policy, as_of, explain=explain, cases=cases)
    quiet_collector()


def _decide(chunk: list[Item]) -> ChunkResult:
    assert _decider is not None, "worker not started"
    return _decider.decide(chunk)


def decide_in_workers(path: str, sha256: str, as_of: date, chunks: Iterable[list[Item]],
                      jobs: int, *, explain: bool = False,
                      cases: Mapping[str, list[Any]] | None = None) -> Iterator[ChunkResult]:
    """Each chunk's result, in the order the chunks came. `cases` (few beside the households)
    go to every worker once, when it starts."""
    context = multiprocessing.get_context()
    with context.Pool(jobs, initializer=_start_worker,
                      initargs=(path, sha256, as_of, explain, cases)) as pool:
        pending: deque[AsyncResult[ChunkResult]] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_decide, (chunk,)))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
