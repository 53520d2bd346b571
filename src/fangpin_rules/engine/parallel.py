"""Deciding chunks of records in worker processes, results in input order.

Each worker loads the policy once, the way the parent did (`PolicySource`: the file, its
search path, `--strict`, the region table), so the design works under every start method,
`spawn` included; it checks that the files are still the ones the parent loaded, and decides
whole chunks with the same `ChunkDecider` as a one-process run. At most `2 * jobs` chunks are in
flight, so memory stays bounded however long the input is.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from multiprocessing.pool import AsyncResult
from typing import Any

from fangpin_rules.engine.policy import Policy
from fangpin_rules.engine.regions import RegionalPolicy
from fangpin_rules.engine.stream import ChunkDecider, ChunkResult, Item, quiet_collector

_decider: ChunkDecider | None = None


class PolicyChanged(RuntimeError):
    """The policy file changed between the parent's load and a worker's."""


@dataclass(frozen=True)
class PolicySource:
    """How the parent loaded its policy, for a worker to load the same one."""

    path: str
    sha256: str
    search_path: tuple[str, ...] = ()
    strict: bool = False
    regions: str | None = None
    regions_sha256: str | None = None

    @classmethod
    def of(cls, policy: Policy | RegionalPolicy, search_path: Iterable[str] = ()
           ) -> PolicySource:
        base = policy.base if isinstance(policy, RegionalPolicy) else policy
        regional = policy if isinstance(policy, RegionalPolicy) else None
        return cls(base.path, base.sha256, tuple(search_path), base.strict,
                   regional.path if regional else None, regional.sha256 if regional else None)

    def load(self) -> Policy | RegionalPolicy:
        from fangpin_rules.engine.policy import load_policy
        from fangpin_rules.engine.regions import load_regions

        policy = load_policy(self.path, search_path=self.search_path, strict=self.strict)
        if policy.sha256 != self.sha256:
            raise PolicyChanged(f"{self.path} changed while the run was starting; run it again")
        if self.regions is None:
            return policy
        regional = load_regions(policy, self.regions)
        if regional.sha256 != self.regions_sha256:
            raise PolicyChanged(f"{self.regions} changed while the run was starting; "
                                "run it again")
        return regional


def _start_worker(source: PolicySource, as_of: date, explain: bool,
                  cases: Mapping[str, list[Any]] | None) -> None:
    global _decider
    _decider = ChunkDecider(source.load(), as_of, explain=explain, cases=cases)
    quiet_collector()


def _decide(chunk: list[Item]) -> ChunkResult:
    assert _decider is not None, "worker not started"
    return _decider.decide(chunk)


def decide_in_workers(source: PolicySource, as_of: date, chunks: Iterable[list[Item]],
                      jobs: int, *, explain: bool = False,
                      cases: Mapping[str, list[Any]] | None = None) -> Iterator[ChunkResult]:
    """Each chunk's result, in the order the chunks came. `cases` (few beside the households)
    go to every worker once, when it starts."""
    context = multiprocessing.get_context()
    with context.Pool(jobs, initializer=_start_worker,
                      initargs=(source, as_of, explain, cases)) as pool:
        pending: deque[AsyncResult[ChunkResult]] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_decide, (chunk,)))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
