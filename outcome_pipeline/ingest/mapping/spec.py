"""The source mapping file: one TOML file per source, read with tomllib, checked by a schema.

A mistake in a mapping is reported before anything runs, as one :class:`MappingError` that
names the file, the key (``columns.queued_at.format``) and, where it can be found, the line.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the file, the key and the line."""

    def __init__(self, file: str, key: str, message: str, line: int | None = None) -> None:
        self.file, self.key, self.line = file, key, line
        where = f"{file}" + (f", line {line}" if line else "") + (f", key {key}" if key else "")
        super().__init__(f"{where}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CsvOptions(_Strict):
    delimiter: str = ","
    header: bool = True
    quote: str = '"'
    escape: str = '"'
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"
    # Lines after the header that are not records (a Qualtrics export has two: the question
    # texts and the import ids); they keep their line numbers and are not counted as rows.
    skip_after_header: int = Field(default=0, ge=0)
    # The longest record the reader takes (DuckDB's default: 2 MB); a longer one is rejected.
    max_line_bytes: int | None = Field(default=None, gt=0)
    # A quoted empty field ("") is NULL like an unquoted one; false keeps it as empty text.
    quoted_nulls: bool = True

    def limits_sql(self) -> str:
        """read_csv options of the two settings above (empty when both are defaults)."""
        out = f"max_line_size = {int(self.max_line_bytes)}, " if self.max_line_bytes else ""
        return out + ("" if self.quoted_nulls else "allow_quoted_nulls = false, ")


class JsonOptions(_Strict):
    # auto: one object per line or objects back to back (Kinesis Data Firehose writes records
    # without a delimiter); array: each file is one JSON array of records.
    layout: Literal["auto", "array"] = "auto"


class Unnest(_Strict):
    """One level of one-to-many: each element of the list at ``path`` becomes a row."""

    path: str = Field(min_length=1)
    alias: str = Field(alias="as", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # The elements are the source records (a results page wrapping its records in a list):
    # a rejected row keeps its element, not the whole page, as its raw record.
    record: bool = False


class Skip(_Strict):
    """Records the mapping does not map: where ``when`` (a boolean expression) holds, the
    row is set aside under its own reason code instead of being checked and mapped."""

    when: Any
    reason: str = Field(default="skipped_by_mapping", pattern=r"^[a-z][a-z0-9_]*$")
    note: str = ""


class Source(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    table: str
    feed: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    glob: str = Field(min_length=1)
    format: Literal["csv", "jsonl", "json", "parquet"]
    timezone: str | None = None
    description: str = ""
    references: list[str] = Field(default_factory=list)
    csv: CsvOptions = Field(default_factory=CsvOptions)
    json_options: JsonOptions = Field(default_factory=JsonOptions, alias="json")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {value!r} (use an IANA name)") from None
        return value

    @field_validator("glob")
    @classmethod
    def _inside_folder(cls, value: str) -> str:
        if "/" in value or "\\" in value or ".." in value:
            raise ValueError("glob matches file names inside the feed's day folder only")
        return value


class MappingFile(_Strict):
    source: Source
    unnest: list[Unnest] = Field(default_factory=list)
    skip: list[Skip] = Field(default_factory=list)
    # Named helper expressions (not contract columns), referenced as {column = "name"}.
    let: dict[str, Any] = Field(default_factory=dict)
    columns: dict[str, Any]


def load_mapping_file(path: Path, text: str | None = None) -> tuple[MappingFile, str]:
    """Parse and schema-check one mapping file; return the model and the file's text.

    ``text``: the file's text when it exists only in memory (a generated mapping), else
    the file is read.
    """
    name = str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(name, "", f"cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_toml_error(str(exc))
        raise MappingError(name, "", f"is not valid TOML: {exc}", line) from None
    try:
        return MappingFile.model_validate(data), text
    except ValidationError as exc:
        # A misspelt key also makes its right spelling "missing": report the typo first.
        first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        key = ".".join(str(p) for p in first["loc"])
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = _unknown_key_message(first["loc"])
        raise MappingError(name, key, message, locate(text, first["loc"])) from None


_KNOWN = {
    "source": set(Source.model_fields) - {"json_options"} | {"json"},
    "csv": set(CsvOptions.model_fields),
    "json": set(JsonOptions.model_fields),
    "unnest": {"path", "as", "record"},
    "skip": set(Skip.model_fields),
    "": {"source", "unnest", "skip", "let", "columns"},
}


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    parents = [p for p in loc[:-1] if isinstance(p, str)]
    known = _KNOWN.get(parents[-1] if parents else "", set())
    return unknown_key(key, known)


def unknown_key(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}; allowed: {', '.join(sorted(known))}"


def _line_from_toml_error(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_+.-]+)\s*=")


def locate(text: str, loc: tuple[Any, ...] | list[Any]) -> int | None:
    """Best-effort line of a key path in a TOML text (tomllib keeps no positions).

    Finds the table header that holds the path's first keys, then the first line after it
    that assigns the next key (or mentions the deepest key inside an inline table).
    """
    keys = [str(k) for k in loc if not isinstance(k, int)]
    if not keys:
        return None
    lines = text.splitlines()
    table: list[str] = []
    best: int | None = None
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header:
            table = [p.strip().strip("\"'") for p in header.group(1).split(".")]
            if table == keys[: len(table)] and best is None:
                best = number
            continue
        m = _KEY.match(line)
        if not m:
            continue
        key = m.group(1).strip("\"'")
        path = table + key.split(".") if not key.startswith(("'", '"')) else [*table, key]
        depth = len(path)
        if path == keys[:depth]:
            rest = keys[depth:]
            if not rest or all(re.search(rf"\b{re.escape(r)}\b", line) for r in rest[-1:]):
                return number
            best = number
    return best
