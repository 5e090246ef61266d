"""What to generate, and the seeded random streams the generation draws from."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

DEFAULT_ACTIVITY_SIGMA = 0.5
DEFAULT_HEAVY_SHARE = 0.005
# Opt-in skew for performance work: a long-tailed base (a few customers call very often) and
# one account raising 2% of all issues, a single huge window partition for the journey step.
SKEWED = {"activity_sigma": 1.0, "heavy_share": 0.02}


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
    # Customer base is ~9x the daily interactions, within these bounds.
    min_customers: int = 200
    max_customers: int = 1_000_000
    # Cap on any one file's rows, so 1M/day renders in bounded memory chunks.
    render_chunk_rows: int = 250_000
    # Skew of contact activity across customers: sigma of the lognormal activity weights, and
    # the share of all issues raised by the one very heavy (enterprise) customer. The
    # defaults are the sample data's; benchmarks opt into a harsher skew (SKEWED below).
    activity_sigma: float = DEFAULT_ACTIVITY_SIGMA
    heavy_share: float = DEFAULT_HEAVY_SHARE

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
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc

    @property
    def end(self) -> date:
        """First business day after the generated range (exclusive end)."""
        return self.start + timedelta(days=self.days)

    @property
    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def n_customers(self) -> int:
        return int(np.clip(9 * self.interactions_per_day, self.min_customers, self.max_customers))

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly view for the manifest."""
        out = asdict(self)
        out["out_dir"] = str(self.out_dir)
        out["start"] = self.start.isoformat()
        # Skew options appear only when set, so default manifests stay byte-identical.
        if self.activity_sigma == DEFAULT_ACTIVITY_SIGMA:
            del out["activity_sigma"]
        if self.heavy_share == DEFAULT_HEAVY_SHARE:
            del out["heavy_share"]
        return out


def rng_for(seed: int, *keys: int | str) -> np.random.Generator:
    """An independent random stream for (seed, keys...).

    Streams are keyed by *what* they generate (e.g. ``("issues", day_ordinal)``), not by
    position in the run, so lengthening a run leaves its earlier days byte-identical.
    """
    words = tuple(k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys)
    return np.random.default_rng(np.random.SeedSequence(seed % 2**64, spawn_key=words))
