"""`fangpin serve POLICY_DIR_OR_FILE… [--host 127.0.0.1] [--port 8000] [--workers N]`.

Answers decisions over HTTP (docs/service.md): POST /v1/decide and /v1/explain, the loaded
policies, the data contract's schemas, /health, /ready and /metrics. A folder gives its policy
files and those of its counties/ folder; a household goes to the most specific policy whose
jurisdiction covers its region_code, unless the request names one. Changed policy files are
checked and swapped in while serving; a broken one is refused and the old one keeps serving.
Needs the optional extra: pip install 'fangpin-rules[server]'.
Exit: 0 stopped, 2 usage or policy error (nothing is served from a policy that fails its check).
"""

from __future__ import annotations

import argparse
import os
import sys

from fangpin_rules.cli.common import EXIT_OK, EXIT_USAGE, UsageError, add_policy_path_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="answer decisions over HTTP (the [server] extra)",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", metavar="POLICY_DIR_OR_FILE")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="worker processes (each loads and reloads the policies itself)")
    parser.add_argument("--tokens", metavar="FILE",
                        help="require `Authorization: Bearer TOKEN`, one token a line in FILE")
    parser.add_argument("--decision-log", metavar="FILE",
                        help="append one JSON line per decision (ID numbers masked)")
    parser.add_argument("--max-body-bytes", type=int, default=16 * 1024 * 1024, metavar="N")
    parser.add_argument("--max-batch", type=int, default=10_000, metavar="N",
                        help="households in one batch request, at most")
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="SECONDS",
                        help="per request (0: none)")
    parser.add_argument("--reload-interval", type=float, default=1.0, metavar="SECONDS",
                        help="how often policy files are looked at for changes (0: never)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow browser calls from ORIGIN (repeatable; none by default)")
    add_policy_path_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from fangpin_rules.service.app import CONFIG_ENV, ServiceError, create_app
        from fangpin_rules.service.config import ServiceConfig
        from fangpin_rules.service.registry import Registry
    except ImportError as exc:
        raise UsageError(f"the server needs the optional extra ({exc.name} is missing): "
                         "pip install 'fangpin-rules[server]'") from None
    for name in ("port", "workers", "max_body_bytes", "max_batch"):
        value = getattr(args, name)
        if value < (0 if name == "port" else 1):
            raise UsageError(f"--{name.replace('_', '-')} must be "
                             f"{'0 or more' if name == 'port' else 'at least 1'}")
    config = ServiceConfig(
        sources=tuple(args.sources), policy_path=tuple(args.policy_path),
        max_body_bytes=args.max_body_bytes, max_batch=args.max_batch,
        time_limit_seconds=args.time_limit, reload_interval_seconds=args.reload_interval,
        tokens_file=args.tokens, decision_log=args.decision_log,
        cors_origins=tuple(args.cors_origin))
    registry = Registry(config.sources, config.policy_path)
    snapshot = registry.load()
    for refusal in snapshot.refused.values():
        print(f"fangpin serve: {refusal.message} ({refusal.errors} error(s)); "
              f"`fangpin check {refusal.file}` shows them all", file=sys.stderr)
    if snapshot.refused:
        return EXIT_USAGE
    if not snapshot.policies:
        raise UsageError("no policy file found in " + ", ".join(args.sources))
    for policy in snapshot.policies.values():
        print(f"policy {policy.id} ({policy.path}) sha256 {policy.sha256}", file=sys.stderr)
    log_config = {"version": 1, "disable_existing_loggers": False,
                  "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(message)s"}},
                  "handlers": {"stderr": {"class": "logging.StreamHandler",
                                          "formatter": "plain", "stream": "ext://sys.stderr"}},
                  "loggers": {"fangpin": {"handlers": ["stderr"], "level": "INFO"},
                              "uvicorn": {"handlers": ["stderr"], "level": "INFO"},
                              "uvicorn.access": {"handlers": [], "level": "WARNING",
                                                 "propagate": False}}}
    try:
        if args.workers > 1:
            os.environ[CONFIG_ENV] = config.to_json()
            uvicorn.run("fangpin_rules.service.app:app_from_environment", factory=True,
                        host=args.host, port=args.port, workers=args.workers,
                        log_config=log_config)
        else:
            uvicorn.run(create_app(config, registry), host=args.host, port=args.port,
                        log_config=log_config)
    except ServiceError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK
