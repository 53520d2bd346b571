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

from fangpin_rules.diagnostics import Location, PolicyError, error
from fangpin_rules.policy.inherit import SEARCH_PATH_ENV, find_by_id, policy_ids, search_path

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
    else among the shipped policies. Raises PolicyError for an id found nowhere, naming the
    ids there are."""
    if name.endswith((".yaml", ".yml")) or not _POLICY_ID.match(name) or Path(name).exists():
        return name
    first, last = search_path(extra_path)
    shipped = bundled_policies()
    folders = [*first, *last, *([shipped / sub for sub in _ID_FOLDERS] if shipped else [])]
    for folder in folders:
        found = find_by_id(name, folder)
        if found is not None:
            return found
    known = sorted({found for folder in folders for found in policy_ids(folder)})
    raise PolicyError([error(
        "file-not-found", f"policy file '{name}' does not exist, and no policy has that id",
        Location(name, 0, 0),
        hint="give the path of a .yaml file, or a policy id"
        + (f": {', '.join(known)}" if known else "") + " (ids are looked up in --policy-path, "
        f"${SEARCH_PATH_ENV} and the policies the package ships)")])
