"""What one running service is told: its policy sources, limits, access and logging."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServiceConfig:
    sources: tuple[str, ...]  # policy files and folders, as given on the command line
    policy_path: tuple[str, ...] = ()  # where a base named by id in `extends:` is looked for
    max_body_bytes: int = 16 * MIB
    max_batch: int = 10_000
    time_limit_seconds: float = 30.0
    reload_interval_seconds: float = 1.0  # 0: no hot reload
    tokens_file: str | None = None
    decision_log: str | None = None
    cors_origins: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # region tables (`--regions`), each for the policy it names
    metrics_dir: str | None = None  # with --workers N: where the workers share their counts

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        data = json.loads(text)
        for key in ("sources", "policy_path", "cors_origins", "regions"):
            data[key] = tuple(data[key])
        return cls(**data)
