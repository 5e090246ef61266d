"""Rewriting the generated native files into the chosen vendor formats."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.contracts.feeds import CHANNELS, FEEDS, TableContract
from outcome_pipeline.generator.vendor.formats import NATIVE, VENDORS, Formats
from outcome_pipeline.generator.writers import write_csv, write_jsonl, write_parquet
from outcome_pipeline.ingest.conform import conform
from outcome_pipeline.ingest.landing import LandingFile, list_day_files
from outcome_pipeline.ingest.readers import read_raw


@dataclass
class VendorRewrite:
    files_written: list[str] = field(default_factory=list)
    rows_written: int = 0
    rows_not_expressible: int = 0  # rows of a channel the vendor does not have
    rows_kept_native: int = 0


def _write_native(rows: pa.Table, lf: LandingFile, contract: TableContract) -> None:
    if lf.fmt == "csv":
        write_csv(rows, lf.path, contract)
    elif lf.fmt == "jsonl":
        write_jsonl(rows, lf.path, contract)
    else:
        write_parquet(rows, lf.path, contract)


def rewrite_table(
    root: Path,
    days: list,
    contract: TableContract,
    timezone: str,
    route: Callable[[pa.Table], pa.Array],
) -> dict[str, VendorRewrite]:
    """Rewrite ``contract``'s native files of ``days`` by ``route`` (typed rows → the format
    name of each row; null: the row cannot be expressed and is left out).

    Rows routed to ``native`` stay in their native file (rewritten with only them); the file
    goes when none do. Returns what was written per format.
    """
    done: dict[str, VendorRewrite] = {}
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for day in days:
            for lf in list_day_files(root, contract, day):
                typed = conform(read_raw(lf.path, contract, lf.fmt).table, contract, timezone)
                rows = typed.table.select(contract.column_names)
                rows = rows.append_column("__order", pa.array(range(rows.num_rows), pa.int64()))
                formats = route(rows)
                kept = 0
                for fmt in pc.unique(formats.drop_null()).to_pylist():
                    part = rows.filter(pc.equal(formats, fmt))
                    out = done.setdefault(fmt, VendorRewrite())
                    out.rows_written += part.num_rows
                    if fmt == NATIVE:
                        kept = part.num_rows
                        out.rows_kept_native += kept
                        continue
                    vendor = VENDORS[contract.name][fmt]
                    folder = root / vendor.feed / day.isoformat()
                    folder.mkdir(parents=True, exist_ok=True)
                    con.register("rows", part)
                    for path in vendor.write(con, folder, Path(lf.relative).stem):
                        out.files_written.append(path.relative_to(root).as_posix())
                    con.unregister("rows")
                lost = formats.null_count
                if lost:
                    done.setdefault("", VendorRewrite()).rows_not_expressible += lost
                if kept == 0:
                    lf.path.unlink()
                elif kept < rows.num_rows:
                    native = rows.filter(pc.equal(formats, NATIVE)).drop_columns(["__order"])
                    _write_native(native, lf, contract)
    finally:
        con.close()
    native_dir = root / contract.feed
    if native_dir.is_dir() and not any(p.is_file() for p in native_dir.rglob("*")):
        shutil.rmtree(native_dir)
    return done


def _interaction_route(formats: Formats) -> Callable[[pa.Table], pa.Array]:
    by_channel: dict[str, str | None] = {}
    for channel in CHANNELS:
        fmt = formats.channel_format(channel)
        vendor = VENDORS["interactions"].get(fmt)
        # A feed-wide vendor without the channel: the rows are left out (not expressible).
        ok = fmt == NATIVE or (vendor is not None and channel in (vendor.channels or ()))
        by_channel[channel] = fmt if ok else None
    keys = pa.array(list(by_channel))
    values = pa.array(list(by_channel.values()), pa.string())

    def route(rows: pa.Table) -> pa.Array:
        chosen = values.take(pc.index_in(rows["channel"], keys))
        if formats.channel_format("email") == "zendesk":
            # Zendesk has no outbound ticket from a contact: an agent's outbound email is not
            # a ticket the TICKET table tells apart. Leave those out.
            outbound = pc.and_(pc.equal(rows["direction"], "outbound"), pc.equal(chosen, "zendesk"))
            chosen = pc.if_else(outbound, pa.scalar(None, pa.string()), chosen)
        return chosen

    return route


def _whole(fmt: str) -> Callable[[pa.Table], pa.Array]:
    return lambda rows: pa.array([fmt] * rows.num_rows, pa.string())


def rewrite_interactions_as_connect(root: Path, days: list, timezone: str) -> VendorRewrite:
    """Replace the native interactions feed under ``root`` by Connect contact records."""
    done = rewrite_table(
        root,
        days,
        CONTRACTS["interactions"],
        timezone,
        _interaction_route(Formats({"interactions": "amazon-connect"})),
    )
    out = done.get("amazon-connect", VendorRewrite())
    out.rows_not_expressible = done.get("", VendorRewrite()).rows_not_expressible
    return out


def apply_formats(
    root: Path, days: list, formats: Formats | dict[str, str], timezone: str
) -> list[str]:
    """Rewrite the generated feeds into the requested vendor formats; say what was done."""
    if not isinstance(formats, Formats):
        formats = Formats(dict(formats))
    notes = []
    plans: list[tuple[str, Callable[[pa.Table], pa.Array]]] = []
    if any(f != NATIVE for f in [formats.get("interactions", NATIVE), *formats.channels.values()]):
        plans.append(("interactions", _interaction_route(formats)))
    for feed, tables in FEEDS.items():
        fmt = formats.get(feed, NATIVE)
        if feed == "interactions" or fmt == NATIVE:
            continue
        # Tables of the feed the vendor has no export for stay native (Salesforce has no
        # standard subscription object).
        plans += [(t, _whole(fmt)) for t in tables if fmt in VENDORS.get(t, {})]
    for table, route in plans:
        done = rewrite_table(root, days, CONTRACTS[table], timezone, route)
        for fmt, part in sorted(done.items()):
            if fmt in ("", NATIVE):
                continue
            vendor = VENDORS[table][fmt]
            notes.append(
                f"{table} written as {vendor.title} (mappings {', '.join(vendor.mappings)}): "
                f"{part.rows_written} rows in {len(part.files_written)} files under "
                f"{root / vendor.feed}"
            )
        if NATIVE in done:
            notes.append(f"{table}: {done[NATIVE].rows_kept_native} rows kept as native files")
        if "" in done:
            notes.append(
                f"{table}: {done[''].rows_not_expressible} rows left out (a channel or direction "
                f"the chosen vendor does not have)"
            )
    return notes
