"""Who exists: the CRM customer base (plus the run's new signups) and the agents.

Contact activity is lognormal across customers (most rarely call, a few call often) with one
very heavy enterprise account, as every real contact center has one. Emails and phone numbers
are unique per customer so identity resolution has a right answer to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.generator import catalog as cat
from outcome_pipeline.generator.config import GeneratorConfig, rng_for
from outcome_pipeline.generator.timeutil import DAY, NA, BusinessClock, epoch_day

SIGNUPS_PER_DAY = 0.0012  # new customers a day, as a share of the base
TROUBLED_SHARE = 0.1  # customers with a chronic problem ...
TROUBLED_EASE = 0.4  # ... whose contacts resolve 0.4x as often
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)
_HEX4 = np.frombuffer("".join(f"{i:04x}" for i in range(65536)).encode(), np.uint8).reshape(-1, 4)


@dataclass
class Population:
    """Customers (base first, then the run's signups in day order) and agents."""

    n_base: int
    customer_id: pa.Array
    segment: np.ndarray
    plan: np.ndarray
    mrr: np.ndarray
    region: np.ndarray
    email: pa.Array
    phone: pa.Array
    created_at: np.ndarray
    last_modified: np.ndarray  # last CRM change before the run (base); created_at (signups)
    signup_day: np.ndarray  # epoch day of signup within the run, NA for the base
    ease: np.ndarray  # multiplier on the chance a contact resolves this customer's issue
    activity_cdf: np.ndarray  # over the base only
    heavy: int
    agent_id: pa.Array
    agent_team: np.ndarray
    agent_skill: np.ndarray
    team_first_agent: np.ndarray
    team_agents: np.ndarray

    @property
    def n(self) -> int:
        return len(self.segment)


_LUT_BITS = 16
_LUTS: dict[tuple[tuple[int, ...], bytes], np.ndarray] = {}


def _lookup_table(table: np.ndarray) -> np.ndarray:
    """(G, 2^16) inverse CDFs: the category of each 1/65536 slice of [0, 1), per row.

    Sampling becomes one gather instead of a binary search per draw; probabilities are
    resolved to 1/65536, plenty for a simulation. Cached, since the tables are constants.
    """
    key = (table.shape, table.tobytes())
    lut = _LUTS.get(key)
    if lut is None:
        cdf = np.cumsum(table, axis=1)
        cdf = cdf / cdf[:, -1:]
        grid = (np.arange(2**_LUT_BITS) + 0.5) / 2**_LUT_BITS
        lut = np.stack([np.searchsorted(row, grid, side="right") for row in cdf])
        lut = np.minimum(lut, table.shape[1] - 1).astype(np.int16)
        _LUTS[key] = lut
    return lut


def _slices(rng: np.random.Generator | np.ndarray, n: int) -> np.ndarray:
    if isinstance(rng, np.random.Generator):
        return rng.integers(0, 2**_LUT_BITS, n)
    return (np.asarray(rng) * 2**_LUT_BITS).astype(np.int64)


def categorical(
    rng: np.random.Generator | np.ndarray, table: np.ndarray, group: np.ndarray
) -> np.ndarray:
    """One draw per row from ``table[group[i]]`` (a (G, K) matrix of probabilities).

    ``rng`` may also be an array of uniforms (one per row) to draw with.
    """
    lut = _lookup_table(np.asarray(table, dtype=np.float64))
    group = np.asarray(group, dtype=np.int64)
    return lut.ravel()[(group << _LUT_BITS) + _slices(rng, len(group))].astype(np.int64)


def choice(rng: np.random.Generator | np.ndarray, n: int, probs: np.ndarray) -> np.ndarray:
    """``n`` draws from one probability vector (``rng`` may be an array of uniforms)."""
    lut = _lookup_table(np.asarray(probs, dtype=np.float64)[None, :])
    return lut[0][_slices(rng, n)].astype(np.int64)


class KeyedUniforms:
    """Uniforms that are a pure function of (salt, key, stream): a counter-based generator.

    A row keyed by its own identity (e.g. the contact's index in its batch) draws the same
    numbers whichever other rows are drawn with it, so selecting a subset never shifts the
    stream: the same contact gets the same survey however many days the run covers.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.salt = int(rng.integers(0, 2**63))

    def __call__(self, keys: np.ndarray, stream: int) -> np.ndarray:
        x = np.asarray(keys, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= np.uint64((self.salt + stream * 0xD1B54A32D192ED03) % 2**64)
        # splitmix64 finaliser
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
        return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)

    def normal(self, keys: np.ndarray, stream: int) -> np.ndarray:
        """Standard normal draws (Box-Muller on two keyed uniforms)."""
        u1 = 1.0 - self(keys, stream)
        u2 = self(keys, stream + 1000)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2)


def digits(values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal strings."""
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")


def hex_ids(prefix: str, namespace: int, values: np.ndarray) -> pa.Array:
    """Opaque ids like ``ix-3fa2c19b0e44``: a bijective mix of (namespace, value).

    Real platforms hand out random-looking ids; a bijection keeps them unique and seeded.
    Callers use ``namespace = day * 16 + kind`` so ids never collide across days or kinds.
    """
    mask = np.uint64(2**48 - 1)
    values = np.asarray(values, dtype=np.uint64)
    if len(values) and (values.max() >= 2**24 or not 0 <= namespace < 2**24):
        raise ValueError("id space exhausted: 2^24 ids per namespace")
    mask = np.uint64(2**48 - 1)
    x = (np.uint64(namespace) << np.uint64(24)) | values
    # Each step is a bijection on 48 bits: odd multiplications and xor-shifts.
    x = ((x + np.uint64(0x5DEECE66D)) * _MIX) & mask
    x ^= x >> np.uint64(23)
    x = (x * _MIX2) & mask
    x ^= x >> np.uint64(21)
    n, p = len(values), len(prefix)
    width = p + 12
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, :p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    for i, shift in enumerate((32, 16, 0)):
        quad = ((x >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.intp)
        buf[:, p + 4 * i : p + 4 * i + 4] = _HEX4[quad]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.reshape(-1)))


