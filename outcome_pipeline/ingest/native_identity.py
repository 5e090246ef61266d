"""The identity mapping of a native contract, generated from its declaration: as data, as
TOML, and compiled by the mapping engine's own compiler (once per file layout).

Every contract column comes from the source field of the same name, carried as text (a
Parquet field: as the file types it), so typing stays the contract's own step
(:func:`~outcome_pipeline.ingest.conform.conform`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.contracts.feeds import Column
from outcome_pipeline.ingest.mapping import CompiledMapping, compile_verbatim
from outcome_pipeline.ingest.mapping.spec import MappingFile

# Lineage of a native row, where it is named (staging asset metadata, file reports):
# ``native:<table>@<contract version>``. The staging column ``source_mapping`` stays NULL
# for native rows (see docs/sources/README.md, "Native contracts").
PREFIX = "native"
_FORMAT_GLOBS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
NATIVE_FORMATS = tuple(_FORMAT_GLOBS)


def contract_version(contract: TableContract) -> str:
    """A version of the contract's shape: changes when a column, its type or its
    requiredness changes (descriptions do not count)."""
    shape = "|".join(f"{c.name}:{c.type}:{int(c.required)}" for c in contract.columns)
    return hashlib.sha256(f"{contract.name}|{contract.key}|{shape}".encode()).hexdigest()[:8]


def identity_lineage(contract: TableContract) -> str:
    return f"{PREFIX}:{contract.name}@{contract_version(contract)}"


def identity_spec(
    contract: TableContract, fmt: str, fields: tuple[str, ...] = (), max_line_bytes: int = 0
) -> dict:
    """The identity mapping of ``contract`` for files of ``fmt``, as mapping-file data.

    ``fields``: the source fields a file has (header order); default the contract's
    columns. Every field is carried through as text under its own name — contract columns
    and the extra fields a file has beyond the contract (kept in ``extra_fields``).
    ``max_line_bytes``: the longest CSV record to take (0: the engine's default).
    """
    fields = fields or tuple(contract.column_names)
    spec: dict = {
        "source": {
            "name": f"native_{contract.name}",
            "version": contract_version(contract),
            "table": contract.name,
            "feed": contract.feed,
            "glob": f"{contract.name}*.{_FORMAT_GLOBS[fmt]}",
            "format": fmt,
            "description": f"The native {contract.name} contract as an identity mapping "
            "(generated from outcome_pipeline/contracts/feeds.py).",
        },
        "columns": {name: {"field": name} for name in fields},
    }
    if max_line_bytes:
        spec["source"]["csv"] = {"max_line_bytes": max_line_bytes}
    return spec


def identity_toml(contract: TableContract, fmt: str) -> str:
    """The identity mapping as TOML text, the form a vendor mapping is written in."""
    spec = identity_spec(contract, fmt)
    lines = ["[source]"]
    for key, value in spec["source"].items():
        lines.append(f"{key} = {_toml_str(value)}")
    lines += ["", "[columns]"]
    lines += [f"{name} = {{field = {_toml_str(name)}}}" for name in spec["columns"]]
    return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text_contract(
    contract: TableContract, fields: tuple[str, ...], types: tuple[pa.DataType, ...] = ()
) -> TableContract:
    """What the engine fills for an identity mapping: each field as optional text (a
    Parquet file's fields: as the file types them).

    Types and requiredness are the contract's to apply afterwards (``conform``), so a bad
    value costs its row with the contract's own message, never the engine's wording.
    """
    types = types or tuple(pa.string() for _ in fields)
    return TableContract(
        name=contract.name,
        feed=contract.feed,
        description=contract.description,
        key=contract.key,
        columns=tuple(Column(f, t, "") for f, t in zip(fields, types, strict=True)),
        grain=contract.grain,
        event_time=None,
    )


def identity_mapping(
    contract: TableContract,
    fmt: str,
    fields: tuple[str, ...],
    timezone: str = "UTC",
    max_line_bytes: int = 0,
    parquet_types: tuple[pa.DataType, ...] = (),
) -> CompiledMapping:
    """Compile the identity mapping of ``contract`` for a file of ``fmt`` with ``fields``
    (compiled once per layout: a day's files mostly share one)."""
    types = tuple(str(t) for t in parquet_types)
    key = (contract.name, contract_version(contract), fmt, fields, timezone, max_line_bytes, types)
    if key not in _COMPILED:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        _COMPILED[key] = _compile_identity(
            contract, fmt, fields, timezone, max_line_bytes, parquet_types
        )
    return _COMPILED[key]


_COMPILED: dict[tuple[object, ...], CompiledMapping] = {}


def _compile_identity(
    contract: TableContract,
    fmt: str,
    fields: tuple[str, ...],
    timezone: str,
    max_line: int,
    parquet_types: tuple[pa.DataType, ...],
) -> CompiledMapping:
    spec_data = identity_spec(contract, fmt, fields, max_line)
    if fmt == "csv":
        # A quoted empty field is text, as the reader reads it (kept so in extra_fields).
        spec_data["source"].setdefault("csv", {})["quoted_nulls"] = False
    spec = MappingFile.model_validate(spec_data)
    path = Path(f"<native {contract.name}.{fmt}>")
    # Each field verbatim: a ``{field = ...}`` expression trims and blanks to NULL, but which
    # text is blank, and whether a text column keeps its spaces, is the contract's rule
    # (``conform``), the same for native files whichever reader reads them.
    if fmt != "parquet":
        return compile_verbatim(path, spec, _text_contract(contract, fields), timezone)
    # Parquet values keep their types: conform types them as the reader's do (a naive
    # timestamp is business-local time), which text would not reproduce at a DST change.
    by_field = dict(zip(fields, parquet_types, strict=True))
    types = tuple(_engine_type(t) for t in parquet_types)
    return compile_verbatim(
        path,
        spec,
        _text_contract(contract, fields, types),
        timezone,
        lambda f, _: _parquet_sql(f, by_field[f]),
    )


def naive_ts(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) and t.tz is None


def _engine_type(t: pa.DataType) -> pa.DataType:
    """The type a Parquet column comes out of the identity mapping as."""
    if naive_ts(t):
        return pa.int64()  # microseconds of local time: the engine would read it as UTC
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_large_string(t) or pa.types.is_string(t) or pa.types.is_dictionary(t):
        return pa.string()
    return t


def _parquet_sql(field: str, t: pa.DataType) -> str:
    name = '"' + field.replace('"', '""') + '"'
    return f"epoch_us({name})" if naive_ts(t) else name
