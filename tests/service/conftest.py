"""The server the service's tests share (one per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service_support import TOKEN, Server, copy_policies, start_server, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The province and its counties, with a token, a decision log and small limits."""
    folder = tmp_path_factory.mktemp("serve")
    copy_policies(folder)
    (folder / "tokens.txt").write_text(f"# the test's token\n{TOKEN}\n", encoding="utf-8")
    running = start_server(["policies", "--tokens", "tokens.txt", "--decision-log",
                            "decisions.log", "--max-body-bytes", "300000", "--max-batch",
                            "300", "--reload-interval", "0"], folder)
    yield running
    stop(running)
