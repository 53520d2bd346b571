"""The HTTP application: routes, access and limits, problem+json errors, metrics.

`create_app(config)` builds it; `fangpin serve` (cli/serve.py) runs it with uvicorn. A large
request is read and decided in a worker thread so that `/health` answers meanwhile, a small one
on the event loop (`INLINE_BODY_BYTES`); a request takes the registry's snapshot once and is
decided on it to the end.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from fangpin_rules.engine.serialize import dumps
from fangpin_rules.engine.stream import freeze_loaded
from fangpin_rules.service import arrow_batches, deciding, openapi
from fangpin_rules.service.config import ServiceConfig
from fangpin_rules.service.decision_log import DecisionLog, mask_id_numbers, masked
from fangpin_rules.service.metrics import CONTENT_TYPE as METRICS_TYPE
from fangpin_rules.service.metrics import Metrics, SharedCounts
from fangpin_rules.service.problems import CONTENT_TYPE as PROBLEM_TYPE
from fangpin_rules.service.problems import Problem
from fangpin_rules.service.registry import Registry, Snapshot

log = logging.getLogger("fangpin.serve")

JSON_TYPE = "application/json"
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")
STREAM_BATCH = 256  # outcomes per chunk of a streamed answer
CONFIG_ENV = "FANGPIN_SERVE_CONFIG"  # the configuration handed to each worker process
OPEN_PATHS = ("/health", "/ready", "/openapi.json")  # probes and the contract: no token
CLIENT_GONE = 499  # the status counted for an answer the client did not wait for (as nginx)
# A decide request of at most this many bytes is read and decided on the event loop: a few
# households (at most 100 members each) or one with a few dozen cases, tens to hundreds of
# microseconds, less than the hand-off to a worker thread costs (measured: 1,510-1,860 single
# requests per server CPU-second through a thread, 1,980-2,710 on the loop; docs/service.md).
# A larger one is read and decided in a worker thread, so /health answers meanwhile.
INLINE_BODY_BYTES = 16 * 1024


class ServiceError(Exception):
    """A configuration the service cannot start with (a tokens file that cannot be read)."""


def read_tokens(path: str) -> list[bytes]:
    try:
        with open(path, encoding="utf-8") as stream:
            tokens = [line.strip() for line in stream]
    except OSError as exc:
        raise ServiceError(f"cannot read the tokens file '{path}': {exc.strerror}") from None
    tokens = [t for t in tokens if t and not t.startswith("#")]
    if not tokens:
        raise ServiceError(f"the tokens file '{path}' holds no token (one per line)")
    return [t.encode("utf-8") for t in tokens]


def token_accepted(header: str | None, tokens: list[bytes]) -> bool:
    """Whether `Authorization: Bearer …` names one of the tokens; each comparison takes the
    same time whatever the text, and every token is compared, so timing tells nothing."""
    if header is None:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    presented = given.strip().encode("utf-8", "surrogateescape")
    accepted = False
    for token in tokens:
        accepted |= hmac.compare_digest(presented, token)
    return accepted


def _text(value: Any) -> bytes:
    """JSON bytes of an answer: exact decimals as numbers; a lone surrogate a client sent (in a
    household id, say) written back as its escape rather than failing the answer."""
    return dumps(value).encode("utf-8", "backslashreplace")


def problem_response(problem: Problem, instance: str | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    """The problem+json answer; an ID number anywhere in it (a path, a policy id, a field name
    the client sent) is masked, as in the decision log."""
    return Response(_text(masked(problem.to_json(instance))), status_code=problem.status,
                    media_type=PROBLEM_TYPE, headers=headers)


class Service:
    """The state of one running service: its registry, metrics, limits and log."""

    def __init__(self, config: ServiceConfig, registry: Registry | None = None) -> None:
        self.config = config
        self.metrics = Metrics()
        self.tokens = read_tokens(config.tokens_file) if config.tokens_file else None
        self.registry = registry or Registry(config.sources, config.policy_path,
                                             regions=config.regions)
        self.registry.on_reload = self._reloaded
        if registry is None:
            self.registry.load()
        else:  # loaded by the caller before the metrics existed: count that first load
            for policy_id in self.registry.current.policies:
                self._reloaded(policy_id, "ok")
            for file in self.registry.current.refused:
                self._reloaded(file, "refused")
        self.decision_log = DecisionLog(config.decision_log) if config.decision_log else None
        self.shared = SharedCounts(config.metrics_dir, self.metrics) \
            if config.metrics_dir else None

    def _reloaded(self, name: str, result: str) -> None:
        self.metrics.count("fangpin_reloads_total", policy=name, result=result)

    def gauges(self) -> list[tuple[str, str, list[tuple[tuple[tuple[str, str], ...], float]]]]:
        snapshot = self.registry.current
        return [
            ("fangpin_policy_info", "The policies in force (value 1), by id and sha256.",
             [((("policy", p.id), ("sha256", p.sha256)), 1.0)
              for p in snapshot.policies.values()]),
            ("fangpin_policy_files_refused", "Policy files refused at their last load "
             "(the policy loaded before, if any, keeps serving).",
             [((), float(len(snapshot.refused)))]),
            ("fangpin_policy_file_refused", "A refused policy file (value 1), by file.",
             [((("file", f),), 1.0) for f in snapshot.refused]),
            ("fangpin_region_table_info", "The region tables in force (value 1), by policy, "
             "file and sha256, with the number of regions.",
             [((("policy", pid), ("file", table.path), ("sha256", table.sha256),
                ("regions", str(len(table.regions)))), 1.0)
              for pid, table in sorted(snapshot.tables.items())]),
            ("fangpin_workers", "Worker processes whose counts these totals sum (every "
             "worker that has run, the replaced ones included).",
             [((), float(self.shared.workers() if self.shared else 1))]),
        ]

    def render_metrics(self) -> str:
        """The whole service's counts, whichever worker answers: its own live counts and the
        other workers' last written ones (metrics.SharedCounts)."""
        if self.shared is None:
            return self.metrics.render(self.gauges())
        self.shared.write()
        return self.metrics.render(self.gauges(), self.shared.others())

    # -- limits ---------------------------------------------------------------------------------
    async def read_body(self, request: Request) -> bytes:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise Problem("body-too-large", f"the body is {declared} bytes; the limit is "
                          f"{limit}", limit=limit)
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Problem("body-too-large", f"the body is more than {limit} bytes; the "
                                  f"limit is {limit}", limit=limit)
                parts.append(chunk)
        except ClientDisconnect:
            raise Problem("invalid-request", "the connection closed before the whole body "
                          "arrived", reason="body cut off") from None
        return b"".join(parts)

    async def in_thread(self, work: Callable[[], Any]) -> Any:
        """`work()` in a worker thread, within the time limit."""
        limit = self.config.time_limit_seconds
        try:
            with anyio.fail_after(limit if limit > 0 else None):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            raise Problem("time-limit", f"the request took longer than {limit:g} s; send "
                          "fewer households per request", limit_seconds=limit) from None

    async def run(self, work: Callable[[], Any], inline: bool) -> Any:
        """`work()` on the event loop when `inline` (a small request: see INLINE_BODY_BYTES),
        else in a worker thread within the time limit (`in_thread`)."""
        return work() if inline else await self.in_thread(work)

    def deadline(self) -> deciding.Deadline:
        return deciding.Deadline(self.config.time_limit_seconds)

    # -- counting and logging -----------------------------------------------------------------
    def record(self, outcome: deciding.Outcome, as_of: str) -> None:
        policy = outcome.policy.id if outcome.policy is not None else deciding.NO_POLICY
        if outcome.rejection is not None:
            self.metrics.count("fangpin_rejects_total", policy=policy)
            return
        self.metrics.count("fangpin_decisions_total", policy=policy)
        if self.decision_log is not None and outcome.policy is not None:
            assert outcome.decision_id is not None and outcome.decision is not None
            self.decision_log.write(outcome.decision_id, outcome.policy.ref, as_of,
                                    outcome.household, outcome.decision)

    def close(self) -> None:
        self.registry.stop()
        if self.shared is not None:
            self.shared.stop()
        if self.decision_log is not None:
            self.decision_log.close()


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def create_app(config: ServiceConfig, registry: Registry | None = None) -> FastAPI:
    """The application for `config` (`registry`: one loaded already, as the CLI does to refuse
    to start on a broken policy)."""
    service = Service(config, registry)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.registry.watch(config.reload_interval_seconds)
        if service.shared is not None:
            service.shared.start()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(title="fangpin-rules decision service", version="1",
                  description="Decisions of the return-to-poverty prevention policy "
                  "(防止返贫动态监测和帮扶机制) over HTTP: docs/service.md.",
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"],
                           expose_headers=["X-Decision-Id"])
    app.add_middleware(_Front, service=service)

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        if exc.policy_id is not None:
            service.metrics.count("fangpin_rejects_total", policy=exc.policy_id)
        headers = {"WWW-Authenticate": "Bearer"} if exc.kind == "unauthorized" else None
        return problem_response(exc, request.url.path, headers)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> Response:
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code,
                                                               "invalid-request")
        detail = {404: f"no resource at {request.url.path}",
                  405: f"{request.method} is not allowed on {request.url.path}"}.get(
                      exc.status_code, str(exc.detail))
        return problem_response(Problem(kind, detail), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()))
        return problem_response(Problem("invalid-request", str(first.get("msg", "invalid")),
                                        field=field or None,
                                        reason=str(first.get("msg", ""))), request.url.path)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s: %s", mask_id_numbers(request.url.path),
                  type(exc).__name__, exc_info=exc)
        return problem_response(Problem("internal", "the service failed on this request; "
                                        "the error is in its log"), request.url.path)

    # -- probes and metrics -------------------------------------------------------------------
    @app.get("/health", tags=["operations"])
    async def health() -> Response:
        return Response(_text({"status": "ok"}), media_type=JSON_TYPE)

    @app.get("/ready", tags=["operations"])
    async def ready() -> Response:
        snapshot = service.registry.current
        policies = [{"id": p.id, "sha256": p.sha256} for p in snapshot.policies.values()]
        refused = [r.to_json() for r in snapshot.refused.values()]
        if not snapshot.policies or refused:
            detail = "no policy is loaded" if not snapshot.policies else \
                f"{len(refused)} policy file(s) refused; the policies loaded keep serving"
            return problem_response(Problem("not-ready", detail, policies=policies,
                                            refused=refused), "/ready")
        return Response(_text({"status": "ready", "policies": policies, "refused": []}),
                        media_type=JSON_TYPE)

    @app.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        return Response(service.render_metrics(), media_type=METRICS_TYPE)

    # -- policies and schemas -----------------------------------------------------------------
    @app.get("/v1/policies", tags=["policies"])
    async def policies() -> Response:
        snapshot = service.registry.current
        listed = [_summary(p, snapshot) for _, p in sorted(snapshot.policies.items())]
        return Response(_text({"policies": listed}), media_type=JSON_TYPE)

    @app.get("/v1/policies/{policy_id}", tags=["policies"])
    async def policy_detail(policy_id: str) -> Response:
        from fangpin_rules.audit.effective import describe

        policy = service.registry.current.policies.get(policy_id)
        if policy is None:
            raise Problem("unknown-policy", f"no policy '{policy_id}' is loaded",
                          field="policy", reason="unknown policy id")
        body = {**_summary(policy, service.registry.current),
                "effective_policy": describe(policy.checked)}
        return Response(_text(body), media_type=JSON_TYPE)

    @app.get("/v1/schema/{which}", tags=["schemas"])
    async def schema(which: str) -> Response:
        models = openapi.contract_models()
        if which not in models:
            raise Problem("not-found", f"no schema '{which}'; the schemas are: "
                          + ", ".join(models), field="which", reason="unknown schema")
        return Response(_text(models[which].model_json_schema()), media_type=JSON_TYPE)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> Response:
        return Response(_text(openapi.document(app)), media_type=JSON_TYPE)

    # -- deciding -----------------------------------------------------------------------------
    @app.post("/v1/decide", tags=["decisions"])
    async def decide(request: Request) -> Response:
        media = _media_type(request)
        if media not in (JSON_TYPE, *NDJSON_TYPES, arrow_batches.ARROW_STREAM_TYPE):
            raise Problem("unsupported-media-type", f"send {JSON_TYPE} (one household or a "
                          f"batch), application/x-ndjson (one household a line) or "
                          f"{arrow_batches.ARROW_STREAM_TYPE} (a table of households), not "
                          f"'{media or 'none'}'", field="Content-Type",
                          reason="unsupported media type")
        if media == arrow_batches.ARROW_STREAM_TYPE and not arrow_batches.available():
            raise Problem("unsupported-media-type", arrow_batches.COLUMNAR_NEEDED,
                          field="Content-Type", reason="Arrow batches not installed")
        body = await service.read_body(request)
        snapshot = service.registry.current  # this request's policies, to its end
        if media in NDJSON_TYPES:
            return _ndjson(request, body, snapshot)
        if media == arrow_batches.ARROW_STREAM_TYPE:
            return await _arrow(request, body, snapshot)
        inline = len(body) <= INLINE_BODY_BYTES
        envelope = await service.run(lambda: deciding.read_envelope(
            deciding.parse_body(body), max_batch=config.max_batch), inline)
        if envelope.households is None:
            return await _single(envelope, snapshot, inline)
        return await _batch(envelope, snapshot, inline)

    async def _single(envelope: deciding.Envelope, snapshot: Snapshot, inline: bool
                      ) -> Response:
        policy, decision = await service.run(lambda: deciding.decide_one(snapshot, envelope),
                                             inline)
        decision_id = deciding.new_id()
        decision_bytes = deciding.writer_of(policy).encode(decision)
        service.record(deciding.Outcome(0, policy, decision_id, decision_bytes,
                                        household=envelope.household),
                       envelope.as_of.isoformat())
        body = deciding.encode_answer({"decision": msgspec.Raw(decision_bytes),
                                       "policy": policy.ref, "decision_id": decision_id})
        return Response(body, media_type=JSON_TYPE, headers={"X-Decision-Id": decision_id})

    async def _batch(envelope: deciding.Envelope, snapshot: Snapshot, inline: bool
                     ) -> Response:
        batch_id = deciding.new_id()
        households = envelope.households or []
        deadline = service.deadline()

        def work() -> list[deciding.Outcome]:
            return list(deciding.decide_items(
                snapshot, envelope.as_of, envelope.policy_id, envelope.cases,
                iter(enumerate(households, start=1)), batch_id, deadline))

        outcomes = await service.run(work, inline)
        as_of = envelope.as_of.isoformat()
        for outcome in outcomes:
            service.record(outcome, as_of)
        decided = [o.to_json() for o in outcomes if o.rejection is None]
        rejected = [o.to_json() for o in outcomes if o.rejection is not None]
        body = deciding.encode_answer({"decisions": decided, "rejects": rejected,
                      "counts": {"read": len(outcomes), "decided": len(decided),
                                 "rejected": len(rejected)}})
        return Response(body, media_type=JSON_TYPE, headers={"X-Decision-Id": batch_id})

    def _batch_query(request: Request, kind: str) -> tuple[Any, str | None]:
        """(as_of, policy) of a batch whose body is all households (NDJSON, Arrow)."""
        query = request.query_params
        unknown = sorted(set(query) - {"as_of", "policy"})
        if unknown:
            raise Problem("invalid-request", f"unknown query parameter '{unknown[0]}'; an "
                          f"{kind} batch takes as_of and policy", field=unknown[0],
                          reason="unknown query parameter")
        return deciding._as_of(query.get("as_of")), query.get("policy")

    async def _arrow(request: Request, body: bytes, snapshot: Snapshot) -> Response:
        """An Arrow IPC stream of households, decided in columns in a worker thread (within
        the time limit), answered with an Arrow IPC stream of decisions."""
        as_of, policy_id = _batch_query(request, "Arrow")
        if policy_id is not None:
            deciding.named_policy(snapshot, policy_id, as_of)  # a Problem before reading
        batch_id = deciding.new_id()
        deadline = service.deadline()
        logged = service.decision_log is not None

        def work() -> arrow_batches.ArrowAnswer:
            return arrow_batches.decide_stream(
                snapshot, as_of, policy_id, arrow_batches.read_stream(body), batch_id,
                deadline, max_batch=config.max_batch, keep_outcomes=logged)

        answer = await service.in_thread(work)
        day = as_of.isoformat()
        for outcome in answer.outcomes:  # counted and logged as a JSON batch's decisions
            service.record(outcome, day)
        for policy_id_of, count in answer.decided_by.items():
            if not logged:
                service.metrics.count("fangpin_decisions_total", count,
                                      policy=policy_id_of or deciding.NO_POLICY)
        for policy_id_of, count in answer.rejected_by.items():
            service.metrics.count("fangpin_rejects_total", count,
                                  policy=policy_id_of or deciding.NO_POLICY)
        return Response(answer.body, media_type=arrow_batches.ARROW_STREAM_TYPE,
                        headers={"X-Decision-Id": batch_id})

    def _ndjson(request: Request, body: bytes, snapshot: Snapshot) -> Response:
        as_of, policy_id = _batch_query(request, "NDJSON")
        items = deciding.ndjson_items(body)
        if len(items) > config.max_batch:
            raise Problem("batch-too-large", f"the batch holds {len(items)} households; the "
                          f"limit is {config.max_batch}", limit=config.max_batch)
        if policy_id is not None:
            deciding.named_policy(snapshot, policy_id, as_of)  # a Problem before streaming
        batch_id = deciding.new_id()
        deadline = service.deadline()
        return StreamingResponse(_stream(snapshot, as_of, policy_id, items, batch_id,
                                         deadline), media_type="application/x-ndjson",
                                 headers={"X-Decision-Id": batch_id})

    def _stream(snapshot: Snapshot, as_of: Any, policy_id: str | None,
                items: list[tuple[int, str]], batch_id: str,
                deadline: deciding.Deadline) -> Iterator[bytes]:
        """The answer's lines in input order, a chunk at a time (each chunk decided in a
        worker thread as the client reads), then the counts."""
        decided = rejected = 0
        lines: list[bytes] = []
        day = as_of.isoformat()
        outcomes = deciding.decide_items(snapshot, as_of, policy_id, {}, iter(items),
                                         batch_id, deadline)
        problem: Problem | None = None
        try:
            for outcome in outcomes:
                service.record(outcome, day)
                if outcome.rejection is None:
                    decided += 1
                    lines.append(deciding.encode_answer(outcome.to_json()))
                else:
                    rejected += 1
                    lines.append(deciding.encode_answer({"line": outcome.line,
                                                         "reject": outcome.to_json()}))
                if len(lines) >= STREAM_BATCH:
                    yield b"\n".join(lines) + b"\n"
                    lines = []
        except Problem as exc:  # the time limit: the status is sent already; say it here
            problem = exc
        counts: dict[str, Any] = {"read": decided + rejected, "decided": decided,
                                  "rejected": rejected}
        if problem is not None:
            counts["not_read"] = len(items) - decided - rejected
            lines.append(deciding.encode_answer({"problem": masked(problem.to_json(
                "/v1/decide"))}))
        lines.append(deciding.encode_answer({"counts": counts}))
        yield b"\n".join(lines) + b"\n"

    @app.post("/v1/explain", tags=["decisions"])
    async def explain(request: Request) -> Response:
        from fangpin_rules.explain import render_text

        if _media_type(request) != JSON_TYPE:
            raise Problem("unsupported-media-type", f"send {JSON_TYPE}", field="Content-Type",
                          reason="unsupported media type")
        body = await service.read_body(request)
        snapshot = service.registry.current
        envelope = await service.run(lambda: deciding.read_envelope(
            deciding.parse_body(body), explain=True, max_batch=config.max_batch),
            len(body) <= INLINE_BODY_BYTES)

        def work() -> tuple[Any, dict[str, Any], str]:
            policy, account = deciding.explain_one(snapshot, envelope)
            return policy, account, render_text(account)

        policy, account, text = await service.in_thread(work)
        return Response(_text({"explanation": account, "text": text, "policy": policy.ref}),
                        media_type=JSON_TYPE)

    return app


