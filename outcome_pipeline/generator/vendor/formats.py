"""The vendor formats (:data:`VENDORS`) and the ``--format`` choices (:func:`parse_formats`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from outcome_pipeline.contracts.feeds import CHANNELS, FEEDS
from outcome_pipeline.generator.vendor.connect import (
    CONNECT_CARRIES,
    CONNECT_CHANNELS,
    CONNECT_FEED,
    CTR_SQL,
)
from outcome_pipeline.generator.vendor.genesys import (
    GENESYS_CARRIES,
    GENESYS_CHANNELS,
    GENESYS_FEED,
    write_genesys,
)
from outcome_pipeline.generator.vendor.qualtrics import (
    QUALTRICS_CARRIES,
    QUALTRICS_FEED,
    write_qualtrics,
)
from outcome_pipeline.generator.vendor.salesforce import (
    CASE_SQL,
    CONTACT_SQL,
    SALESFORCE_CASE_CARRIES,
    SALESFORCE_CONTACT_CARRIES,
    SALESFORCE_FEED,
)
from outcome_pipeline.generator.vendor.zendesk import (
    ZENDESK_CARRIES,
    ZENDESK_CHANNELS,
    ZENDESK_CONTACTS_FEED,
    ZENDESK_SQL,
)

NATIVE = "native"

Writer = Callable[[duckdb.DuckDBPyConnection, Path, str], list[Path]]


@dataclass(frozen=True)
class VendorFormat:
    """One vendor export of one contract table.

    ``write(con, folder, stem)`` writes the rows registered as ``rows`` (contract columns +
    ``__order``) into the day ``folder`` as the vendor files of native file ``stem``, and
    returns the files written. ``channels``: the interaction channels the vendor has (None for
    tables without channels). ``carries``: the contract columns that survive the round trip
    through the vendor's mapping.
    """

    name: str
    title: str
    table: str
    feed: str
    mappings: tuple[str, ...]
    carries: tuple[str, ...]
    write: Writer
    channels: tuple[str, ...] | None = None


def _copy(sql: str, target: Path, options: str, params: list | None = None) -> Writer:
    def write(con: duckdb.DuckDBPyConnection, folder: Path, stem: str) -> list[Path]:
        path = folder / target.name.format(stem=stem)
        con.execute(f"COPY ({sql}) TO '{path}' ({options})", params or [])
        return [path]

    return write


VENDORS: dict[str, dict[str, VendorFormat]] = {
    "interactions": {
        "amazon-connect": VendorFormat(
            "amazon-connect",
            "Amazon Connect contact records",
            "interactions",
            CONNECT_FEED,
            ("amazon_connect_ctr",),
            CONNECT_CARRIES,
            _copy(CTR_SQL, Path("ctr-{stem}"), "FORMAT json"),
            tuple(CONNECT_CHANNELS),
        ),
        "genesys": VendorFormat(
            "genesys",
            "Genesys Cloud conversation details (analytics job pages)",
            "interactions",
            GENESYS_FEED,
            ("genesys_conversations",),
            GENESYS_CARRIES,
            write_genesys,
            tuple(GENESYS_CHANNELS),
        ),
        "zendesk": VendorFormat(
            "zendesk",
            "Zendesk tickets (Fivetran TICKET table)",
            "interactions",
            ZENDESK_CONTACTS_FEED,
            ("zendesk_ticket_contacts",),
            ZENDESK_CARRIES,
            _copy(ZENDESK_SQL, Path("ticket-{stem}.csv"), "FORMAT csv, HEADER"),
            tuple(ZENDESK_CHANNELS),
        ),
    },
    "cases": {
        "salesforce": VendorFormat(
            "salesforce",
            "Salesforce Case (Data Loader CSV)",
            "cases",
            SALESFORCE_FEED,
            ("salesforce_cases",),
            SALESFORCE_CASE_CARRIES,
            _copy(CASE_SQL, Path("Case-{stem}.csv"), "FORMAT csv, HEADER"),
        ),
    },
    "customers": {
        "salesforce": VendorFormat(
            "salesforce",
            "Salesforce Contact (Data Loader CSV)",
            "customers",
            SALESFORCE_FEED,
            ("salesforce_contacts",),
            SALESFORCE_CONTACT_CARRIES,
            _copy(CONTACT_SQL, Path("Contact-{stem}.csv"), "FORMAT csv, HEADER"),
        ),
    },
    "survey_responses": {
        "qualtrics": VendorFormat(
            "qualtrics",
            "Qualtrics response exports (CSV)",
            "survey_responses",
            QUALTRICS_FEED,
            ("qualtrics_csat", "qualtrics_nps", "qualtrics_ces"),
            QUALTRICS_CARRIES,
            write_qualtrics,
        ),
    },
}


def feed_formats() -> dict[str, tuple[str, ...]]:
    """``--format`` targets: each native feed and the vendor formats of its tables."""
    out: dict[str, tuple[str, ...]] = {}
    for feed, tables in FEEDS.items():
        names = [n for t in tables for n in VENDORS.get(t, {})]
        out[feed] = (NATIVE, *dict.fromkeys(names))
    return out


# Kept for callers of the first version: the interactions feed's formats.
FORMATS = feed_formats()


@dataclass(frozen=True)
class Formats:
    """What ``--format`` chose: a format per feed, and per interaction channel."""

    feeds: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)

    def get(self, feed: str, default: str | None = None) -> str | None:
        return self.feeds.get(feed, default)

    def values(self) -> list[str]:
        return [*self.feeds.values(), *self.channels.values()]

    def channel_format(self, channel: str) -> str:
        return self.channels.get(channel, self.feeds.get("interactions", NATIVE))


def parse_formats(values: list[str]) -> Formats:
    """``["interactions=amazon-connect", "interactions:email,chat=zendesk", "crm=salesforce"]``.

    ``FEED=FORMAT`` writes the whole feed in ``FORMAT`` (interaction channels the vendor does
    not have are left out); ``interactions:CH1,CH2=FORMAT`` sends only those channels there
    (a channel named this way wins over the feed-wide choice; channels no vendor takes stay
    native). Raises ValueError with what is available.
    """
    known = feed_formats()
    feeds: dict[str, str] = {}
    channels: dict[str, str] = {}

    def fail(value: str, why: str) -> ValueError:
        listing = "; ".join(f"{f}={'|'.join(v)}" for f, v in known.items())
        return ValueError(
            f"unknown --format {value!r}{why}; available: {listing}; interaction channels "
            f"can be split: interactions:email,chat=zendesk"
        )

    for value in values:
        target, _, fmt = value.partition("=")
        feed, _, channel_list = target.partition(":")
        if feed not in known or fmt not in known[feed]:
            raise fail(value, "")
        if not channel_list:
            feeds[feed] = fmt
            continue
        if feed != "interactions":
            raise fail(value, " (only the interactions feed is split by channel)")
        for channel in channel_list.split(","):
            if channel not in CHANNELS:
                raise fail(value, f" (no channel {channel!r}; channels: {', '.join(CHANNELS)})")
            vendor = VENDORS["interactions"].get(fmt)
            if vendor is not None and channel not in (vendor.channels or ()):
                has = ", ".join(vendor.channels or ())
                raise fail(value, f" ({fmt} has no {channel} channel; it has {has})")
            channels[channel] = fmt
    return Formats(feeds, channels)
