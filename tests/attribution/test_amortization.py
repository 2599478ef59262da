"""Issue 17, item 2: a one-time cost amortized over N months from a mid-month start sums to
its amount over its life; each month of life recognizes A/N, spread over its own days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from unitecon.attribution.fixed import charges
from unitecon.attribution.frame import Window
from unitecon.config import parse

FINE_TUNE = (
    "fixed_costs:\n  - {name: triage fine-tune run, amount: '1800', start: 2026-10-16, "
    "amortize_months: 6}"
)


def _by_month(window: Window) -> dict[str, Decimal]:
    fc = parse(FINE_TUNE).fixed_costs[0]
    return {ch.month.strftime("%Y-%m"): ch.amount for ch in charges(fc, window)}


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"))


def test_mid_month_start_sums_to_the_amount() -> None:
    # Life: 16 Oct 2026 to 16 Apr 2027, six months of life at 1800 / 6 = 300 each:
    #   Oct16-Nov16 (31 d), Nov16-Dec16 (30 d), Dec16-Jan16 (31 d), Jan16-Feb16 (31 d),
    #   Feb16-Mar16 (28 d), Mar16-Apr16 (31 d).
    # Calendar months:
    #   Oct = 300 x 16/31                       = 154.838709... -> 154.84
    #   Nov = 300 x 15/31 + 300 x 15/30         = 145.16 + 150   = 295.16
    #   Dec = 300 x 15/30 + 300 x 16/31         = 150 + 154.84   = 304.84
    #   Jan = 300 x 15/31 + 300 x 16/31         = 300.00
    #   Feb = 300 x 15/31 + 300 x 13/28         = 145.16 + 139.29 = 284.45
    #   Mar = 300 x 15/28 + 300 x 16/31         = 160.71 + 154.84 = 315.55
    #   Apr = 300 x 15/31                       = 145.16
    #   total = 1800 (the old code stopped at March: 1654.84)
    life = Window(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    got = _by_month(life)
    assert sum(got.values()) == Decimal("1800")
    assert {m: _cents(v) for m, v in got.items()} == {
        "2026-10": Decimal("154.84"),
        "2026-11": Decimal("295.16"),
        "2026-12": Decimal("304.84"),
        "2027-01": Decimal("300.00"),
        "2027-02": Decimal("284.45"),
        "2027-03": Decimal("315.55"),
        "2027-04": Decimal("145.16"),
    }


def test_window_part_of_a_month() -> None:
    # The demo's window ends 2026-11-16 (exclusive): Oct 154.84 + Nov 1..16, which is
    # 300 x 15/31 (Nov 1-16, rest of life month 1) = 145.16, nothing of life month 2 yet.
    w = Window(dt.datetime(2026, 9, 16, tzinfo=dt.UTC), dt.datetime(2026, 11, 16, tzinfo=dt.UTC))
    got = _by_month(w)
    assert {m: _cents(v) for m, v in got.items()} == {
        "2026-10": Decimal("154.84"),
        "2026-11": Decimal("145.16"),
    }


def test_month_aligned_start_is_a_over_n_per_month() -> None:
    # Start 1 Oct, 6 months: each calendar month is one month of life, 1800 / 6 = 300.
    fc = parse(FINE_TUNE.replace("2026-10-16", "2026-10-01")).fixed_costs[0]
    w = Window(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    assert [ch.amount for ch in charges(fc, w)] == [Decimal(300)] * 6
