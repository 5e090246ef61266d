"""The native contracts as identity mappings: native files read by the mapping engine.

A native file (``<feed>/<day>/<table>[_<suffix>].{csv,jsonl,ndjson,parquet}[.gz|.zst]``, as
landing discovery names it) speaks its contract already, so its mapping is the identity:
every contract column from the source field of the same name. That mapping is generated
from the contract declaration (:mod:`outcome_pipeline.contracts.feeds`) when it is needed,
never written by hand, so a contract column cannot drift from its mapping:
:func:`identity_spec` gives it as data, :func:`identity_toml` as the TOML a vendor mapping
would be, and :func:`identity_mapping` compiles it with the mapping engine's own compiler.

The engine reads the file (DuckDB's CSV, JSON and Parquet scanners, one query per file,
record numbers and malformed records as for every mapping); what it gives is the file's
fields as text, exactly the raw table the native reader gave
(:class:`~outcome_pipeline.ingest.readers.RawFile`). Typing stays the contract's own step
(:func:`~outcome_pipeline.ingest.conform.conform`), shared with the native reader, which is
what keeps the quarantine reason codes, messages and whitespace rules of native rows.

Which reader runs is the ``OUTCOME_NATIVE_INGEST`` setting: ``reader`` (the default; the
Arrow reader of :mod:`outcome_pipeline.ingest.readers`) or ``mapping`` (this module). The
default stays with the reader while the mapping engine is slower on native files; see
``benchmarks/PERFORMANCE.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.contracts.feeds import Column
from outcome_pipeline.ingest.conform import LINE
from outcome_pipeline.ingest.lines import (
    MAX_LINE_BYTES,
    LongLine,
    iter_lines,
    long_lines,
    open_bytes,
    truncated,
)
from outcome_pipeline.ingest.mapping.compile import CompiledMapping, _Compiler
from outcome_pipeline.ingest.mapping.execute import MappedDay, map_files
from outcome_pipeline.ingest.mapping.expr import TEXT, Compiled
from outcome_pipeline.ingest.mapping.spec import MappingFile
from outcome_pipeline.ingest.readers import (
    LandingAccessError,
    LandingFileError,
    MalformedLine,
    RawFile,
    _csv_header,
    _empty_text_table,
    _is_empty,
    _malformed_jsonl,
)

SETTING = "OUTCOME_NATIVE_INGEST"
READER, MAPPING = "reader", "mapping"
MODES = (READER, MAPPING)
# Lineage of a native row, where it is named (staging asset metadata, file reports):
# ``native:<table>@<contract version>``. The staging column ``source_mapping`` stays NULL
# for native rows (see docs/sources/README.md, "Native contracts").
PREFIX = "native"
_FORMAT_GLOBS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}


class NativeIngestSettingError(ValueError):
    """``OUTCOME_NATIVE_INGEST`` holds neither ``reader`` nor ``mapping``."""


def native_ingest_mode(value: str | None = None) -> str:
    """The reader of native files: ``value``, else the ``OUTCOME_NATIVE_INGEST`` setting."""
    mode = (value if value is not None else os.environ.get(SETTING, "")).strip().lower()
    mode = mode or READER
    if mode not in MODES:
        raise NativeIngestSettingError(
            f"{SETTING}={mode!r}: use {READER!r} (the Arrow reader) or {MAPPING!r} (the native "
            "contracts as identity mappings through the mapping engine)"
        )
    return mode


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
    compiler = _Compiler(spec, _text_contract(contract, fields), timezone)
    # Each field verbatim: a ``{field = ...}`` expression trims and blanks to NULL, but which
    # text is blank, and whether a text column keeps its spaces, is the contract's rule
    # (``conform``), the same for native files whichever reader reads them.
    columns = {f: Compiled(compiler.field_sql(f), TEXT, (), (f,)) for f in fields}
    types: tuple[pa.DataType, ...] = ()
    if fmt == "parquet":
        # Parquet values keep their types: conform types them as the reader's do (a naive
        # timestamp is business-local time), which text would not reproduce at a DST change.
        types = tuple(_engine_type(t) for t in parquet_types)
        columns = {
            f: Compiled(_parquet_sql(f, t), TEXT, (), (f,))
            for f, t in zip(fields, parquet_types, strict=True)
        }
    compiler.fields |= set(fields)
    return CompiledMapping(
        Path(f"<native {contract.name}.{fmt}>"),
        spec,
        _text_contract(contract, fields, types),
        timezone,
        columns,
        compiler.fields,
        compiler.json_paths,
        compiler.structs,
    )


def _naive_ts(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) and t.tz is None


def _engine_type(t: pa.DataType) -> pa.DataType:
    """The type a Parquet column comes out of the identity mapping as."""
    if _naive_ts(t):
        return pa.int64()  # microseconds of local time: the engine would read it as UTC
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_large_string(t) or pa.types.is_string(t) or pa.types.is_dictionary(t):
        return pa.string()
    return t


def _parquet_sql(field: str, t: pa.DataType) -> str:
    name = '"' + field.replace('"', '""') + '"'
    return f"epoch_us({name})" if _naive_ts(t) else name


def read_raw_mapped(
    path: Path,
    contract: TableContract,
    fmt: str,
    compression: str | None = None,
    relative: str | None = None,
) -> RawFile:
    """:func:`~outcome_pipeline.ingest.readers.read_raw`, executed by the mapping engine.

    Same contract: text columns (Parquet: as text too) plus ``_source_line``, the file's
    missing and extra columns, its malformed lines; a file that cannot be read, or lacks a
    required column, raises :class:`LandingFileError` with the reader's reason code.
    """
    relative = relative or str(path)
    try:
        with open(path, "rb"):
            pass
    except PermissionError as exc:
        raise LandingAccessError(f"{path}: {exc.strerror or 'permission denied'}") from exc
    try:
        if fmt in ("csv", "jsonl") and _is_empty(path, compression):
            return RawFile(_empty_text_table(contract))
        if fmt == "csv":
            fields = tuple(_csv_header(path, compression))
        elif fmt == "parquet":
            schema = pq.read_schema(path)
            fields = tuple(schema.names)
        elif fmt == "jsonl":
            fields = _jsonl_keys(path, compression)
        else:
            raise LandingFileError(f"{path}: unknown format {fmt!r}")
    except LandingFileError:
        raise
    except (pa.ArrowException, duckdb.Error, OSError, UnicodeError, ValueError) as exc:
        raise LandingFileError(f"{path}: cannot be read as {fmt}: {exc}") from exc
    missing = [c for c in contract.column_names if c not in fields]
    extra = [f for f in fields if f not in contract.column_names]
    missing_required = [c for c in missing if c in contract.required_columns]
    if missing_required:
        raise LandingFileError(
            f"{path}: required column(s) {', '.join(missing_required)} missing "
            f"(table {contract.name})",
            reason="missing_column",
        )
    # Contract columns first, then the fields the contract does not know (as the reader).
    ordered = tuple(c for c in contract.column_names if c in fields) + tuple(extra)
    # CSV rows as long as the reader takes (DuckDB's default stops at 2 MB); a longer one
    # makes the file unreadable, checked below only when the engine rejected something.
    max_line = MAX_LINE_BYTES + 1 if fmt == "csv" else 0
    types = tuple(schema.field(f).type for f in ordered) if fmt == "parquet" else ()
    mapping = identity_mapping(contract, fmt, ordered, "UTC", max_line, types)
    mapped = map_files(mapping, [(path, relative)])
    oversized: dict[int, LongLine] = {}
    if fmt == "jsonl" and (mapped.bad_files or mapped.rejects.num_rows):
        # Something is off in the file: lines too long to be a record are set aside first.
        with open_bytes(path, compression) as fh:
            oversized = {o.line: o for o in long_lines(fh)}
        if oversized and mapped.bad_files:
            mapped = _map_without_lines(mapping, path, relative, compression, set(oversized))
    if fmt == "csv" and (mapped.bad_files or mapped.rejects.num_rows):
        _refuse_oversized_csv(path, compression)
    if mapped.bad_files:
        _, error = mapped.bad_files[0]
        raise LandingFileError(f"{path}: cannot be read as {fmt}: {error}")
    table = mapped.typed.select(list(ordered))
    for i, t in enumerate(types):
        if _naive_ts(t):
            table = table.set_column(i, ordered[i], table[i].cast(pa.timestamp("us")))
    table = table.append_column(LINE, mapped.typed["_source_line"])
    rejects = mapped.rejects
    if oversized:
        lines = pa.array(sorted(oversized), pa.int64())
        table = table.filter(pc.invert(pc.is_in(table[LINE], value_set=lines)))
        rejects = rejects.filter(pc.invert(pc.is_in(rejects["source_line"], value_set=lines)))
    malformed = _malformed(rejects, path, fmt, compression, fields, ordered)
    malformed += [
        MalformedLine(
            o.line,
            truncated(o.head, o.size),
            f"line of {o.size} bytes, over the {MAX_LINE_BYTES} byte limit of one record",
            reason="oversized_line",
        )
        for o in oversized.values()
    ]
    return RawFile(
        table=table,
        missing_columns=missing,
        extra_columns=extra,
        malformed=sorted(malformed, key=lambda m: m.line),
    )


def _refuse_oversized_csv(path: Path, compression: str | None) -> None:
    """A row longer than MAX_LINE_BYTES makes the file unreadable, as for the reader: a CSV
    row can span lines, so one line cannot be cut out safely."""
    with open_bytes(path, compression) as fh:
        if long_lines(fh):
            raise LandingFileError(
                f"{path}: a row is longer than {MAX_LINE_BYTES} bytes, more than any record "
                "of a feed; the file cannot be split into rows safely, so none is staged",
                reason="oversized_line",
            )


def _map_without_lines(
    mapping: CompiledMapping,
    path: Path,
    relative: str,
    compression: str | None,
    lines: set[int],
) -> MappedDay:
    """Map a copy of the file whose ``lines`` are empty objects (numbers kept): DuckDB
    refuses a whole file for one line past its object size limit."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "records.jsonl"
        with open_bytes(path, compression) as src, copy.open("wb") as dst:
            for number, raw in iter_lines(src):
                if number in lines or raw is None:
                    dst.write(b"{}\n")
                else:
                    dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
        return map_files(mapping, [(copy, relative)])


