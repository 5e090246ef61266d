"""What to generate, and the seeded random streams the generation draws from."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

# Profiles: the generator's shape knobs, calibrated so the pipeline's own outcome tables land
# on published contact-center figures (measured by benchmarks/calibration.py; the table is in
# benchmarks/PERFORMANCE.md, "Sample data at real proportions"; docs/sample_data.md explains).
#
# Sources (what each figure is, where it was found):
# - SQM Group, "Call Center Best Practices" (Mike Desmarais): average call-center FCR 67 %,
#   about 1.5 calls to resolve; world class >= 80 %, about 1.2 calls.
#   http://www.sqmgroup.com/top-10-call-center-best-practices
# - SQM Group, "Call Center Customer Experience Research": call-center FCR 70 %, one-contact
#   resolution 59 %; 20 % of callers used two or more channels.
#   https://www.sqmgroup.com/resources/library/blog/call-center-customer-experience-research
# - cleartouch, "Repeat calls in call centers": repeat call rate within 7-30 days; healthy
#   below 20 %, high performers below 10 %.
#   https://cleartouch.in/blog/repeat-calls-in-call-centers-and-how-to-reduce-them
# - consumercoresolutions, "The real cost of a repeat contact": 7-day contact repeat rate;
#   above 20 % signals a systemic problem.
#   https://consumercoresolutions.com/blog/post.php?slug=real-cost-of-repeat-customer-contacts
# - ziwo, "Why the second call costs more than the first": 25-30 % of inbound volume is repeat
#   contact at a typical center, over 40 % in some finance and telecom operations.
#   https://wwww-staging.ziwo.io/why-second-call-costs-more-than-the-first/
# - ~63 % repeat contacts among a real bank's identified callers, heavy callers included:
#   a figure from a real bank's call log we were shown; we found no published page stating it,
#   so it is a target for the skewed profile, not a citation.
#
# The generator's repeat contacts have two causes: the same issue coming back (set by how
# often a contact resolves it: resolve_factor) and another issue of the same customer within
# the window (set by how many customers share the volume, customers_per_interaction, and how
# unevenly: activity_sigma, heavy_share). The pipeline cannot tell them apart, nor can a real
# center's 7-day repeat rate.

# default: an average center (SQM): FCR ~67 %, ~1.3-1.5 contacts per journey, 7-day repeat
# rate ~25-30 % (above the 20 % "healthy" line, like a typical center).
DEFAULT_ACTIVITY_SIGMA = 0.5
DEFAULT_HEAVY_SHARE = 0.005
DEFAULT_CUSTOMERS_PER_INTERACTION = 60.0
DEFAULT_RESOLVE_FACTOR = 1.2
# Delivered interaction rows per issue (legs of all its contacts, redeliveries included),
# measured per profile: it turns interactions_per_day into a daily number of new issues, and
# fewer repeats mean fewer rows per issue.
DEFAULT_ROWS_PER_ISSUE = 1.46
# The base grows with the volume up to this; past max_customers / customers_per_interaction
# interactions a day the same customers call more often and repeats rise (see docs).
DEFAULT_MAX_CUSTOMERS = 12_000_000
# skewed: a bank-like base with heavy callers (a long-tailed activity and one account raising
# 2 % of all issues): ~60 % repeat contacts, ~2.5 contacts per journey, FCR ~53-57 %.
SKEWED = {
    "activity_sigma": 1.0,
    "heavy_share": 0.02,
    "customers_per_interaction": 12.0,
    "resolve_factor": 1.0,
    "rows_per_issue": 1.53,
}
# extreme: the skew benchmarks used before calibration, kept as a stress case: 9 customers
# per daily interaction, a 1M cap (at 1M/day: 94 % repeat contacts, ~17 contacts a journey).
EXTREME = {**SKEWED, "customers_per_interaction": 9.0, "max_customers": 1_000_000}
PROFILES: dict[str, dict[str, float]] = {"default": {}, "skewed": SKEWED, "extreme": EXTREME}
# Measured bands of the calibrated profiles (benchmarks/calibration.py; tested on a small sample).
BANDS: dict[str, dict[str, tuple[float, float]]] = {
    "default": {"repeat_contact_rate": (0.18, 0.35), "contacts_per_journey": (1.2, 1.6)},
    "skewed": {"repeat_contact_rate": (0.45, 0.68), "contacts_per_journey": (1.8, 3.2)},
}


@dataclass(frozen=True)
class GeneratorConfig:
    """One generation run.

    ``interactions_per_day`` is the weekly mean of delivered interaction rows (contact legs)
    per business day: weekdays get more, weekends fewer. The shares below are the delivery
    imperfections of a real landing zone; they have sensible defaults so the CLI only sets
    the first seven fields.
    """

    out_dir: Path
    start: date
    days: int
    interactions_per_day: int
    seed: int
    defect_rate: float = 0.0
    timezone: str = "Europe/London"
    # Share of a day's interactions delivered in the next day's folder (interactions_late.*).
    late_share: float = 0.015
    # Share of a day's rows delivered a second time in the same day folder.
    duplicate_share: float = 0.02
    # Days of issues simulated before `start` so day one already sees repeat contacts.
    warmup_days: int = 7
    # Customer base is customers_per_interaction x the daily interactions, within these bounds.
    min_customers: int = 200
    max_customers: int = DEFAULT_MAX_CUSTOMERS
    # Cap on any one file's rows, so 1M/day renders in bounded memory chunks.
    render_chunk_rows: int = 250_000
    # The profile (PROFILES above; defaults: "default"). Skew of contact activity across
    # customers: sigma of the lognormal activity weights, and the share of all issues raised
    # by the one very heavy (enterprise) customer; customers in the base per daily
    # interaction; a multiplier on every contact's chance to resolve its issue.
    activity_sigma: float = DEFAULT_ACTIVITY_SIGMA
    heavy_share: float = DEFAULT_HEAVY_SHARE
    customers_per_interaction: float = DEFAULT_CUSTOMERS_PER_INTERACTION
    resolve_factor: float = DEFAULT_RESOLVE_FACTOR
    rows_per_issue: float = DEFAULT_ROWS_PER_ISSUE

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        if self.days < 1:
            raise ValueError(f"days must be >= 1, got {self.days}")
        if self.interactions_per_day < 1:
            raise ValueError(f"interactions_per_day must be >= 1, got {self.interactions_per_day}")
        if not 0.0 <= self.defect_rate < 1.0:
            raise ValueError(f"defect_rate must be in [0, 1), got {self.defect_rate}")
        for name in ("late_share", "duplicate_share"):
            if not 0.0 <= getattr(self, name) < 0.5:
                raise ValueError(f"{name} must be in [0, 0.5)")
        if not 0.0 < self.activity_sigma <= 3.0:
            raise ValueError(f"activity_sigma must be in (0, 3], got {self.activity_sigma}")
        if not 0.0 <= self.heavy_share < 0.5:
            raise ValueError(f"heavy_share must be in [0, 0.5), got {self.heavy_share}")
        if not 1.0 <= self.customers_per_interaction <= 1000.0:
            raise ValueError(
                f"customers_per_interaction must be in [1, 1000], got "
                f"{self.customers_per_interaction}"
            )
        if not 1.0 <= self.rows_per_issue <= 5.0:
            raise ValueError(f"rows_per_issue must be in [1, 5], got {self.rows_per_issue}")
        if not 0.1 <= self.resolve_factor <= 3.0:
            raise ValueError(f"resolve_factor must be in [0.1, 3], got {self.resolve_factor}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc

    @classmethod
    def for_profile(cls, profile: str, **fields: object) -> GeneratorConfig:
        """A config of the named profile (PROFILES); ``fields`` as the constructor's."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")
        return cls(**{**PROFILES[profile], **fields})  # type: ignore[arg-type]

    @property
    def end(self) -> date:
        """First business day after the generated range (exclusive end)."""
        return self.start + timedelta(days=self.days)

    @property
    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def n_customers(self) -> int:
        base = round(self.customers_per_interaction * self.interactions_per_day)
        return int(np.clip(base, self.min_customers, self.max_customers))

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly view for the manifest."""
        out = asdict(self)
        out["out_dir"] = str(self.out_dir)
        out["start"] = self.start.isoformat()
        return out


def rng_for(seed: int, *keys: int | str) -> np.random.Generator:
    """An independent random stream for (seed, keys...).

    Streams are keyed by *what* they generate (e.g. ``("issues", day_ordinal)``), not by
    position in the run, so lengthening a run leaves its earlier days byte-identical.
    """
    words = tuple(k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys)
    return np.random.default_rng(np.random.SeedSequence(seed % 2**64, spawn_key=words))
