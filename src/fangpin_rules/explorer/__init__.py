"""The policy explorer: a static site of one policy, its articles' texts with what encodes them.

`collect` reads a checked policy into pages of plain data (`content`), `render` turns them into
HTML with every policy text escaped, and `write_site` puts the folder in place atomically.
"""

from fangpin_rules.explorer.content import Explorer, Item, collect
from fangpin_rules.explorer.render import render_index
from fangpin_rules.explorer.write import SiteRefused, write_site

__all__ = ["Explorer", "Item", "SiteRefused", "collect", "render_index", "write_site"]
