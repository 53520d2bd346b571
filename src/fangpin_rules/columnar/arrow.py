"""Deciding Apache Arrow record batches: for data systems (Dask, Spark, Polars, DuckDB) that
hold records in columns and should not go through JSON text for each one.

    >>> from fangpin_rules import load_policy
    >>> from fangpin_rules.columnar import decide_batch, records_to_arrow
    >>> policy = load_policy("policies/fujian_2021.yaml")
    >>> table = records_to_arrow(policy, households)           # or any table of that schema
    >>> result = decide_batch(policy, table, as_of="2021-09-01")
    >>> result.decisions, result.rejects                        # two pyarrow Tables

Each row is read by the same typed reader as the streaming path (engine/typed_json.py; a row it
does not take is validated by pydantic) and decided by the same compiled function as
`Policy.evaluate`, so the decisions are those of the record path. Types:
- input: `input_schema(policy)`, derived from the record model (the contract's household, or
  the policy's declared schema); money, ratios and numbers are `decimal128(38, 10)` (exact;
  strings spelling a JSON number are accepted too), members are `list<struct>`. A null is an absent
  value, as an absent key is in JSON.
- output: `output_schema(policy)`, derived from the checked policy's decision types; decimals
  are exact decimal text (a quotient such as 10000/3 has 74 digits, more than decimal128 keeps),
  never float64; sets of labels are `list<string>`; object decisions are structs;
  `deadlines`, `overdue` and `violations` are lists of deadline structs (records.md,
  "Deadlines"), filled when the households' cases are given (`cases=`). The trace
  (explanations) is left out: ask the record API for it.

pyarrow is an optional extra: `pip install 'fangpin-rules[columnar]'`.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec

from fangpin_rules.engine.policy import Policy, parse_date
from fangpin_rules.engine.records import RecordError, checked_cases, refuse_unencodable
from fangpin_rules.engine.serialize import decimal_text
from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.language import types as t
from fangpin_rules.model import Case

if TYPE_CHECKING:
    import pyarrow as pa

    from fangpin_rules.engine.regions import RegionalPolicy

INPUT_DECIMAL = (38, 10)


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("Arrow batches need pyarrow: pip install 'fangpin-rules[columnar]'") \
            from None
    return pyarrow


@dataclass(frozen=True)
class BatchResult:
    decisions: pa.Table  # one row per decided record, in input order
    rejects: pa.Table  # row (0-based, in the batch), household_id, field, reason


def _arrow_type(pa: Any, kind: t.Type, *, output: bool) -> Any:
    kind = t.strip(kind)
    if kind == t.BOOL:
        return pa.bool_()
    if kind == t.COUNT:
        return pa.int64()
    if kind in t.NUMERIC:
        return pa.string() if output else pa.decimal128(*INPUT_DECIMAL)
    if kind == t.DATE:
        return pa.date32()
    if isinstance(kind, t.LabelSet):
        return pa.list_(pa.string())
    if isinstance(kind, t.ListOf):
        return pa.list_(_arrow_type(pa, kind.element, output=output))
    if isinstance(kind, t.Record):
        return pa.struct([pa.field(name, _arrow_type(pa, sub, output=output))
                          for name, sub in kind.fields.items()])
    return pa.string()  # strings, enums, durations


def input_schema(policy: Policy) -> pa.Schema:
    """The Arrow schema of the records the policy reads."""
    pa = _pyarrow()
    record = t.record_type(policy.checked.record_model)
    return pa.schema([pa.field(name, _arrow_type(pa, kind, output=False),
                               nullable=isinstance(kind, t.Opt))
                      for name, kind in record.fields.items()])


def in_input_types(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with each column `schema` names in the schema's type where it holds the same
    values in another layout (large or view strings and lists, dictionary-encoded values, a
    column of nulls) or in a narrower exact type (integers, decimals of at most the input's
    scale): what a Polars DataFrame's `to_arrow()`, a Parquet file Polars wrote or a pandas
    table give. The contract is then checked in columns, not row by row (a Polars frame's
    100,000 households took 2.3 against 0.3 CPU-s). A column of another type (floats, dates
    as text) is left as it is, and so is one whose values do not fit (a decimal beyond 28
    integer digits): the per-row reader takes or rejects each of its values, as before."""
    pa = _pyarrow()
    for index, field in enumerate(table.schema):
        at = schema.get_field_index(field.name)
        if at < 0 or field.type == schema.field(at).type or \
                not _same_values(field.type, schema.field(at).type):
            continue
        wanted = schema.field(at)
        try:  # (a safe cast: an overflow raises, nothing is truncated)
            column = table.column(index).cast(wanted.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        table = table.set_column(index, wanted, column)
    return table


def holds_texts(kind: Any) -> bool:
    """Whether an Arrow column of type `kind` holds texts the input schema's strings read
    alike: a string of any layout, or a dictionary of them (not a column of nulls)."""
    pa = _pyarrow()
    return not pa.types.is_null(kind) and _same_values(kind, pa.string())


def _same_values(given: Any, wanted: Any) -> bool:
    """Whether a cast from the Arrow type `given` to `wanted` (an input schema's) keeps every
    value as the per-row reader would read it from `given`, or raises."""
    types = _pyarrow().types
    if given == wanted or types.is_null(given):
        return True
    if types.is_dictionary(given):
        return _same_values(given.value_type, wanted)
    if types.is_string(wanted):
        return types.is_large_string(given) or _is(types, "string_view", given)
    if types.is_list(wanted):
        return (types.is_list(given) or types.is_large_list(given) or
                _is(types, "list_view", given) or _is(types, "large_list_view", given)) and \
            _same_values(given.value_type, wanted.value_type)
    if types.is_struct(wanted):
        return bool(types.is_struct(given)) and \
            [f.name for f in given] == [f.name for f in wanted] and \
            all(_same_values(g.type, w.type) for g, w in zip(given, wanted, strict=True))
    if types.is_decimal(wanted):  # a whole number, or fewer places: the same number
        return bool(types.is_integer(given) or
                    (types.is_decimal(given) and given.scale <= wanted.scale))
    if types.is_integer(wanted):
        return bool(types.is_integer(given))
    return False


def _is(types: Any, kind: str, given: Any) -> bool:
    """`pyarrow.types.is_<kind>(given)`, False where this pyarrow has no such type (the view
    layouts came with pyarrow 16)."""
    test = getattr(types, "is_" + kind, None)
    return bool(test(given)) if test is not None else False


def _deadline_type(pa: Any) -> Any:
    """One entry of `deadlines` (the dicts compiler/runtime.py makes)."""
    return pa.struct([("step", pa.string()), ("due", pa.date32()), ("done", pa.date32()),
                      ("status", pa.string()), ("late_working_days", pa.int64()),
                      ("cite", pa.string()), ("case_id", pa.string()),
                      ("reason", pa.string())])


PROCEDURE_KEYS = ("deadlines", "overdue", "violations")


def output_schema(policy: Policy) -> pa.Schema:
    """The Arrow schema of the decisions `decide_batch` returns."""
    pa = _pyarrow()
    head = [pa.field("household_id", pa.string()),
            pa.field("policy", pa.struct([("id", pa.string()), ("sha256", pa.string())])),
            pa.field("as_of", pa.string())]
    tail = [pa.field(key, pa.list_(_deadline_type(pa))) for key in PROCEDURE_KEYS]
    tail.append(pa.field("warnings", pa.list_(pa.struct(
        [("code", pa.string()), ("field", pa.string()), ("cite", pa.string())]))))
    return pa.schema(head + [pa.field(key, _arrow_type(pa, kind, output=True))
                             for key, kind in policy.checked.output_fields()] + tail)


def records_to_arrow(policy: Policy, records: Iterable[Any]) -> pa.Table:
    """A table of `input_schema(policy)` from records: dicts (e.g. parsed JSONL), validated
    here (by the typed reader, or pydantic for what it does not take; a bad one raises
    RecordError), or records validated already (the typed reader's or pydantic models)."""
    pa = _pyarrow()
    reader = typed_reader(policy.checked.record_model)
    schema = input_schema(policy)
    tables = []
    read: list[Any] = []
    number = 0
    for number, record in enumerate(records, start=1):
        typed = record if isinstance(record, msgspec.Struct) else \
            reader.convert(record) if reader is not None and isinstance(record, dict) else None
        read.append(policy.validate(record, number) if typed is None else typed)
        if len(read) == RECORD_CHUNK_ROWS:  # a chunk's records held at a time (_decide_rows)
            tables.append(_table_of_read(read, schema, number - len(read) + 1))
            read = []
    tables.append(_table_of_read(read, schema, number - len(read) + 1))
    return pa.concat_tables(tables).combine_chunks()


def _table_of_read(records: list[Any], schema: Any, first: int) -> Any:
    """`records_table` of `records` (numbered from `first`); RecordError for the first holding
    a text Arrow cannot write (a lone surrogate)."""
    try:
        return records_table(records, schema)
    except UnicodeEncodeError:
        for number, record in enumerate(records, start=first):
            refuse_unencodable(record, number)
        raise


def records_table(records: Sequence[Any], schema: Any) -> Any:
    """Records read already as an Arrow table of `schema` (an input schema). The typed
    reader's records (msgspec structs of the schema's fields) are read a field at a time
    (`records_column`): every value as it is, a decimal exactly (a value with more places than
    the schema's is refused). Other records (pydantic models) go through dicts."""
    pa = _pyarrow()
    if not records or not all(isinstance(record, msgspec.Struct) for record in records) or \
            not set(schema.names) <= set(type(records[0]).__struct_fields__) or \
            len({type(record) for record in records}) > 1:
        return pa.Table.from_pylist([_builtins(record) for record in records], schema=schema)
    columns = records_column(pa.struct(list(schema)), list(records))
    return pa.Table.from_arrays(columns.flatten(), schema=schema)


def _builtins(record: Any) -> dict[str, Any]:
    if isinstance(record, msgspec.Struct):
        result: dict[str, Any] = msgspec.to_builtins(record, builtin_types=(Decimal, date))
        return result
    dumped: dict[str, Any] = record.model_dump()
    return dumped


def records_column(kind: Any, values: list[Any]) -> Any:
    """The Arrow array of type `kind` of `values`: records (`Case`s or the typed reader's,
    read by attribute), lists or scalars, None for absent. Built a field at a time, which is
    several times faster than pyarrow's reading of a dict per record (and than dumping one),
    and twice as fast as writing them as JSON lines for Arrow's JSON reader (26 against 53 ms
    for 10,000 households)."""
    pa = _pyarrow()
    if pa.types.is_struct(kind):
        fields = list(kind)
        absent = [value is None for value in values]
        if any(absent):
            children = [records_column(field.type, [None if value is None else
                                                    getattr(value, field.name)
                                                    for value in values])
                        for field in fields]
            return pa.StructArray.from_arrays(children, fields=fields, mask=pa.array(absent))
        children = [records_column(field.type, list(map(attrgetter(field.name), values)))
                    for field in fields]
        return pa.StructArray.from_arrays(children, fields=fields)
    if pa.types.is_list(kind):
        offsets: list[int | None] = [0]
        items: list[Any] = []
        for value in values:
            if value is None:  # a null offset makes the slot before it a null list
                offsets.append(None)
                continue
            items += value
            offsets.append(len(items))
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                        records_column(kind.value_type, items), type=kind)
    return pa.array(values, kind)


