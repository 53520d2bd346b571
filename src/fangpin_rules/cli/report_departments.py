"""`fangpin report departments POLICY HOUSEHOLDS --month YYYY-MM -o FOLDER`: one list per
sector department of the month's identifications and eliminations (§6), a file per department
(`<department>.<json|csv|md>`) in FOLDER (population/departments.py). With `--previous FILE`
(last month's households) the households whose risks or measures in a department's remit
changed are listed too."""

from __future__ import annotations

import argparse
import os

_SUFFIX = {"json": "json", "csv": "csv", "markdown": "md"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fangpin_rules.cli.report import add_inputs

    parser = sub.add_parser("departments", help="the departments' monthly lists (§6)",
                            description=__doc__)
    add_inputs(parser, quarter=False)
    parser.add_argument("--previous", metavar="FILE",
                        help="last month's households: changes in a remit are listed too")
    parser.add_argument("-o", "--output", metavar="FOLDER", required=True,
                        help="the folder the lists are written into (created if missing)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.common import UsageError, policy_files
    from fangpin_rules.cli.outputs import check_collisions
    from fangpin_rules.cli.report import report_run
    from fangpin_rules.population.deciding import month
    from fangpin_rules.population.departments import (
        department_lists,
        previous_of,
        remits,
    )
    from fangpin_rules.population.tables import render_listing

    folder = args.output
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"-o '{folder}' is not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the folder '{folder}': {exc.strerror}") from None
    suffix = _SUFFIX[args.format]
    # The file names are the department labels of the loaded policy, which the checker
    # allows only as plain identifiers: none can reach outside the folder.
    with report_run(args, "departments", {}, (args.previous,)) as (report, files):
        targets = {name: os.path.join(folder, f"{name}.{suffix}")
                   for name in remits(report.policy)}
        check_collisions({"the policy": policy_files(report.policy),
                          "the households": [args.households, args.previous],
                          "the cases": [args.cases]},
                         {f"-o ({name})": path for name, path in targets.items()})
        previous = None
        if args.previous:
            last = report.period.first.replace(day=1)
            before = month(f"{last.year - (last.month == 1)}-"
                           f"{12 if last.month == 1 else last.month - 1:02d}")
            previous = previous_of(report.households(args.previous, period=before))
        lists = department_lists(report.policy, report.households(args.households),
                                 report.period, previous=previous)
        for name, listing in lists.items():
            files.open(targets[name]).write(render_listing(listing, args.format))
        report.notes.append(f"{len(lists)} department lists written to {folder}")
    return report.finish()
