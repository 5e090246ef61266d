"""``find_unclosed_quote``: the record whose quoted value never closes, and nothing else."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from outcome_pipeline.ingest.lines import find_unclosed_quote

HEADER = "h1,h2\n"


@pytest.mark.parametrize(
    "body",
    [
        "a,b\n",
        'a,5" screen\n',  # a literal quote inside an unquoted field
        'a,"multi\nline"\nc,d\n',  # a closed quoted value spanning lines
        '"x"y,b\n',  # text after a closing quote: accepted by the readers
        'a,"say ""hi"""\n',  # doubled quotes inside a quoted value
    ],
)
def test_files_whose_quotes_close_have_none(tmp_path: Path, body: str) -> None:
    f = tmp_path / "x.csv"
    f.write_text(HEADER + body)
    assert find_unclosed_quote(f) is None


@pytest.mark.parametrize("compressed", [False, True])
def test_the_record_where_the_quote_opens_and_what_it_swallows(
    tmp_path: Path, compressed: bool
) -> None:
    # A literal quote first (an odd count of quotes before the real fault), a closed
    # multi-line value, then the unclosed quote on line 5, followed by two lines.
    body = HEADER + 'a,5" screen\nb,"two\nlines"\nc,"open\nd,e\nf,g\n'
    f = tmp_path / "x.csv"
    if compressed:
        f = tmp_path / "x.csv.gz"
        f.write_bytes(gzip.compress(body.encode()))
    else:
        f.write_text(body)
    found = find_unclosed_quote(f, "gzip" if compressed else None)
    assert found is not None
    offset = body.index('c,"open')
    assert (found.line, found.offset, found.lines) == (5, offset, 3)
    assert found.head == body[offset:].encode()
    assert found.size == len(body) - offset


def test_a_quote_swallowing_more_than_the_csv_modules_field_limit(tmp_path: Path) -> None:
    """Python's csv stops a field at 128 Ki characters by default: the rest of a large
    file after an unclosed quote is longer than that and must still be found."""
    f = tmp_path / "x.csv"
    f.write_text(HEADER + 'a,"open\n' + "x,y\n" * 100_000)
    found = find_unclosed_quote(f)
    assert found is not None
    assert (found.line, found.lines) == (2, 100_001)


def test_crlf_line_breaks_and_a_last_line_without_one(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_bytes(b'h1,h2\r\na,b\r\nc,"d\r\ne,f')
    found = find_unclosed_quote(f)
    assert found is not None
    assert (found.line, found.lines) == (3, 2)