def e164(numbers: np.ndarray) -> pa.Array:
    """Unique UK mobile numbers in E.164 from distinct integers (a bijection mod 10^9)."""
    local = (np.asarray(numbers, dtype=np.int64) * 387_420_489 + 123_456_789) % 1_000_000_000
    return pc.binary_join_element_wise("+447", digits(local, 9), "")


def _take(values: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values), pa.array(idx))


def _emails(rng: np.random.Generator, number: np.ndarray, segment: np.ndarray) -> pa.Array:
    first = _take(tuple(cat.FIRST_NAMES), rng.integers(0, len(cat.FIRST_NAMES), len(number)))
    last = _take(tuple(cat.LAST_NAMES), rng.integers(0, len(cat.LAST_NAMES), len(number)))
    personal = _take(cat.CONSUMER_DOMAINS, rng.integers(0, len(cat.CONSUMER_DOMAINS), len(number)))
    company = pc.binary_join_element_wise(
        _take(tuple(cat.COMPANY_WORDS), rng.integers(0, len(cat.COMPANY_WORDS), len(number))),
        ".co.uk",
        "",
    )
    domain = pc.if_else(pa.array(segment == 0), personal, company)
    # The customer number makes the address unique (names carry no digits).
    local = pc.binary_join_element_wise(first, ".", last, digits(number, 1), "")
    return pc.binary_join_element_wise(local, domain, "@")


def _customers(
    rng: np.random.Generator, numbers: np.ndarray, created_at: np.ndarray
) -> dict[str, object]:
    n = len(numbers)
    segment = choice(rng, n, cat.SEGMENT_P).astype(np.int8)
    plan = categorical(rng, cat.PLAN_P, segment).astype(np.int8)
    mrr = cat.PLAN_PRICE[plan] * cat.SEGMENT_MRR_MULT[segment] * rng.lognormal(0, 0.25, n)
    email = _emails(rng, numbers, segment)
    email = pc.if_else(pa.array(rng.random(n) < 0.04), pa.scalar(None, pa.string()), email)
    phone = pc.if_else(pa.array(rng.random(n) < 0.12), pa.scalar(None, pa.string()), e164(numbers))
    return {
        "customer_id": pc.binary_join_element_wise("C", digits(numbers, 7), ""),
        "segment": segment,
        "plan": plan,
        "mrr": np.round(mrr, 2),
        "region": choice(rng, n, np.array([4, 3, 2, 3, 2, 1.5, 1.5, 1, 0.6])).astype(np.int8),
        "email": email,
        "phone": phone,
        "created_at": created_at,
    }


