"""The policies the package ships, and a policy named by its id instead of a path.

An installed package carries the repository's `policies/` folder (the province's policy, the
example county files, region tables and the policy test files) as `fangpin_rules/policies/`;
run from a checkout, that folder is the repository's own `policies/`. So
`load_policy("fujian-2021")` and `fangpin check fujian-2021` work anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from fangpin_rules.policy.inherit import find_by_id, search_path

_PACKAGE = Path(__file__).resolve().parents[1]
_POLICY_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")  # as `policy: id:` allows
_ID_FOLDERS = (".", "counties")  # where in the shipped folder a policy is looked up by id


def bundled_policies() -> Path | None:
    """The folder of the shipped policies: in the installed package, or the checkout's."""
    installed = _PACKAGE / "policies"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "policies").is_dir():
        return checkout / "policies"
    return None


def policy_file(name: str, extra_path: Sequence[str | Path] = ()) -> str:
    """The file `name` stands for: itself when it is a path or an existing file; for a policy
    id, the file with that id in the search path (`extra_path`, then $FANGPIN_POLICY_PATH) or
    else among the shipped policies. An id found nowhere is returned as it is, so that reading
    it reports the missing file as for any path."""
    if name.endswith((".yaml", ".yml")) or not _POLICY_ID.match(name) or Path(name).exists():
        return name
    first, last = search_path(extra_path)
    shipped = bundled_policies()
    folders = [*first, *last, *([shipped / sub for sub in _ID_FOLDERS] if shipped else [])]
    for folder in folders:
        found = find_by_id(name, folder)
        if found is not None:
            return found
    return name