def _jsonl_keys(path: Path, compression: str | None) -> tuple[str, ...]:
    """Every key any record of a JSON lines file has, in first-seen order."""
    try:
        return _keys_query(path, compression, MAX_LINE_BYTES)
    except duckdb.Error as exc:
        if "maximum_object_size" not in str(exc):
            raise
    # DuckDB refuses the whole file for one line past twice its object size: look past the
    # longest line (those lines are set aside as oversized when the file is mapped).
    with open_bytes(path, compression) as fh:
        longest = max((o.size for o in long_lines(fh)), default=0)
    return _keys_query(path, compression, max(MAX_LINE_BYTES, longest + 1))


def _keys_query(path: Path, compression: str | None, limit: int) -> tuple[str, ...]:
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        rows = con.sql(
            "SELECT k FROM (SELECT unnest(json_keys(json)) AS k, ordinality AS o "
            "FROM read_json_objects($path, format='newline_delimited', ignore_errors=true, "
            "compression=$compression, maximum_object_size=$limit) WITH ORDINALITY) "
            "GROUP BY k ORDER BY min(o), k",
            params={"path": str(path), "compression": compression or "none", "limit": limit},
        ).fetchall()
    finally:
        con.close()
    return tuple(r[0] for r in rows)


def _malformed(
    rejects: pa.Table,
    path: Path,
    fmt: str,
    compression: str | None,
    header: tuple[str, ...],
    ordered: tuple[str, ...],
) -> list[MalformedLine]:
    """The engine's rejected records of an identity mapping, in the reader's words.

    An identity mapping types nothing, so a record it rejects is one that is not a record
    at all (a CSV line with the wrong field count or bad bytes, a line that is not JSON).
    """
    if rejects.num_rows == 0:
        return []
    lines = rejects["source_line"].to_pylist()
    if fmt == "jsonl":
        return _malformed_jsonl(path, compression, set(lines))
    codes = rejects["reason_code"].to_pylist()
    encoding = {line for line, code in zip(lines, codes, strict=True) if code == "bad_encoding"}
    bad_bytes = _csv_bad_encoding(path, compression, encoding, header, ordered)
    out = []
    for line, code, raw, message in zip(
        lines, codes, rejects["raw_record"].to_pylist(), rejects["message"].to_pylist(), strict=True
    ):
        text = raw or ""
        if code == "malformed_row":
            fields = next(csv.reader(io.StringIO(text)), [])
            out.append(
                MalformedLine(
                    line,
                    truncated(text.encode()),
                    f"expected {len(header)} fields, found {len(fields)}",
                )
            )
        elif line in bad_bytes:
            out.append(bad_bytes[line])
        else:
            out.append(MalformedLine(line, truncated(text.encode()), message or code, code))
    return out


def _csv_bad_encoding(
    path: Path,
    compression: str | None,
    lines: set[int],
    header: tuple[str, ...],
    ordered: tuple[str, ...],
) -> dict[int, MalformedLine]:
    """CSV records holding bytes that are not UTF-8, described as the reader describes them:
    the first such column (contract columns first), the record's fields as JSON."""
    if not lines:
        return {}
    with open_bytes(path, compression) as fh:
        text = fh.read().decode("utf-8", "surrogateescape")
    out = {}
    records = csv.reader(io.StringIO(text, newline=""))
    next(records, None)  # the header
    for number, record in enumerate(records, start=2):
        if number not in lines or len(record) != len(header):
            continue
        by_name = {
            name: value.encode("utf-8", "surrogateescape")
            for name, value in zip(header, record, strict=True)
        }
        error = ""
        for name in ordered:
            try:
                by_name[name].decode("utf-8")
            except UnicodeDecodeError as exc:
                error = f"column {name}: invalid UTF-8 ({exc.reason})"
                break
        shown = {n: by_name[n].decode("utf-8", "replace") or None for n in ordered}
        out[number] = MalformedLine(
            number, truncated(json.dumps(shown).encode()), error, "bad_encoding"
        )
    return out
