"""Errors as RFC 9457 problem details (`application/problem+json`): a stable `type` URI per
kind of problem, the HTTP status, what went wrong, and for bad input the `field` and `reason`.
Never a stack trace; a bad input is never a 500."""

from __future__ import annotations

from typing import Any

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "urn:fangpin:problem:"

# kind -> (status, title). The kinds are part of the API: clients may switch on them.
KINDS: dict[str, tuple[int, str]] = {
    "invalid-json": (400, "The body is not valid JSON"),
    "invalid-request": (422, "The request is not of the expected shape"),
    "invalid-household": (422, "The household does not satisfy the data contract"),
    "invalid-case": (422, "A case record does not satisfy the data contract"),
    "undecidable": (422, "The policy cannot decide this household"),
    "invalid-date": (422, "The policy cannot decide on this date"),
    "no-policy": (422, "No policy covers this household"),
    "unknown-policy": (404, "No policy with this id is loaded"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed here"),
    "unauthorized": (401, "A valid bearer token is required"),
    "body-too-large": (413, "The request body is larger than the limit"),
    "batch-too-large": (413, "The batch holds more households than the limit"),
    "unsupported-media-type": (415, "Unsupported content type"),
    "time-limit": (503, "The request took longer than the time limit"),
    "not-ready": (503, "Not every policy file is loaded"),
    "internal": (500, "Internal error"),
}


class Problem(Exception):
    """An error answered as problem+json."""

    def __init__(self, kind: str, detail: str, *, field: str | None = None,
                 reason: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status, self.title = KINDS[kind]
        self.detail = detail
        self.field = field
        self.reason = reason
        self.extra = extra
        self.policy_id: str | None = None  # the policy that rejected the household, if any

    def to_json(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": TYPE_BASE + self.kind, "title": self.title,
                                "status": self.status, "detail": self.detail}
        if instance is not None:
            body["instance"] = instance
        if self.field is not None:
            body["field"] = self.field
        if self.reason is not None:
            body["reason"] = self.reason
        body.update(self.extra)
        return body
