"""Deciding whole tables: Apache Arrow batches, Polars frames and Parquet files.

`arrow` holds the Arrow types of the contract and `decide_batch`, the entry point; `engine`
decides a batch in columns with the policy's Polars query (compiler/polars_backend.py). Polars
and pyarrow are optional extras and are imported only when a batch is decided.
"""

from fangpin_rules.columnar.arrow import (
    ENGINES,
    BatchResult,
    arrow_decision,
    decide_batch,
    input_schema,
    output_schema,
    records_to_arrow,
    rejects_schema,
)

__all__ = [
    "ENGINES",
    "BatchResult",
    "arrow_decision",
    "decide_batch",
    "input_schema",
    "output_schema",
    "records_to_arrow",
    "rejects_schema",
]