ENGINES = ("columnar", "record")


def decide_batch(policy: Policy | RegionalPolicy, batch: pa.RecordBatch | pa.Table | Any,
                 as_of: date | str, *,
                 cases: Mapping[str, Iterable[Case | Mapping[str, Any]]] | None = None,
                 engine: str = "columnar") -> BatchResult:
    """Decide every row of `batch` (an Arrow batch or table, a Polars DataFrame, or any object
    that gives its rows as an Arrow stream: a RecordBatchReader, DuckDB's result); bad rows
    go to `rejects` and the batch goes on. `cases` maps household ids to their case records
    (`Case`s or dicts), whose deadlines then fill `deadlines`, `overdue` and `violations`; a
    bad case raises RecordError before any row is decided, as `Policy.evaluate` does.

    `engine`: "columnar" (the default) decides the batch in columns (docs/columnar.md); a
    policy it cannot express raises ColumnarUnsupported naming the construct and its
    file:line:col before any row is read, and so do `cases`: nothing falls back to the
    record path silently. "record" decides row by row with the compiled function. The
    decisions are the same.

    `policy` may be a region table (`engine.regions.load_regions`): each household is decided
    with its region's parameters, and one of no region in the table is rejected naming
    `region_code`; its tables are those of the policy it is for (`input_schema(policy.base)`).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    batch = _arrow_of(batch)
    if engine == "columnar":
        from fangpin_rules.columnar.engine import decide_columns
        return decide_columns(policy, batch, parse_date(as_of), cases=cases)
    return _decide_rows(policy, batch, as_of, cases=cases)


def _arrow_of(batch: Any) -> pa.RecordBatch | pa.Table:
    """`batch` as an Arrow table or record batch, or TypeError saying what is taken."""
    pa = _pyarrow()
    if isinstance(batch, pa.Table | pa.RecordBatch):
        return batch
    if isinstance(batch, pa.RecordBatchReader):
        return batch.read_all()
    if type(batch).__module__.split(".")[0] == "polars":
        if hasattr(batch, "collect"):  # a query not run: how much it holds is its own matter
            raise TypeError("decide_batch takes a Polars DataFrame, not a LazyFrame: collect() "
                            "it first, or decide it in parts (LazyFrame.collect_batches)")
        return batch.to_arrow()
    if hasattr(batch, "__arrow_c_stream__"):  # the Arrow PyCapsule interface
        return pa.table(batch)
    if hasattr(batch, "__arrow_c_array__"):
        return pa.record_batch(batch)
    raise TypeError(f"decide_batch takes an Arrow table or record batch, a Polars DataFrame "
                    f"or an object giving Arrow data (__arrow_c_stream__), not "
                    f"{type(batch).__name__}: records read already go to records_to_arrow")


def _decide_rows(deciding: Policy | RegionalPolicy, batch: pa.RecordBatch | pa.Table,
                 as_of: date | str, *,
                 cases: Mapping[str, Iterable[Case | Mapping[str, Any]]] | None = None
                 ) -> BatchResult:
    from fangpin_rules.engine.regions import RegionalPolicy
    pa = _pyarrow()
    when = parse_date(as_of)
    regional = deciding if isinstance(deciding, RegionalPolicy) else None
    policy = deciding.base if isinstance(deciding, RegionalPolicy) else deciding
    if regional is not None:
        regional.check_date(when)
    # under a region table each household is decided by its region's policy, not the base
    fast = policy.evaluator(when) if regional is None else None
    own_cases = checked_cases(cases)
    id_field = policy.checked.record_id
    converters = _converters(policy)
    schema = output_schema(policy)
    tables: list[Any] = []
    rejected: list[dict[str, Any]] = []
    reader = typed_reader(policy.checked.record_model)
    for start in range(0, batch.num_rows, RECORD_CHUNK_ROWS):
        decided: list[dict[str, Any]] = []
        # a chunk's rows and decisions as Python objects at a time, not the batch's: held for
        # the whole batch, they made the collector's full passes over an ever larger heap 30 %
        # of the CPU time at 100,000 rows (benchmarks/bench_columnar.py, `record`)
        rows = batch.slice(start, RECORD_CHUNK_ROWS).to_pylist()
        for row, data in enumerate(rows, start=start):
            try:
                record = row_record(policy, reader, data)
                own = own_cases.get(getattr(record, id_field)) if own_cases and id_field \
                    else None
                if regional is not None:  # the household's region's policy
                    region = regional.policy_for(record)
                    decision = region.decide_record(region.evaluator(when), record, when,
                                                    None, own)
                else:
                    assert fast is not None  # made where there is no region table
                    decision = policy.decide_record(fast, record, when, None, own)
            except RecordError as exc:
                rejection = exc.rejection
                rejected.append({"row": row, "household_id": rejection.household_id,
                                 "field": rejection.field, "reason": rejection.reason})
                continue
            # the keys the schema does not name (the trace) are left out
            decided.append(_in_arrow_form(decision, converters))
        tables.append(pa.Table.from_pylist(decided, schema=schema))
    decisions = pa.concat_tables(tables).combine_chunks() if tables else schema.empty_table()
    return BatchResult(decisions, pa.Table.from_pylist(rejected, schema=rejects_schema()))


RECORD_CHUNK_ROWS = 256  # rows read and decided at a time by the record engine


def rejects_schema() -> pa.Schema:
    pa = _pyarrow()
    return pa.schema([("row", pa.int64()), ("household_id", pa.string()),
                      ("field", pa.string()), ("reason", pa.string())])


def arrow_decision(policy: Policy, decision: dict[str, Any]) -> dict[str, Any]:
    """A decision of the record path in the form `output_schema` takes."""
    return _in_arrow_form(decision, _converters(policy))


Converters = list[tuple[str, Callable[[Any], Any]]]
_CONVERTERS: weakref.WeakKeyDictionary[Policy, Converters] = weakref.WeakKeyDictionary()


def _converters(policy: Policy) -> Converters:
    """(key, what turns its value into its Arrow form) of each output that needs turning, made
    once per policy (made per decision, they cost more than the zero-divisor rows' decisions
    themselves: 54 of 114 ms for 416 rows at 1,000,000 households)."""
    converters = _CONVERTERS.get(policy)
    if converters is None:
        converters = _CONVERTERS[policy] = [
            (key, convert) for key, kind in policy.checked.output_fields()
            if (convert := _arrow_converter(kind)) is not None]
    return converters


def _in_arrow_form(decision: dict[str, Any], converters: Converters) -> dict[str, Any]:
    if type(decision["household_id"]) is not str:
        decision["household_id"] = _text(decision["household_id"])
    for key, convert in converters:  # the others are in their Arrow form already
        value = decision[key]
        if value is not None:
            decision[key] = convert(value)
    return decision


def row_record(policy: Policy, reader: Any, data: dict[str, Any]) -> Any:
    """A row of an Arrow table (`to_pylist`) as the record path reads it: the typed reader's
    record (`reader`, `typed_reader(...)` or None), or, where it does not take the row, the
    policy's model's, which reads a lax form or raises the RecordError naming every problem."""
    record = reader.convert(data) if reader is not None else None
    return record if record is not None else policy.validate(_drop_nulls(data))


def _drop_nulls(value: Any) -> Any:
    """A null column value means absent, as a missing key does in JSON."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _arrow_converter(kind: t.Type) -> Callable[[Any], Any] | None:
    """What turns a decision value of this type into its Arrow form (None: nothing to do)."""
    inner = t.strip(kind)
    if inner in (t.BOOL, t.STRING, t.DATE) or isinstance(inner, t.Enum):
        return None
    if inner in t.NUMERIC and inner != t.COUNT:
        return _number_text
    if isinstance(inner, t.LabelSet):
        return lambda value: value if type(value) is list else _to_arrow_value(value, kind)
    return functools.partial(_to_arrow_value, kind=kind)


def _number_text(value: Any) -> Any:
    return decimal_text(value) if type(value) is Decimal else _to_arrow_value(value, t.NUMBER)


def _to_arrow_value(value: Any, kind: t.Type) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and \
            t.strip(kind) in t.NUMERIC and t.strip(kind) != t.COUNT:
        return str(value)
    inner = t.strip(kind)
    if isinstance(inner, t.Record) and isinstance(value, dict):
        return {name: _to_arrow_value(value.get(name), sub) for name, sub in inner.fields.items()}
    if isinstance(value, list | tuple | set | frozenset):
        element = inner.element if isinstance(inner, t.ListOf) else t.STRING
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [_to_arrow_value(v, element) for v in items]
    if isinstance(value, date | str | bool | int):
        return value
    return str(value)
