"""The peer: the same figures as a data analyst would compute them in plain pandas.

Same logical work as the limit (see ``limit.py``): read the day's interaction and customer
files (``pd.read_csv`` / ``read_json`` / ``read_parquet``), parse timestamps, keep the latest
delivery of each id, keep staged days as Parquet files; then over the staged window: dedupe
legs across deliveries, contacts = legs without a transfer parent in the window, customer key
by the identity rules (``str`` methods, ``map`` for lookups, ``hashlib`` for pseudonyms),
``sort_values`` + ``groupby().shift()`` for the repeat window, ``groupby().agg()`` for the
daily rows, written with ``to_parquet``. The definitions, and why the journey horizon H
changes none of these figures, are the limit's (``limit.py``).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.limit import CC, CID_BAD_RE, EMAIL_BAD_RE, EMAIL_RE, FEEDS, PLACEHOLDER


def _timestamp_columns(types: dict[str, str]) -> list[str]:
    return [c for c, t in types.items() if t == "TIMESTAMPTZ"]


def _read_day(landing: Path, name: str, day: date) -> pd.DataFrame:
    feed, table, types, key = FEEDS[name]
    folder = landing / feed / day.isoformat()
    frames = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        stem, _, ext = path.name.rpartition(".")
        if not (stem == table or stem.startswith(table + "_")):
            continue
        if ext == "csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        elif ext == "jsonl":
            df = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
        elif ext == "parquet":
            df = pd.read_parquet(path)
        else:
            continue
        df["filename"] = str(path)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[*types, "filename"])
    df = pd.concat(frames, ignore_index=True)
    for col in _timestamp_columns(types):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    for col, t in types.items():
        if t == "VARCHAR":
            df[col] = df[col].astype("str")
        elif t in ("BIGINT", "DOUBLE"):
            df[col] = pd.to_numeric(df[col], errors="coerce")
        elif t == "BOOLEAN":
            df[col] = df[col].map({"true": True, "false": False, True: True, False: False})
    df = df.sort_values(["updated_at", "filename"]).drop_duplicates(key, keep="last")
    df["partition_date"] = day
    return df


def email_n(s: pd.Series) -> pd.Series:
    low = s.str.strip(" ").str.lower()
    ok = low.str.fullmatch(EMAIL_RE, na=False) & ~low.str.fullmatch(EMAIL_BAD_RE, na=False)
    return low.where(ok)


def phone_n(s: pd.Series) -> pd.Series:
    raw = s.fillna("")
    d = raw.str.replace("(0)", "", regex=False).str.replace(r"[^0-9]", "", regex=True)
    p = pd.Series(
        np.select(
            [
                raw.str.lstrip(" ").str.startswith("+"),
                d.str.startswith("00"),
                d.str.startswith("0"),
                d.str.len() >= 11,
            ],
            [d, d.str[2:], CC + d.str[1:], d],
            CC + d,
        ),
        index=s.index,
        dtype="str",
    )
    national = p.where(~p.str.startswith(CC), p.str[len(CC) :])
    ok = p.str.len().between(8, 15) & ~national.str.fullmatch(r"(\d)\1*") & s.notna()
    return ("+" + p).where(ok)


def _pseudonym(kind: str, value: str) -> str:
    return "pk_" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def cid_ok(t: pd.Series) -> pd.Series:
    return (
        ~t.str.lower().str.fullmatch(PLACEHOLDER, na=True)
        & ~t.str.fullmatch(CID_BAD_RE, na=True)
        & ~t.str.contains("@", regex=False, na=True)
    )


class Peer:
    """Staged days as Parquet files under ``folder``; outputs beside them."""

    def __init__(self, folder: Path, landing: Path, timezone: str, window_days: int = 7):
        self.folder, self.landing, self.timezone = folder, landing, timezone
        self.window = pd.Timedelta(days=window_days)
        for name in FEEDS:
            (folder / f"stg_{name}").mkdir(parents=True, exist_ok=True)
        (folder / "out").mkdir(parents=True, exist_ok=True)
        self.contacts: pd.DataFrame | None = None
        self.daily_frame: pd.DataFrame | None = None

    def load_day(self, day: date) -> int:
        staged = 0
        for name in FEEDS:
            df = _read_day(self.landing, name, day)
            df.to_parquet(self.folder / f"stg_{name}" / f"{day.isoformat()}.parquet")
            if name == "interactions":
                staged = len(df)
        return staged

    def _staged(self, name: str, first: date | None, last: date) -> pd.DataFrame:
        files = sorted((self.folder / f"stg_{name}").glob("*.parquet"))
        keep = [
            f
            for f in files
            if (first is None or date.fromisoformat(f.stem) >= first)
            and date.fromisoformat(f.stem) <= last
        ]
        return pd.concat([pd.read_parquet(f) for f in keep], ignore_index=True)

    def _keyed(
        self, df: pd.DataFrame, crm_ids: set, crm_e: pd.Series, crm_p: pd.Series
    ) -> pd.Series:
        cid_t = df["customer_id"].str.strip(" ")
        known = cid_t.isin(crm_ids)
        key = cid_t.where(known)
        rest = ~known
        en = email_n(df.loc[rest, "customer_email"])
        pn = phone_n(df.loc[rest, "customer_phone"])
        by_email = en.map(crm_e)
        by_phone = pn.map(crm_p)
        hashed_e = en[by_email.isna() & by_phone.isna() & en.notna()].map(
            lambda v: _pseudonym("email", v)
        )
        hashed_p = pn[by_email.isna() & by_phone.isna() & en.isna() & pn.notna()].map(
            lambda v: _pseudonym("phone", v)
        )
        unverified = cid_t[rest].where(cid_ok(cid_t[rest]))
        other = (
            by_email.combine_first(by_phone)
            .combine_first(hashed_e)
            .combine_first(hashed_p)
            .combine_first(unverified)
        )
        return key.combine_first(other)

    def transform(self, day: date, day_start_us: int, day_end_us: int) -> None:
        start = pd.Timestamp(day_start_us, unit="us", tz="UTC")
        end = pd.Timestamp(day_end_us, unit="us", tz="UTC")
        margin = start - pd.Timedelta(days=1)
        ctx_start = start - self.window

        customers = self._staged("customers", None, day)
        customers = customers[customers["updated_at"] <= end]
        customers = customers[cid_ok(customers["customer_id"])]
        crm_ids = set(customers["customer_id"])
        crm = pd.DataFrame(
            {
                "customer_id": customers["customer_id"],
                "e": email_n(customers["email"]),
                "p": phone_n(customers["phone"]),
            }
        )

        def unique_lookup(col: str) -> pd.Series:
            pairs = crm.dropna(subset=[col]).drop_duplicates(["customer_id", col])
            counts = pairs.groupby(col)["customer_id"].agg(["nunique", "min"])
            return counts.loc[counts["nunique"] == 1, "min"]

        crm_e, crm_p = unique_lookup("e"), unique_lookup("p")

        stg = self._staged("interactions", day - timedelta(days=9), day)
        stg["parent_id"] = stg["parent_interaction_id"].str.strip(" ").replace("", None)
        main = stg[
            (stg["partition_date"] >= day - timedelta(days=1))
            & (stg["queued_at"] >= margin)
            & (stg["queued_at"] <= end)
        ]
        legs = main.sort_values(["updated_at", "partition_date", "filename"]).drop_duplicates(
            "interaction_id", keep="last"
        )
        ids = set(legs["interaction_id"])
        root = (
            legs["parent_id"].isna()
            | (legs["parent_id"] == legs["interaction_id"])
            | ~legs["parent_id"].isin(ids)
        )
        contacts = legs[root].copy()
        contacts["customer_key"] = self._keyed(contacts, crm_ids, crm_e, crm_p)

        # Context roots by the main zone's rule: no parent, itself, or a parent not among
        # the staged rows read (e.g. begun before the first staged day).
        staged_ids = set(stg["interaction_id"])
        ctx = stg[
            (stg["queued_at"] >= ctx_start)
            & (stg["queued_at"] < margin)
            & (
                stg["parent_id"].isna()
                | (stg["parent_id"] == stg["interaction_id"])
                | ~stg["parent_id"].isin(staged_ids)
            )
        ].copy()
        ctx["customer_key"] = self._keyed(ctx, crm_ids, crm_e, crm_p)
        ctx_last = ctx.dropna(subset=["customer_key"]).groupby("customer_key")["queued_at"].max()

        known = (
            contacts.dropna(subset=["customer_key"])
            .merge(ctx_last.rename("ctx_last"), "left", left_on="customer_key", right_index=True)
            .sort_values(["customer_key", "queued_at", "interaction_id"])
        )
        g = known.groupby("customer_key", sort=False)["queued_at"]
        prev = g.shift(1).fillna(known["ctx_last"])
        nxt = g.shift(-1)
        known["is_repeat"] = (known["queued_at"] - prev <= self.window).fillna(False)
        known["is_followed_within_window"] = (nxt - known["queued_at"] <= self.window).fillna(False)
        anonymous = contacts[contacts["customer_key"].isna()].assign(
            is_repeat=False, is_followed_within_window=False
        )
        both = pd.concat([known, anonymous], ignore_index=True)
        both = both[(both["queued_at"] >= start) & (both["queued_at"] < end)]
        self.contacts = both[
            [
                "interaction_id",
                "customer_key",
                "channel",
                "queued_at",
                "is_repeat",
                "is_followed_within_window",
            ]
        ].rename(columns={"interaction_id": "contact_id", "queued_at": "started_at"})

    def daily(self, day: date) -> None:
        c = self.contacts
        assert c is not None
        ident = c["customer_key"].notna()
        starts = ident & ~c["is_repeat"]
        frame = pd.DataFrame(
            {
                "channel": c["channel"],
                "contacts": ident,
                "anonymous_contacts": ~ident,
                "repeat_contacts": c["is_repeat"],
                "journeys_started": starts,
                "multi_contact_journeys": starts & c["is_followed_within_window"],
            }
        )
        daily = frame.groupby("channel").sum().reset_index()
        daily.insert(0, "partition_date", day)
        self.daily_frame = daily

    def persist(self, day: date) -> int:
        assert self.contacts is not None and self.daily_frame is not None
        out = self.folder / "out"
        self.contacts.to_parquet(out / f"contacts_{day.isoformat()}.parquet", index=False)
        self.daily_frame.to_parquet(out / f"daily_{day.isoformat()}.parquet", index=False)
        return len(self.contacts)

    def figures(self, day: date) -> dict[str, int]:
        assert self.daily_frame is not None
        staged = pd.read_parquet(self.folder / "stg_interactions" / f"{day.isoformat()}.parquet")
        sums = self.daily_frame.drop(columns=["partition_date", "channel"]).sum()
        return {"interactions_staged": len(staged)} | {k: int(v) for k, v in sums.items()}
