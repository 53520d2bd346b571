"""Deciding chunks of records in worker processes, results in input order.

Where processes are forked (Linux), each worker starts with the policy the parent loaded, in
memory: nothing is read again, so a policy read from a pipe or stdin, or a file changed since,
decides exactly as in the parent. Under another start method (`spawn`) a worker loads it the
way the parent did (`PolicySource`: the file, its search path, `--strict`, the region table)
and checks that the files are still the ones the parent loaded. Either way it decides whole
chunks with the same `ChunkDecider` as a one-process run. At most `2 * jobs` chunks are in
flight, so memory stays bounded however long the input is.

A run never hangs on its workers: a worker that dies (killed, out of memory) or a chunk that
fails ends the run at once with `WorkerFailed`, naming the chunk by its first line; what a
worker sends back is plain data (bytes, text, counts), never an exception object.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import Any

from fangpin_rules.engine.policy import Policy
from fangpin_rules.engine.regions import RegionalPolicy
from fangpin_rules.engine.stream import ChunkDecider, ChunkResult, Item, quiet_collector

_decider: Any = None  # a ChunkDecider, or the decider `make_decider` made
_start_error: str | None = None


class WorkerFailed(RuntimeError):
    """A worker process died or could not decide a chunk: the run cannot be completed."""


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

    def rereadable(self) -> bool:
        """Whether a worker can read the policy (and region table) again from their paths:
        regular files, not a pipe or stdin that the parent has read already."""
        import stat

        for path in (self.path, self.regions):
            if path is None:
                continue
            try:
                if not stat.S_ISREG(os.stat(path).st_mode):
                    return False
            except OSError:
                return False
        return True

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


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _start_worker(policy: Policy | RegionalPolicy | PolicySource, as_of: date, explain: bool,
                  cases: Mapping[str, list[Any]] | None,
                  make_decider: Callable[..., Any] | None = None) -> None:
    global _decider, _start_error
    # The parent answers Ctrl-C and SIGTERM for the run (and ends the workers); a worker
    # that took them too would only print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        loaded = policy.load() if isinstance(policy, PolicySource) else policy
        _decider = ChunkDecider(loaded, as_of, explain=explain, cases=cases) \
            if make_decider is None else make_decider(loaded, as_of, cases)
    except Exception as exc:  # kept, as text, for the first chunk to report in the parent
        _start_error = f"{type(exc).__name__}: {exc}" if isinstance(exc, PolicyChanged) \
            else f"the worker could not load the policy ({type(exc).__name__})"
    quiet_collector()


def _decide(chunk: list[Item]) -> ChunkResult | str:
    """A chunk's result, or the reason it has none (text: an exception object might not
    survive the way back to the parent)."""
    if _decider is None:
        return _start_error or "the worker was not started"
    try:
        result: ChunkResult = _decider.decide(chunk)
    except Exception as exc:
        return f"the chunk could not be decided ({type(exc).__name__})"
    return result


def decide_in_workers(source: PolicySource, as_of: date, chunks: Iterable[list[Item]],
                      jobs: int, *, explain: bool = False,
                      cases: Mapping[str, list[Any]] | None = None,
                      policy: Policy | RegionalPolicy | None = None,
                      make_decider: Callable[..., Any] | None = None,
                      start_method: str | None = None) -> Generator[ChunkResult, None, None]:
    """Each chunk's result, in the order the chunks came. `cases` (few beside the households)
    go to every worker once, when it starts; so does `policy`, the parent's loaded policy,
    where workers are forked (otherwise they load `source`). `make_decider(policy, as_of,
    cases)`, a module-level function (it is pickled by name), makes each worker's decider in
    place of a `ChunkDecider` (the columnar engine's: `columnar.engine.ColumnarChunkDecider`).
    `start_method`: how workers are started ("spawn" where the parent has run Polars or
    Arrow, whose thread pools a fork would copy in whatever state they are); the platform's
    default otherwise. Raises WorkerFailed when a worker dies or a chunk fails."""
    context = multiprocessing.get_context(start_method)
    forked = context.get_start_method() == "fork"
    handed: Policy | RegionalPolicy | PolicySource = (
        policy if forked and policy is not None else source)
    if isinstance(handed, PolicySource) and not source.rereadable():
        raise WorkerFailed(f"the policy '{source.path}' cannot be read again by worker "
                           "processes here (a pipe or stdin); give it as a file, or use "
                           "--jobs 1")
    executor = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                                   initargs=(handed, as_of, explain, cases, make_decider))
    pending: deque[tuple[int, Future[ChunkResult | str]]] = deque()
    finished = False
    try:
        for chunk in chunks:
            try:
                submitted = executor.submit(_decide, chunk)
            except BrokenProcessPool:  # a worker died between two chunks
                raise WorkerFailed(f"a worker process died before the chunk from line "
                                   f"{chunk[0][0]} (killed, or out of memory)") from None
            pending.append((chunk[0][0], submitted))
            if len(pending) >= 2 * jobs:
                yield _result(*pending.popleft())
        while pending:
            yield _result(*pending.popleft())
        finished = True
    finally:
        # On a failure or an interruption the chunks not started are dropped, not decided.
        executor.shutdown(wait=True, cancel_futures=not finished)


def _result(first_line: int, future: Future[ChunkResult | str]) -> ChunkResult:
    try:
        result = future.result()
    except BrokenProcessPool:
        raise WorkerFailed(f"a worker process died while deciding the chunk from line "
                           f"{first_line} (killed, or out of memory)") from None
    if isinstance(result, str):
        raise WorkerFailed(f"the chunk from line {first_line}: {result}")
    return result
