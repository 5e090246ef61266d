"""The relations of the outcome session, in the order they are built, and what each reads.

Layers: the ``in_*`` inputs and fixed lists (``compute.prepare_session``), then the
intermediates ``int_*`` (``sql/int_<name>.sql``, one relation per file, its grain in the
first comment line), then the marts ``mart_*`` (``sql/mart_<table>.sql``: the SELECT of one
outcome table, read into Arrow). ``sql/macros.sql`` holds the macros, which are not relations.

Lifetimes are declared, not written as DROPs: each intermediate lists the relations it
reads, and :func:`expiring_after` derives from these lists when a relation is no longer
needed. A relation is dropped right after the last relation that reads it (peak memory);
one a mart reads lives to the end of the session. A view is only a name for its query, so a
relation read by a view lives as long as the view's readers need it. A test checks that
every list names exactly the relations its SQL reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")

# The lookups resolve_identity (sql/macros.sql) reads: every relation calling it reads them.
IDENTITY_LOOKUPS = ("int_crm_ids", "int_crm_by_email", "int_crm_by_phone")
# Inputs copied into the session (a TEMP TABLE, not a view) when read in place from the
# warehouse file: the customer history is read three times by int_crm_versions' ranking
# (a copy is cheaper than three scans; the interactions, read as views, gain nothing from a
# copy but its memory). The copy is dropped after its last reader, like an intermediate.
MATERIALISED = frozenset({"customers"})


@dataclass(frozen=True)
class Relation:
    """``sql/<name>.sql`` creates relation ``name`` (a TEMP TABLE, or a VIEW) from ``reads``."""

    name: str
    reads: tuple[str, ...]
    is_view: bool = False

    @property
    def file(self) -> Path:
        return SQL_DIR / f"{self.name}.sql"


def _r(name: str, *reads: str, view: bool = False) -> Relation:
    return Relation(name, reads, view)


RELATIONS: tuple[Relation, ...] = (
    # CRM history and the identity lookups.
    _r("int_crm_versions", "in_customers"),
    _r("int_crm_first", "int_crm_versions"),
    _r("int_crm_history", "int_crm_versions", "int_crm_first"),
    _r("int_crm_ids", "int_crm_first"),
    _r(
        "int_identity_candidates",
        "int_crm_versions",
        "in_interactions",
        "in_survey_responses",
        "in_context",
        "int_crm_ids",
    ),
    _r("int_crm_identifiers", "int_crm_versions", "int_identity_candidates"),
    _r("int_crm_by_email", "int_crm_identifiers"),
    _r("int_crm_by_phone", "int_crm_identifiers"),
    # Legs and their transfer chains.
    _r("int_zone_leg_deliveries", "in_interactions_main", view=True),
    _r("int_leg_redeliveries", "int_zone_leg_deliveries"),
    _r("int_zone_legs", "int_zone_leg_deliveries", "int_leg_redeliveries", view=True),
    _r("int_leg_links", "int_zone_legs", "int_zone_leg_deliveries"),
    _r("int_leg_roots", "int_leg_links"),
    _r("int_margin_chains", "int_leg_roots", "int_zone_legs"),
    _r("int_legs", "int_zone_legs", "int_margin_chains", "int_leg_roots", view=True),
    # Contacts, context, surveys: each resolves identities.
    _r("int_contacts", "int_leg_roots", "int_legs", *IDENTITY_LOOKUPS),
    _r("int_context_last", "in_context", "int_contacts", *IDENTITY_LOOKUPS),
    _r("int_surveys", "in_survey_responses", *IDENTITY_LOOKUPS),
    # Repeats and journeys.
    _r("int_case_closures", "in_cases", "int_contacts"),
    _r("int_contact_sequence", "int_contacts", "int_context_last"),
    _r("int_contact_journey", "int_contact_sequence"),
    _r(
        "int_contact_facts",
        "int_contacts",
        "int_case_closures",
        "int_crm_history",
        "int_contact_sequence",
        "int_contact_journey",
        "int_crm_first",
    ),
    _r("int_journey_facts", "int_contact_facts"),
    # Surveys and churn linked to journeys.
    _r(
        "int_survey_links", "int_surveys", "int_leg_roots", "int_contact_facts", "int_journey_facts"
    ),
    _r("int_journey_surveys", "int_survey_links"),
    _r("int_subscription_events", "in_subscription_events"),
    _r("int_journey_churn", "int_subscription_events", "int_journey_facts"),
    _r("int_journeys", "int_journey_facts", "days", "int_journey_surveys", "int_journey_churn"),
    # Legs of the computed days, the daily spine, day maturity.
    _r(
        "int_leg_facts",
        "days",
        "sync_channels",
        "int_zone_legs",
        "int_leg_links",
        "int_leg_roots",
        "int_contact_facts",
        view=True,
    ),
    _r("int_leg_daily", "int_leg_facts"),
    _r("int_daily_spine", "int_leg_daily", "days", "dim_channels", "dim_segments"),
    _r("int_day_status", "days", "int_journeys"),
)

# {outcome table: the relations its mart (sql/mart_<table>.sql) reads}.
MARTS: dict[str, tuple[str, ...]] = {
    "journeys": ("int_journeys",),
    "journey_contacts": ("int_contact_facts", "int_journeys"),
    "daily_outcomes": (
        "int_journeys",
        "int_survey_links",
        "int_contact_facts",
        "days",
        "int_daily_spine",
        "int_day_status",
    ),
    "daily_outputs": ("int_leg_daily", "int_daily_spine", "int_day_status"),
    "daily_agent_output_vs_outcome": ("int_leg_daily", "int_contact_facts", "days"),
    "customer_outcomes": ("int_subscription_events", "int_journeys"),
    "daily_channel_switches": (
        "int_contact_facts",
        "int_journeys",
        "days",
        "dim_channels",
        "int_day_status",
    ),
    "daily_time_to_resolution": ("int_journeys", "days", "ttr_buckets", "int_day_status"),
    "daily_churn_by_outcome": ("int_journeys", "days", "int_day_status"),
}


def mart_file(table: str) -> Path:
    return SQL_DIR / f"mart_{table}.sql"


def _uses(reads: tuple[str, ...], views: dict[str, Relation]) -> set[str]:
    """``reads`` and, through each view among them, what the view reads (transitively)."""
    out: set[str] = set()
    todo = list(reads)
    while todo:
        name = todo.pop()
        if name not in out:
            out.add(name)
            if name in views:
                todo.extend(views[name].reads)
    return out


@cache
def expiring_after() -> dict[str, tuple[str, ...]]:
    """{relation: the relations (and materialised inputs) to drop right after it is built}.

    Derived from ``reads``: a relation expires after its last reader; one a mart reads
    (directly or through a view) never expires before the session ends.
    """
    views = {r.name: r for r in RELATIONS if r.is_view}
    last_reader: dict[str, str] = {}
    for relation in RELATIONS:
        for used in _uses(relation.reads, views):
            last_reader[used] = relation.name
    kept = set().union(*(_uses(reads, views) for reads in MARTS.values()))
    droppable = {r.name for r in RELATIONS} | {f"in_{name}" for name in MATERIALISED}
    out: dict[str, list[str]] = {r.name: [] for r in RELATIONS}
    for name, reader in last_reader.items():
        if name in droppable and name not in kept:
            out[reader].append(name)
    return {name: tuple(sorted(expired)) for name, expired in out.items()}
