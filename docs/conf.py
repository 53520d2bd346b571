"""Sphinx configuration of the documentation site (`make docs`).

The guides stay Markdown (read by MyST, rendered right on GitHub too); the API reference comes
from the docstrings; the explorer of the province's policy is generated into the build
(`explorer/`) when the build finishes, from the policy file as it is now.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))  # the checkout's source, not an installed copy

from fangpin_rules import __version__  # noqa: E402

project = "fangpin-rules"
author = "fangpin-rules contributors"
release = version = __version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
language = "en"
html_theme = "alabaster"
html_static_path: list[str] = []
myst_heading_anchors = 3  # `[x](page.md#a-heading)` links resolve
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False

# The guides' own block names, which their tests find the examples by (a `calendar` block is
# run by tests/calendar/test_calendar_doc.py): shown as plain text.
PLAIN_BLOCKS = ("calendar", "calendar-with-overrides", "coverage-error", "csv", "error",
                "expression")

PROVINCE = ROOT / "policies" / "fujian_2021.yaml"


def _write_explorer(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from fangpin_rules import load_policy
    from fangpin_rules.explorer import collect, write_site
    from fangpin_rules.explorer.render import site_files

    write_site(site_files(collect(load_policy(PROVINCE).checked)),
               str(Path(app.outdir) / "explorer"))


def setup(app: Any) -> dict[str, Any]:
    from pygments.lexers.special import TextLexer

    for name in PLAIN_BLOCKS:
        app.add_lexer(name, TextLexer)
    app.connect("build-finished", _write_explorer)
    return {"parallel_read_safe": True}
