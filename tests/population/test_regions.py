"""Region codes below the county: levels, prefixes, padding, the contract and the region
table's lookup by a township's or village's code."""

from __future__ import annotations

from typing import Any

import pytest

from fangpin_rules.engine import RecordError
from fangpin_rules.engine.records import validate
from fangpin_rules.population.regions import (
    RegionCodeError,
    at_level,
    level_of,
    normalize,
    parent,
    row_region,
)

from support import ROOT


def test_levels_and_prefixes() -> None:
    assert [level_of(c) for c in ("350181", "350181101", "350181101201")] == [
        "county", "township", "village"]
    assert at_level("350181101201", "township") == "350181101"
    assert at_level("350181101201", "county") == "350181"
    assert at_level("350181", "village") is None
    assert parent("350181101201") == "350181101"
    assert parent("350181101") == "350181"
    assert parent("350181") is None


def test_zero_padding_names_the_coarser_level() -> None:
    assert normalize("350181101000") == "350181101"
    assert normalize("350181000000") == "350181"
    assert level_of("350181101000") == "township"
    assert row_region("350181000000", "village") == "350181"
    assert row_region(None, "township") == "unknown"


@pytest.mark.parametrize("bad", ["35018", "3501811", "35018110120", "3501811012011",
                                 "35018a101201", ""])
def test_a_code_of_another_length_is_refused(bad: str) -> None:
    with pytest.raises(RegionCodeError, match="6 digits"):
        normalize(bad)


def test_the_contract_takes_6_9_or_12_digits(records_md_household: dict[str, Any]) -> None:
    for code in ("350181", "350181101", "350181101201"):
        assert validate({**records_md_household, "region_code": code}).region_code == code
    with pytest.raises(RecordError) as caught:
        validate({**records_md_household, "region_code": "3501811"})
    assert caught.value.rejection.field == "region_code"


def test_a_village_is_decided_with_its_countys_region_table(
        fujian: Any, records_md_household: dict[str, Any]) -> None:
    from fangpin_rules.engine.regions import load_regions

    regional = load_regions(fujian, ROOT / "policies" / "regions" / "fujian_example_regions.yaml")
    county = next(iter(regional.regions))
    village = {**records_md_household, "region_code": county + "101201"}
    as_county = {**records_md_household, "region_code": county}
    assert regional.evaluate(village, "2021-11-30") == regional.evaluate(as_county,
                                                                         "2021-11-30")
