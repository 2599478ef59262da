"""The demo's tenants and when they use the product.

Customers sit on three plans (flat `starter`, seat-based `team` with an included allowance,
outcome-priced `support-pro`). Usage per customer is lognormal, a few planted power users sit
far in the tail, each customer grows at its own daily rate, and customers who sign up during the
window ramp up over two weeks. Arrivals are a Poisson process per customer and hour whose rate
follows the customer's local working day and week, so the ledger shows a weekly and a diurnal
rhythm.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unitecon.demo.catalog import CODING, SEARCH, SUPPORT

PLANS = ("starter", "team", "support-pro")
PLAN_SHARES = (0.55, 0.30, 0.15)
#: Region and its UTC offset [h] (fixed offsets; daylight saving is ignored).
REGIONS = (("us", -5), ("eu", 1), ("apac", 8))
REGION_SHARES = (0.55, 0.32, 0.13)

# Working-day shape per local hour (0..23), normalized below to a mean of 1.
_OFFICE = np.array(
    [0.04, 0.03, 0.03, 0.03, 0.04, 0.08, 0.2, 0.45, 0.9, 1.45, 1.6, 1.55,
     1.15, 1.45, 1.6, 1.5, 1.3, 0.95, 0.6, 0.42, 0.35, 0.28, 0.16, 0.08]
)  # fmt: skip
_CONSUMER = np.array(
    [0.2, 0.12, 0.1, 0.1, 0.12, 0.2, 0.4, 0.7, 1.0, 1.25, 1.35, 1.35,
     1.3, 1.35, 1.4, 1.4, 1.35, 1.3, 1.2, 1.15, 1.1, 0.95, 0.7, 0.4]
)  # fmt: skip
OFFICE_HOURS = _OFFICE / _OFFICE.mean()
CONSUMER_HOURS = _CONSUMER / _CONSUMER.mean()

_ADJ = (
    "Acme Blue Bright Cedar Delta Ember Fern Granite Harbor Iris Juniper Kestrel Lumen Maple "
    "Nimbus Onyx Pine Quartz River Summit Tidal Umber Vale Willow Xenon Yarrow Zephyr North "
    "Copper Silver"
)
_NOUN = (
    "Analytics Bank Bio Cloud Commerce Dental Energy Foods Freight Health Insurance Labs Legal "
    "Logistics Media Motors Pay Retail Robotics Security Software Studios Telecom Travel"
)

NS_PER_HOUR = 3_600_000_000_000


@dataclass(frozen=True)
class Population:
    """Customers as columns (index i is customer `ids[i]`)."""

    ids: list[str]
    names: list[str]
    plan: np.ndarray  # str: one of PLANS
    seats: np.ndarray  # int: billed seats (team), users (starter), agents (support-pro)
    region: np.ndarray  # str
    utc_offset: np.ndarray  # int [h]
    start_day: np.ndarray  # int: window day the contract started (negative: before the window)
    growth: np.ndarray  # float: usage growth per day [1/day]
    weight: dict[str, np.ndarray]  # relative usage intensity per feature (0: not used)
    power: np.ndarray  # bool: planted heavy user
    prefers_o3: np.ndarray  # float: share of coding tasks sent to o3
    difficulty: np.ndarray  # float: base rejection rate of support drafts
    testgen_per_night: np.ndarray  # float: nightly batch test-generation requests (0: none)

    @property
    def n(self) -> int:
        return len(self.ids)

    def user(self, idx: np.ndarray, u: np.ndarray) -> list[str]:
        """User ids for events of customers `idx`, skewed toward each customer's first users."""
        k = np.floor(self.seats[idx] * u**2.5).astype(np.int64)
        return [f"{self.ids[i]}-u{j:03d}" for i, j in zip(idx.tolist(), k.tolist(), strict=True)]

    def write_csv(self, path: Path, window_start: np.datetime64) -> None:
        """Customers with plan, seats and contract start (the revenue side reads this)."""
        starts = window_start + self.start_day.astype("timedelta64[D]")
        with path.open("w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["customer_id", "name", "plan", "seats", "region", "contract_start"])
            for i in range(self.n):
                w.writerow(
                    [self.ids[i], self.names[i], self.plan[i], int(self.seats[i]),
                     self.region[i], str(starts[i])]
                )  # fmt: skip


def make_population(rng: np.random.Generator, customers: int, days: int) -> Population:
    """Draw `customers` tenants: plan, size, region, start, growth and feature intensities."""
    n = customers
    plan = np.array(PLANS)[_shares(rng, n, PLAN_SHARES)]
    region_ix = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    starter, team, sp = plan == "starter", plan == "team", plan == "support-pro"
    seats = np.where(
        team,
        np.clip(np.round(np.exp(rng.normal(np.log(12), 0.8, n))), 3, 250),
        np.where(starter, rng.integers(1, 6, n), rng.integers(3, 41, n)),
    ).astype(np.int64)
    new = rng.random(n) < 0.15
    start_day = np.where(new, rng.integers(5, max(6, days - 7), n), -rng.integers(30, 900, n))
    growth = np.clip(rng.normal(0.006, 0.006, n), -0.004, 0.025)

    act = np.exp(rng.normal(0.0, 1.1, n))
    support = np.where(sp, act, np.where(team & (rng.random(n) < 0.2), 0.3 * act, 0.0))
    search = act * np.where(starter, 1.0, np.where(team, 0.12 * seats, 0.6))
    search *= rng.random(n) < np.where(starter, 0.8, np.where(team, 0.7, 0.4))
    coding = np.exp(rng.normal(0.0, 1.2, n)) * np.where(team, 0.18 * seats, 1.0)
    coding *= np.where(sp, False, rng.random(n) < np.where(starter, 0.6, 0.9))

    power = np.zeros(n, dtype=bool)
    cand = np.flatnonzero(starter & (coding > 0))
    if len(cand):
        power[rng.choice(cand, size=min(len(cand), max(1, n // 50)), replace=False)] = True
    cand = np.flatnonzero(team & (coding > 0))
    if len(cand):
        power[rng.choice(cand, size=min(len(cand), max(1, n // 100)), replace=False)] = True
    coding = np.where(power, coding * 3 + np.where(starter, 30.0, 1.2 * seats), coding)
    prefers_o3 = np.where(power, rng.uniform(0.55, 0.8, n), rng.beta(1.2, 8.0, n))

    testgen = np.where(team & (coding > 0) & (rng.random(n) < 0.35), 1.0, 0.0)
    testgen *= np.clip(np.exp(rng.normal(np.log(25), 0.8, n)), 5, 250)

    return Population(
        ids=[f"c{i + 1:04d}" for i in range(n)],
        names=_names(rng, n),
        plan=plan,
        seats=seats,
        region=np.array([r for r, _ in REGIONS])[region_ix],
        utc_offset=np.array([o for _, o in REGIONS])[region_ix],
        start_day=start_day.astype(np.int64),
        growth=growth,
        weight={SUPPORT: support, SEARCH: search, CODING: coding},
        power=power,
        prefers_o3=prefers_o3,
        difficulty=np.clip(rng.beta(2.0, 16.0, n) * np.exp(rng.normal(0, 0.35, n)), 0.02, 0.45),
        testgen_per_night=testgen,
    )


def _shares(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> np.ndarray:
    """Exactly proportional group sizes (largest remainder), shuffled."""
    counts = np.floor(np.array(shares) * n).astype(np.int64)
    counts[: n - counts.sum()] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _names(rng: np.random.Generator, n: int) -> list[str]:
    pairs = [f"{a} {b}" for a in _ADJ.split() for b in _NOUN.split()]
    picked = rng.choice(len(pairs), size=min(n, len(pairs)), replace=False)
    names = [pairs[i] for i in picked]
    return names + [f"Customer {i + 1}" for i in range(len(names), n)]


def arrivals(
    rng: np.random.Generator,
    *,
    weight: np.ndarray,
    utc_offset: np.ndarray,
    start_day: np.ndarray,
    growth: np.ndarray,
    window_start: np.datetime64,
    days: int,
    hours_shape: np.ndarray,
    weekend: float,
    total: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrivals per customer and hour; returns (customer index, start [ns]) by time.

    Rate lambda[c, h] = total * w_c * shape(local hour) * week(local day) * exp(g_c * day)
    * ramp_c(day) / sum(...), so `total` is the expected number of arrivals in the window.
    The ramp rises from 0 at the contract start to 1 after 14 days.
    """
    hours = np.arange(days * 24)
    local = hours[None, :] + utc_offset[:, None]
    start_dow = int((window_start.astype("datetime64[D]").astype(np.int64) + 3) % 7)  # Mon=0
    local_day = np.floor_divide(local, 24)
    weekday = (local_day + start_dow) % 7
    day = hours[None, :] / 24.0
    ramp = np.clip((day - start_day[:, None]) / 14.0, 0.0, 1.0)
    lam = (
        weight[:, None]
        * hours_shape[local % 24]
        * np.where(weekday >= 5, weekend, 1.0)
        * np.exp(growth[:, None] * day)
        * ramp
    )
    s = lam.sum()
    if s <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    counts = rng.poisson(lam * (total / s))
    ci, hi = np.nonzero(counts)
    k = counts[ci, hi]
    cust = np.repeat(ci, k)
    t0 = window_start.astype("datetime64[ns]").astype(np.int64)
    ts = (
        t0 + np.repeat(hi, k) * NS_PER_HOUR + (rng.random(len(cust)) * NS_PER_HOUR).astype(np.int64)
    )
    order = np.argsort(ts, kind="stable")
    return cust[order], ts[order]
