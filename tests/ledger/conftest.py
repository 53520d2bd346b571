"""A synthetic national-layout ledger written once for the ledger tests: xlsx, UTF-8 CSV,
UTF-8 CSV with BOM, GB18030 CSV, and its JSON-lines twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules.ledger.format import LedgerFormat, load_format
from fangpin_rules.ledger.synthetic import (
    SyntheticLedger,
    synthetic_ledger,
    write_csv,
    write_jsonl,
    write_xlsx,
)

HOUSEHOLDS = 60


@pytest.fixture(scope="session")
def national() -> LedgerFormat:
    return load_format()


@pytest.fixture(scope="session")
def ledger() -> SyntheticLedger:
    return synthetic_ledger(HOUSEHOLDS, seed=7)


@pytest.fixture(scope="session")
def ledger_files(ledger: SyntheticLedger, tmp_path_factory: pytest.TempPathFactory
                 ) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ledger")
    files = {"xlsx": folder / "ledger.xlsx", "UTF-8": folder / "utf8.csv",
             "UTF-8 with BOM": folder / "bom.csv", "GB18030": folder / "gb.csv",
             "jsonl": folder / "twin.jsonl"}
    write_xlsx(ledger, files["xlsx"])
    write_csv(ledger, files["UTF-8"], "utf-8")
    write_csv(ledger, files["UTF-8 with BOM"], "utf-8-sig")
    write_csv(ledger, files["GB18030"], "gb18030")
    write_jsonl(ledger, files["jsonl"])
    return files
