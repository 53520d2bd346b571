"""The decision service (`fangpin serve`): the engine over HTTP for systems that cannot import
Python, on FastAPI and uvicorn (the optional extra `fangpin-rules[server]`).

An interface, like the CLI: it imports the engine and nothing imports it. docs/service.md
describes the endpoints, routing, reload rules, limits and the decision log.
"""

from fangpin_rules.service.config import ServiceConfig

__all__ = ["ServiceConfig"]