def _agents(cfg: GeneratorConfig, rng: np.random.Generator) -> dict[str, np.ndarray | pa.Array]:
    counts = np.array(
        [max(3, round(t.agents_per_1k * cfg.interactions_per_day / 1000)) for t in cat.TEAMS]
    )
    team = np.repeat(np.arange(len(cat.TEAMS)), counts)
    within = np.concatenate([np.arange(1, c + 1) for c in counts])
    codes = _take(tuple(t.code for t in cat.TEAMS), team)
    return {
        "agent_id": pc.binary_join_element_wise("AG-", codes, "-", digits(within, 4), ""),
        "agent_team": team,
        "agent_skill": rng.lognormal(0, 0.12, len(team)),
        "team_first_agent": np.concatenate([[0], np.cumsum(counts)[:-1]]),
        "team_agents": counts,
    }


def build_population(cfg: GeneratorConfig, clock: BusinessClock) -> Population:
    """The base (created before ``start``) and every signup of the run, by day."""
    rng = rng_for(cfg.seed, "population", cfg.n_customers)
    n_base = cfg.n_customers
    start_day = epoch_day(cfg.start)
    age_days = rng.uniform(20, 2200, n_base)
    created = start_day * DAY - (age_days * DAY).astype(np.int64)
    base = _customers(rng, np.arange(1, n_base + 1), created)
    last_modified = created + (rng.random(n_base) * (start_day * DAY - created)).astype(np.int64)

    activity = (
        rng.lognormal(0, cfg.activity_sigma, n_base) * np.array([1.0, 1.6, 3.0])[base["segment"]]
    )
    enterprise = np.flatnonzero(base["segment"] == 2)
    heavy = int(enterprise[0]) if len(enterprise) else 0
    activity[heavy] = 0
    # The heavy customer raises heavy_share of all issues.
    activity[heavy] = cfg.heavy_share * activity.sum() / (1 - cfg.heavy_share)
    cdf = np.cumsum(activity)

    # Signups: one stream per day so a longer run keeps its earlier days.
    parts, signup_day, next_number = [], [], n_base + 1
    for d in range(start_day, start_day + cfg.days):
        drng = rng_for(cfg.seed, "signups", d)
        k = int(drng.poisson(n_base * SIGNUPS_PER_DAY * cat.DOW_FACTOR[(d + 3) % 7]))
        tod = drng.integers(7 * 3600, 23 * 3600, k)
        created_k = clock.local_to_utc(d * DAY + tod)
        parts.append(_customers(drng, np.arange(next_number, next_number + k), created_k))
        signup_day.append(np.full(k, d))
        next_number += k

    def cat_col(name: str) -> np.ndarray | pa.Array:
        cols = [base[name]] + [p[name] for p in parts]
        if isinstance(base[name], np.ndarray):
            return np.concatenate(cols)
        return pa.concat_arrays(cols)

    signups_created = np.concatenate([p["created_at"] for p in parts]) if parts else []
    agents = _agents(cfg, rng)
    # A minority of customers have a chronic problem (a faulty line, a legacy account):
    # their issues resolve less often, so failed journeys cluster on the same customers.
    n_all = n_base + len(signups_created)
    ease = np.where(rng.random(n_all) < TROUBLED_SHARE, TROUBLED_EASE, 1.0)
    return Population(
        n_base=n_base,
        customer_id=cat_col("customer_id"),
        segment=cat_col("segment"),
        plan=cat_col("plan"),
        mrr=cat_col("mrr"),
        region=cat_col("region"),
        email=cat_col("email"),
        phone=cat_col("phone"),
        created_at=cat_col("created_at"),
        last_modified=np.concatenate([last_modified, signups_created]).astype(np.int64),
        signup_day=np.concatenate([np.full(n_base, NA), *signup_day]).astype(np.int64),
        ease=ease,
        activity_cdf=cdf,
        heavy=heavy,
        **agents,
    )
