"""Aggregates over nested lists (first, last, min, max, sum, count), each level filtered."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from outcome_pipeline.ingest.mapping import compile_mapping, map_day
from outcome_pipeline.ingest.mapping.spec import MappingError

DAY = date(2024, 1, 2)

MAPPING = """
[source]
name = "pages"
version = "1"
table = "interactions"
feed = "pages"
glob = "*.json"
format = "json"
timezone = "America/New_York"

[[unnest]]
path = "items"
as = "c"
record = true

[columns]
interaction_id = "c.id"
channel = { const = "phone" }
direction = { const = "inbound" }
# The last agent, in document order.
agent_id = { last = "c.people[role=agent].user" }
# The first person who is not the customer (a missing role is "not customer" too).
team = { first = "c.people[role!=customer].team" }
# One filter clause per level, a value list with |.
queue = { first = "c.people[].visits[kind=queue|transfer, live=yes].queue" }
# Earliest start of an agent's talk, as instants (an offset, or New York time without one).
queued_at = { min = "c.people[].visits[].start", as = "timestamp" }
answered_at = { min = "c.people[role=agent].visits[kind=talk].start", as = "timestamp" }
ended_at = { max = "c.people[].visits[].end", as = "timestamp" }
# Milliseconds to seconds.
talk_seconds = { sum = "c.people[role=agent].visits[].metrics[name=tTalk].value", scale = 0.001 }
hold_seconds = { count = "c.people[].visits[kind=hold].start" }
acw_seconds = { max = "c.people[].visits[].metrics[].value", as = "number" }
abandoned = { missing = { first = "c.people[role=agent].user" } }
# Read from the record (the page), not the element.
customer_id = { first = "owners[].id" }
updated_at = { column = "ended_at" }
"""


def _conv(cid: str, people: list) -> dict:
    return {"id": cid, "people": people}


PAGE = {
    "owners": [{"id": "page-owner"}, {"id": "other"}],
    "items": [
        _conv(
            "k1",
            [
                {"role": "customer", "team": "nobody", "visits": []},
                {
                    "team": "ivr-team",  # no role: not the customer
                    "visits": [{"kind": "queue", "live": "no", "queue": "dead"}],
                },
                {
                    "role": "agent",
                    "user": "ann",
                    "visits": [
                        {
                            "kind": "queue",
                            "live": "yes",
                            "queue": "billing",
                            "start": "2024-01-02T10:00:00",  # New York: 15:00 UTC
                            "end": "2024-01-02T15:01:00Z",
                        },
                        {
                            "kind": "talk",
                            "start": "2024-01-02T15:01:00Z",
                            "end": "2024-01-02T15:05:00+00:00",
                            "metrics": [
                                {"name": "tTalk", "value": 121600},
                                {"name": "tAcw", "value": 9000},
                            ],
                        },
                        {"kind": "hold", "start": "2024-01-02T15:03:00Z", "end": " "},
                    ],
                },
                {
                    "role": "agent",
                    "user": "bob",
                    "visits": [
                        {
                            "kind": "talk",
                            "start": "2024-01-02T15:06:00Z",
                            "end": "2024-01-02T15:09:00Z",
                            "metrics": [{"name": "tTalk", "value": 60000}],
                        },
                        {"kind": "hold", "start": "2024-01-02T15:07:00Z", "end": ""},
                    ],
                },
            ],
        ),
        # No agent, no lists at all: every aggregate is empty (NULL; a count is 0).
        _conv(
            "k2",
            [
                {
                    "role": "customer",
                    "visits": [{"start": "2024-01-02T16:00:00Z", "end": "2024-01-02T16:01:00Z"}],
                }
            ],
        ),
        # A start that is no timestamp: the row is rejected, naming the path and the value.
        _conv("k3", [{"role": "agent", "user": "cy", "visits": [{"start": "soon"}]}]),
    ],
}


def _map(tmp_path: Path, text: str = MAPPING, page: dict = PAGE):
    (tmp_path / "pages.toml").write_text(text)
    m = compile_mapping(tmp_path / "pages.toml", "Europe/London")
    folder = tmp_path / "land" / "pages" / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "p.json").write_text(json.dumps(page))
    return map_day(tmp_path / "land", m, DAY)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_aggregates_pick_filter_and_type_values(tmp_path: Path) -> None:
    out = _map(tmp_path)
    rows = {r["interaction_id"]: r for r in out.typed.to_pylist()}
    k1 = rows["k1"]
    assert k1["agent_id"] == "bob"  # last
    assert k1["team"] == "ivr-team"  # first whose role is not "customer" (missing counts)
    assert k1["queue"] == "billing"  # the dead queue visit is filtered out (live=no)
    assert k1["queued_at"] == utc("2024-01-02T15:00:00")  # local time read in New York
    assert k1["answered_at"] == utc("2024-01-02T15:01:00")
    assert k1["ended_at"] == utc("2024-01-02T15:09:00")  # max over every level
    assert k1["talk_seconds"] == 182  # (121.6 + 60) s, rounded
    assert k1["hold_seconds"] == 2 and k1["acw_seconds"] == 121600
    assert k1["abandoned"] is False and k1["customer_id"] == "page-owner"
    k2 = rows["k2"]
    assert k2["agent_id"] is None and k2["answered_at"] is None and k2["talk_seconds"] is None
    assert k2["hold_seconds"] == 0 and k2["abandoned"] is True
    assert k2["queued_at"] == utc("2024-01-02T16:00:00")


def test_a_value_that_does_not_parse_rejects_the_row_with_its_own_element(tmp_path) -> None:
    out = _map(tmp_path)
    (reject,) = out.rejects.to_pylist()
    assert reject["reason_code"] == "bad_type"
    assert "c.people[].visits[].start='soon' is not an ISO 8601 timestamp" in reject["message"]
    assert reject["message"].startswith("record $.items[2]: ")
    # record = true: the raw record is the conversation, not the whole page.
    assert json.loads(reject["raw_record"])["id"] == "k3"


def test_aggregates_compile_to_sql_over_the_row_not_python(tmp_path: Path) -> None:
    (tmp_path / "pages.toml").write_text(MAPPING)
    m = compile_mapping(tmp_path / "pages.toml", "Europe/London")
    sql = m.columns["talk_seconds"].sql
    assert "list_filter" in sql and "flatten" in sql and "list_sum" in sql


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ('{ first = "c.people.user" }', "walks no list"),
        ('{ first = "c.people[role].user" }', "bad filter"),
        ('{ sum = "c.people[].n", as = "text" }', "sum adds numbers"),
        ('{ count = "c.people[].n", scale = 2 }', "count takes no as or scale"),
        ('{ first = "c.people[].n", scale = 2 }', "scale is a number, for numeric values"),
        ('{ max = "c.people[].n", as = "date" }', "as is text, timestamp or number"),
        ('{ first = "c.people[].n", sort = "x" }', "unknown key 'sort'"),
    ],
)
def test_malformed_aggregates_are_caught_with_the_mapping(tmp_path, column, message) -> None:
    text = MAPPING.replace(
        'agent_id = { last = "c.people[role=agent].user" }', f"agent_id = {column}"
    )
    (tmp_path / "pages.toml").write_text(text)
    with pytest.raises(MappingError, match=r"columns\.agent_id") as err:
        compile_mapping(tmp_path / "pages.toml", "Europe/London")
    assert message in str(err.value)


def test_aggregates_need_json_records(tmp_path: Path) -> None:
    text = (
        '[source]\nname = "x"\nversion = "1"\ntable = "interactions"\nfeed = "x"\n'
        'glob = "*.csv"\nformat = "csv"\n[columns]\n'
        'interaction_id = { first = "a[].b" }\n'
    )
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(MappingError, match="aggregates over lists need JSON records"):
        compile_mapping(tmp_path / "x.toml", "Europe/London")
