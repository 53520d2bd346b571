"""`fangpin serve POLICY_DIR_OR_FILE… [--host 127.0.0.1] [--port 8000] [--workers N]`.

Answers decisions over HTTP (docs/service.md): POST /v1/decide and /v1/explain, the loaded
policies, the data contract's schemas, /health, /ready and /metrics. A folder gives its policy
files and those of its counties/ folder; a household goes to the most specific policy whose
jurisdiction covers its region_code, unless the request names one. Changed policy files are
checked and swapped in while serving; a broken one is refused and the old one keeps serving.
--regions TABLE decides the households of the policy the table names with their region's
values, as `fangpin eval --regions` does. With --workers N, /metrics sums every worker's counts.
Needs the optional extra: pip install 'fangpin-rules[server]'.
Exit: 0 stopped, 2 usage or policy error (nothing is served from a policy that fails its check).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from fangpin_rules.cli.common import EXIT_OK, EXIT_USAGE, UsageError, add_policy_path_option
from fangpin_rules.service.config import ServiceConfig


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
    parser.add_argument("--regions", action="append", default=[], metavar="TABLE",
                        help="a region table (YAML or CSV) for the policy it names, as "
                        "`fangpin eval --regions` uses it (repeatable: one per policy)")
    parser.add_argument("--metrics-dir", metavar="DIR",
                        help="with --workers N: the folder where the workers share their "
                        "counts for /metrics (default: a temporary folder)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow browser calls from ORIGIN (repeatable; none by default)")
    add_policy_path_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401 - the extra is there, or say so

        from fangpin_rules.service import app  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the server needs the optional extra ({exc.name} is missing): "
                         "pip install 'fangpin-rules[server]'") from None
    for name in ("port", "workers", "max_body_bytes", "max_batch"):
        value = getattr(args, name)
        if value < (0 if name == "port" else 1):
            raise UsageError(f"--{name.replace('_', '-')} must be "
                             f"{'0 or more' if name == 'port' else 'at least 1'}")
    metrics_dir, made = _metrics_dir(args)
    config = ServiceConfig(
        sources=tuple(args.sources), policy_path=tuple(args.policy_path),
        max_body_bytes=args.max_body_bytes, max_batch=args.max_batch,
        time_limit_seconds=args.time_limit, reload_interval_seconds=args.reload_interval,
        tokens_file=args.tokens, decision_log=args.decision_log,
        cors_origins=tuple(args.cors_origin), regions=tuple(args.regions),
        metrics_dir=metrics_dir)
    try:
        return _serve(args, config)
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)


def _metrics_dir(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The folder the workers share their counts in (None with one worker), and the one made
    for this run, to remove at its end. Counts a previous run left there are removed: the
    totals are this run's."""
    if args.metrics_dir is None and args.workers == 1:
        return None, None
    if args.metrics_dir is None:
        made = tempfile.mkdtemp(prefix="fangpin-metrics-")
        return made, made
    folder = Path(args.metrics_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("worker-*.json"):
            stale.unlink()
    except OSError as exc:
        raise UsageError(f"--metrics-dir {args.metrics_dir}: {exc.strerror}") from None
    return str(folder), None


def _serve(args: argparse.Namespace, config: ServiceConfig) -> int:
    import uvicorn

    from fangpin_rules.service.app import CONFIG_ENV, ServiceError, create_app, serving_process
    from fangpin_rules.service.registry import Registry

    registry = Registry(config.sources, config.policy_path, regions=config.regions)
    snapshot = registry.load()
    for refusal in snapshot.refused.values():
        shows = (f"fangpin check POLICY --regions {refusal.file}"
                 if refusal.file in registry.regions else f"fangpin check {refusal.file}")
        print(f"fangpin serve: {refusal.message} ({refusal.errors} error(s)); "
              f"`{shows}` shows them all", file=sys.stderr)
    if snapshot.refused:
        return EXIT_USAGE
    if not snapshot.policies:
        raise UsageError("no policy file found in " + ", ".join(args.sources))
    for policy in snapshot.policies.values():
        print(f"policy {policy.id} ({policy.path}) sha256 {policy.sha256}", file=sys.stderr)
    for policy_id, table in snapshot.tables.items():
        print(f"region table {table.path} for policy {policy_id}: {len(table.regions)} "
              f"region(s), sha256 {table.sha256}", file=sys.stderr)
    log_config = {"version": 1, "disable_existing_loggers": False,
                  "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(message)s"}},
                  "handlers": {"stderr": {"class": "logging.StreamHandler",
                                          "formatter": "plain", "stream": "ext://sys.stderr"}},
                  "loggers": {"fangpin": {"handlers": ["stderr"], "level": "INFO"},
                              "uvicorn": {"handlers": ["stderr"], "level": "INFO"},
                              "uvicorn.access": {"handlers": [], "level": "WARNING",
                                                 "propagate": False}}}
    try:
        # HTTP parsed by h11 even where httptools is installed (fastapi[standard] brings it):
        # uvicorn's httptools path drops the body of a request that offers an h2c upgrade
        # (Kludex/uvicorn#2722), and every stock Java HttpClient offers one.
        options = {"host": args.host, "port": args.port, "http": "h11",
                   "log_config": log_config}
        if args.workers > 1:
            os.environ[CONFIG_ENV] = config.to_json()
            uvicorn.run("fangpin_rules.service.app:app_from_environment", factory=True,
                        workers=args.workers, **options)
        else:
            uvicorn.run(serving_process(create_app(config, registry)), **options)
    except ServiceError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK
