"""PostgreSQL ``COPY ... (FORMAT binary)`` rows from Arrow tables, vectorised (numpy, Arrow).

Format (PostgreSQL docs, "COPY ... Binary Format"): a signature and two zero int32 (flags,
header extension), then per row an int16 field count and per field an int32 byte length (-1:
NULL, no bytes follow) and the value in the type's binary "send" form, big-endian; an int16
-1 ends the data. Dates are int32 days and timestamps int64 microseconds since 2000-01-01
(UTC for timestamptz), so Arrow's values only need shifting and byte-swapping.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Rows per COPY chunk (~20 MB of stg_interactions): big enough that per-chunk costs vanish,
# small enough that the first chunk is on the wire quickly and memory stays bounded.
COPY_ROWS = 65_536
COPY_MAX_TEXT_BYTES = 256 << 20

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400_000_000


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def binary_column_order(schema: pa.Schema) -> list[str]:
    """Fixed-width columns first (they form one block per row), then the text columns."""
    return [f.name for f in schema if not _is_text(f.type)] + [
        f.name for f in schema if _is_text(f.type)
    ]


def _shifted(values: np.ndarray, shift: int, valid: np.ndarray | None) -> np.ndarray:
    """values - shift, refusing values whose shift would wrap around (none are real dates)."""
    info = np.iinfo(values.dtype)
    checked = values if valid is None else values[valid]
    if checked.size and checked.min() < info.min + shift:
        raise ValueError("date or timestamp out of PostgreSQL's range")
    return values - values.dtype.type(shift)


def _fixed_values(arr: pa.Array, valid: np.ndarray | None) -> tuple[np.ndarray, str]:
    """A fixed-width column's values in PostgreSQL's binary form (as a numpy array and the
    big-endian dtype to store them in); the values under NULLs are arbitrary."""
    t = arr.type

    def raw(dtype: type) -> np.ndarray:
        width = np.dtype(dtype).itemsize
        return np.frombuffer(arr.buffers()[1], dtype, len(arr), arr.offset * width)

    if pa.types.is_timestamp(t):
        if t.unit != "us":
            arr = arr.cast(pa.timestamp("us", t.tz))  # safe cast: refuses to drop precision
        return _shifted(raw(np.int64), _PG_EPOCH_US, valid), ">i8"
    if pa.types.is_date(t):
        if not pa.types.is_date32(t):
            arr = arr.cast(pa.date32())
        return _shifted(raw(np.int32), _PG_EPOCH_DAYS, valid), ">i4"
    if pa.types.is_boolean(t):
        bits = np.frombuffer(arr.buffers()[1], np.uint8)
        return np.unpackbits(bits, count=arr.offset + len(arr), bitorder="little")[
            arr.offset :
        ], "u1"
    if pa.types.is_int64(t):
        return raw(np.int64), ">i8"
    if pa.types.is_int32(t):
        return raw(np.int32), ">i4"
    if pa.types.is_floating(t):
        if not pa.types.is_float64(t):
            arr = arr.cast(pa.float64())
        return raw(np.float64), ">f8"
    raise TypeError(f"no COPY binary form for Arrow type {t}")


def _binary_array(data: np.ndarray, offsets: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(
        pa.binary(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _text_bytes(rows: pa.Table) -> int:
    """Bytes of text in ``rows`` (from the offsets only: no pass over the data)."""
    total = 0
    for col, field in zip(rows.columns, rows.schema, strict=True):
        if _is_text(field.type):
            for chunk in col.chunks:
                if len(chunk):
                    wide = np.int64 if pa.types.is_large_string(field.type) else np.int32
                    offsets = np.frombuffer(chunk.buffers()[1], wide, len(chunk) + 1, chunk.offset)
                    total += int(offsets[-1]) - int(offsets[0])
    return total


def binary_chunks(rows: pa.Table) -> Iterator[pa.Buffer]:
    """COPY binary rows in chunks of ``COPY_ROWS``, smaller where text is long (a chunk's
    bytes must stay well below Arrow's 2 GiB per binary array)."""
    pending = [rows.slice(s, COPY_ROWS) for s in range(0, rows.num_rows, COPY_ROWS)][::-1]
    while pending:
        chunk = pending.pop()
        if chunk.num_rows > 1 and _text_bytes(chunk) > COPY_MAX_TEXT_BYTES:
            half = chunk.num_rows // 2
            pending += [chunk.slice(half), chunk.slice(0, half)]
            continue
        yield binary_rows(chunk)


def binary_rows(rows: pa.Table) -> pa.Buffer:
    """The COPY binary rows of ``rows`` (fixed-width columns first), vectorised.

    The fixed-width fields of all rows are written at once into a numpy structured array (one
    record per row: field count, then length and value of each field, then the length of the
    first text field); the bytes of NULL values are dropped with a mask. Arrow then joins each
    row's block with its text fields and their lengths (one memcpy per field, in C++).
    """
    n = rows.num_rows
    arrays = [c.combine_chunks() for c in rows.columns]
    valids = [np.asarray(a.is_valid()) if a.null_count else None for a in arrays]
    fixed = [i for i, a in enumerate(arrays) if not _is_text(a.type)]
    text = [i for i, a in enumerate(arrays) if _is_text(a.type)]
    if fixed != list(range(len(fixed))):
        raise ValueError("fixed-width columns must come first (see binary_column_order)")
    values = [_fixed_values(arrays[i], valids[i]) for i in fixed]
    layout = [("count", ">i2")]
    for i, (_, dtype) in zip(fixed, values, strict=True):
        layout += [(f"len{i}", ">i4"), (f"val{i}", dtype)]
    if text:
        layout.append(("text_len", ">i4"))
    block = np.empty(n, np.dtype(layout))
    block["count"] = len(arrays)
    row_width = np.full(n, block.dtype.itemsize, np.int32)
    kept = {}  # per field of a NULLable column's value: which rows send its bytes
    for i, (vals, dtype) in zip(fixed, values, strict=True):
        size = np.dtype(dtype).itemsize
        block[f"val{i}"] = vals
        if valids[i] is None:
            block[f"len{i}"] = size
        else:
            block[f"len{i}"] = np.where(valids[i], size, -1)
            row_width -= np.int32(size) * ~valids[i]
            kept[f"val{i}"] = valids[i]
    pieces = []
    for k, i in enumerate(text):
        arr = arrays[i].cast(pa.string()) if pa.types.is_large_string(arrays[i].type) else arrays[i]
        offsets = np.frombuffer(arr.buffers()[1], np.int32, n + 1, arr.offset * 4)
        lengths = np.diff(offsets)
        if valids[i] is not None:
            lengths = np.where(valids[i], lengths, -1)
        if k == 0:
            block["text_len"] = lengths
        else:
            pieces.append(
                _binary_array(
                    lengths.astype(">i4").view(np.uint8), np.arange(0, 4 * n + 1, 4, np.int32)
                )
            )
        pieces.append(arr.cast(pa.binary()))  # NULLs add no bytes (null_handling="skip")
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(row_width, out=offsets[1:])
    flat = block.view(np.uint8).reshape(n, block.dtype.itemsize)
    if kept:
        # Bytes of NULL values must not be sent: keep, per byte of a row, its field's flag.
        names = block.dtype.names
        flags = np.ones((n, len(names)), bool)
        for name, valid in kept.items():
            flags[:, names.index(name)] = valid
        sizes = [block.dtype.fields[name][0].itemsize for name in names]
        flat = flat[np.repeat(flags, sizes, axis=1)]
    head = _binary_array(flat.reshape(-1), offsets)
    if not pieces:
        joined = head
    else:
        joined = pc.binary_join_element_wise(head, *pieces, b"", null_handling="skip")
    offsets = np.frombuffer(joined.buffers()[1], np.int32, n + 1, joined.offset * 4)
    return joined.buffers()[2][int(offsets[0]) : int(offsets[-1])]