def _summary(policy: Any, snapshot: Snapshot) -> dict[str, Any]:
    from fangpin_rules.policy.document import localized

    meta = policy.checked.document.policy
    inheritance = policy.checked.inheritance
    table = snapshot.tables.get(policy.id)
    regions = {"region_table": {"path": table.path, "sha256": table.sha256,
                                "regions": sorted(table.regions)}} if table else {}
    return {"id": meta.id, "title": localized(meta.title, "zh"),
            "title_en": localized(meta.title, "en"), "version": meta.version,
            "jurisdiction": meta.jurisdiction, "document": meta.document,
            "effective": meta.effective, "sha256": policy.sha256, "path": policy.path,
            "extends": [link.id for link in inheritance.chain[:-1]] if inheritance else [],
            **regions}


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


class _Front:
    """In front of every route (a plain ASGI middleware, so the time includes streaming the
    answer): refuses a request without a valid token, counts every request by endpoint and
    status, and times it."""

    def __init__(self, app: Callable[..., Awaitable[None]], service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            if status.get("gone"):
                return
            try:
                await send(message)
            except Exception as exc:  # the transport's: the client went away mid-answer
                status["gone"] = status["code"] = CLIENT_GONE
                log.warning("the client closed the connection before the answer to %s was "
                            "sent (%s)", _endpoint(scope), type(exc).__name__)

        try:
            tokens = self.service.tokens
            if tokens is not None and scope["path"] not in OPEN_PATHS and \
                    not token_accepted(_header(scope, b"authorization"), tokens):
                problem = Problem("unauthorized", "send `Authorization: Bearer <token>` with "
                                  "a token from the service's tokens file")
                refused = problem_response(problem, scope["path"],
                                           {"WWW-Authenticate": "Bearer"})
                await refused(scope, receive, sending)
                return
            await self.app(scope, receive, sending)
        finally:
            endpoint = _endpoint(scope)
            metrics = self.service.metrics
            metrics.count("fangpin_requests_total", endpoint=endpoint,
                          status=str(status["code"]))
            metrics.observe(time.perf_counter() - started, endpoint=endpoint)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _endpoint(scope: Scope) -> str:
    """The route's template (`/v1/policies/{policy_id}`), never the raw path: labels stay few
    and no text a client made up is echoed into the metrics."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def serving_process(app: FastAPI) -> FastAPI:
    """`app`, for a process that runs nothing else (`fangpin serve` and each of its workers):
    what is loaded (the policies, their compiled code, the modules) is frozen out of the
    garbage collector's reach, and again after each reload, which first gives back what was
    frozen so that a replaced policy is collected (`freeze_loaded`). A batch's full collections
    then scan only what it made: measured, batches of 5,000 households from one client were
    decided at 15,600-16,000 households per server CPU-second, and 16,900-17,000 frozen
    (docs/service.md). An app embedded in another process is left as it is: freezing is that
    process's decision."""
    service: Service = app.state.service
    service.registry.on_swap = freeze_loaded
    freeze_loaded()
    return app


def app_from_environment() -> FastAPI:
    """The application of a worker process (`fangpin serve --workers N`), configured by the
    parent through the environment."""
    return serving_process(create_app(ServiceConfig.from_json(os.environ[CONFIG_ENV])))
