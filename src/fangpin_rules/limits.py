"""Every bound on what a run reads, in one place (docs/security.md lists them).

A bound turns input that would exhaust memory or never end into a positioned error that says
which limit was met; the values are far above any real policy or table.
"""

from __future__ import annotations

#: A policy file (YAML) and a YAML region table: bytes read at most.
MAX_POLICY_FILE_BYTES = 5_000_000

#: A CSV region table: bytes read at most, data rows, cells in one row, characters in one cell.
MAX_TABLE_FILE_BYTES = 50_000_000
MAX_TABLE_ROWS = 200_000
MAX_TABLE_COLUMNS = 50
MAX_TABLE_CELL_CHARS = 10_000

#: The text of `extends:` (a policy id or a relative path), in characters; an id with
#: ".yaml" after it still fits in one file name (255 bytes on common file systems).
MAX_EXTENDS_CHARS = 200

#: A spreadsheet ledger (.xlsx or .csv): bytes read at most, and rows of its sheet.
MAX_LEDGER_FILE_BYTES = 500_000_000
MAX_LEDGER_ROWS = 2_000_000
