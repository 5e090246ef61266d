"""The SELECTs handing ``compute_outcomes`` its inputs, run where the staged rows are.

Portable (DuckDB and PostgreSQL): the warehouse runs them and Arrow comes out, or the engine
session runs them over the attached warehouse file (:class:`.inputs.AttachedInputs`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from outcome_pipeline.outcomes.config import InputWindow
from outcome_pipeline.outcomes.inputs import FEEDS, input_schema
from outcome_pipeline.outcomes.zoning import Zones
from outcome_pipeline.warehouse.tables import STAGING_TABLES


def context_sql(source: str, z: Zones, partitions: tuple[date, date] | None = None) -> str:
    """SELECT reducing the context zone of staged interactions ``source`` to CONTEXT_SCHEMA.

    Portable (DuckDB and PostgreSQL), so the warehouse runs it where the rows are and only
    the reduced rows travel. Root legs only, by the rule int_leg_links.sql applies in the main zone:
    no parent, itself as parent, or a parent not among the staged rows read (e.g.
    quarantined). A re-delivered leg has the same queued_at, so no dedupe is needed for a max.
    ``partitions`` (first, last) bounds both the rows and the parent lookup, as the window
    the caller would otherwise read.
    """

    def within(alias: str) -> str:
        if partitions is None:
            return ""
        first, last = partitions
        return (
            f"{alias}.partition_date BETWEEN DATE '{first.isoformat()}' "
            f"AND DATE '{last.isoformat()}' AND "
        )

    ctx = z.context_start.strftime("%Y-%m-%d %H:%M:%S+00")
    scope = z.scope_start.strftime("%Y-%m-%d %H:%M:%S+00")

    def in_zone(alias: str) -> str:
        return (
            f"{alias}.queued_at >= TIMESTAMPTZ '{ctx}' "
            f"AND {alias}.queued_at < TIMESTAMPTZ '{scope}'"
        )

    # The parent lookup's hash table holds only the staged ids that some zone leg names as its
    # parent (transfers: ~6 % of the legs), not every id of the window, which an anti-join
    # against the whole window built (about half the memory). A LEFT JOIN, not NOT IN:
    # PostgreSQL hashes a NOT IN subquery only when it fits in work_mem, else it rescans it
    # for every row.
    return f"""
WITH parents_staged AS (
    SELECT DISTINCT parent.interaction_id
    FROM {source} AS parent
    WHERE {within("parent")}parent.interaction_id IN (
        SELECT trim(child.parent_interaction_id)
        FROM {source} AS child
        WHERE {within("child")}{in_zone("child")}
            AND nullif(trim(child.parent_interaction_id), '') IS NOT NULL
    )
)
SELECT leg.customer_id, leg.customer_email, leg.customer_phone, max(leg.queued_at) AS last_queued_at
FROM {source} AS leg
LEFT JOIN parents_staged AS staged_parent
    ON staged_parent.interaction_id = trim(leg.parent_interaction_id)
WHERE {within("leg")}{in_zone("leg")}
    AND (
        nullif(trim(leg.parent_interaction_id), '') IS NULL
        OR trim(leg.parent_interaction_id) = leg.interaction_id
        OR staged_parent.interaction_id IS NULL
    )
GROUP BY leg.customer_id, leg.customer_email, leg.customer_phone"""


def input_selects(qualify: Callable[[str], str], window: InputWindow, z: Zones) -> dict[str, str]:
    """The SELECTs of the staged rows ``compute_outcomes`` needs for ``window``, and no more
    (one per feed in FEEDS, plus ``context``); ``qualify`` names a staging table in SQL.

    Portable (DuckDB and PostgreSQL): the caller runs them in the warehouse (reading Arrow
    out) or in the engine session over the attached file (:class:`AttachedInputs`).

    - interactions: full rows of the main zone only (partitions from ``z.margin_day``); the
      context zone before it (W days) is reduced to each identifier triple's latest start
      (``context``, :func:`context_sql`), so a night reads ~2 days of rows, not W + 2; with
      ``z.zone_end`` only the legs queued in ``z.margin_start``..``z.zone_end`` (what
      int_zone_leg_deliveries.sql keeps; such selects give the bounded main zone only, not
      ``bound_main_zone=False``);
    - survey responses: the window's partitions;
    - customers, subscription events: every partition up to the window's end (histories);
    - cases: only versions of cases the main zone's interactions refer to (a year of case
      history is not read every night; with ``z.zone_end``, the legs of the zone's queued_at
      bound).
    """
    stg_interactions = qualify(STAGING_TABLES["interactions"].name)
    main = f"DATE '{z.margin_day.isoformat()}' AND DATE '{window.end.isoformat()}'"
    # The rows int_zone_leg_deliveries.sql keeps (queued in margin_start..zone_end), selected
    # where they are: a late delivery can sit in any partition up to as_of, so the partitions
    # stay as they were; the bound keeps an early chunk of a long range from reading the
    # range's contacts.
    in_zone = ""
    if z.zone_end is not None:
        in_zone = (
            f" AND queued_at BETWEEN TIMESTAMPTZ '{_literal(z.margin_start)}'"
            f" AND TIMESTAMPTZ '{_literal(z.zone_end)}'"
        )
    out: dict[str, str] = {}
    for name in FEEDS:
        first, last = window.for_input(name)
        if name == "interactions":
            first = z.margin_day
        where = ""
        if name == "interactions":
            where = in_zone
        if name == "cases":
            where = (
                f" AND case_id IN (SELECT trim(case_id) FROM {stg_interactions}"
                f" WHERE partition_date BETWEEN {main}{in_zone} AND case_id IS NOT NULL)"
            )
        out[name] = partitions_select(qualify, name, first, last) + where
    out["context"] = context_sql(stg_interactions, z, (window.start, window.end))
    return out


def partitions_select(
    qualify: Callable[[str], str], name: str, first: date | None, last: date
) -> str:
    """SELECT of the columns the computation reads (``input_schema``) of staged feed
    ``name``'s partitions ``first``..``last`` (first None: from the first partition)."""
    cols = ", ".join(f'"{c}"' for c in input_schema(name).names)
    where = f"partition_date <= DATE '{last.isoformat()}'"
    if first is not None:
        where += f" AND partition_date >= DATE '{first.isoformat()}'"
    return f"SELECT {cols} FROM {qualify(STAGING_TABLES[name].name)} WHERE {where}"


def _literal(instant: datetime) -> str:
    """A timestamptz literal both dialects read, to the microsecond."""
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S.%f+00")
