"""Every price in the self-host catalogs says where it comes from, or that it has no source."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from unitecon.errors import InputError
from unitecon.models import instances
from unitecon.models.perf import catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


def _csv(package: str, name: str) -> list[dict[str, str]]:
    text = resources.files(package).joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_every_cloud_price_is_sourced_or_marked_unsourced() -> None:
    for s in instances.cloud_shapes():
        assert s.price_status in ("sourced", "unsourced"), s
        if s.price_status == "sourced":
            assert s.source.startswith("https://") and s.price_date and s.seen, s
        else:
            assert s.source == "" and s.check_at.startswith("https://"), s


def test_unsourced_rows_say_so_in_the_data_and_the_docs() -> None:
    doc = DOC.read_text()
    for r in _csv("unitecon.models", "instances.csv"):
        if r["price_status"] == "unsourced":
            assert r["notes"].startswith("UNSOURCED"), r["instance"]
            line = next(x for x in doc.splitlines() if f"`{r['instance']}`" in x and "|" in x)
            assert "unsourced" in line, line


def test_p5_price_is_the_one_its_source_reports() -> None:
    # The Next Platform, 2023-07-27: p5.48xlarge $98.32/h on demand, $57.63 1y, $43.16 3y.
    p5 = next(s for s in instances.cloud_shapes() if s.instance == "p5.48xlarge")
    assert p5.price_status == "sourced" and "nextplatform.com/2023/07/27" in p5.source
    assert [str(p5.usd_h[p]) for p in ("on_demand", "reserved_1y", "reserved_3y")] == [
        "98.32",
        "57.63",
        "43.16",
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"price_status": "sourced", "source": "", "seen": "", "price_date": ""}, "sourced"),
        ({"price_status": "unsourced", "source": "https://x", "check_at": ""}, "unsourced"),
        ({"price_status": "approximate"}, "price_status"),
    ],
)
def test_a_row_without_provenance_is_refused(row: dict[str, str], message: str) -> None:
    full = {"instance": "x1", "source": "", "seen": "", "price_date": "", "check_at": "", **row}
    with pytest.raises(InputError, match=message):
        instances._check_row(7, full)


def test_gpu_prices_follow_the_shared_table() -> None:
    # shared/data/gpus.csv: H100 PCIe and L4 'unverified', A10G 'not fetched'; the others
    # name their pages (AWS Capacity Blocks, third parties) and dates.
    status = {k: g.price_status for k, g in catalog.gpus().items() if g.price_low_usd_h}
    assert {k for k, v in status.items() if v == "unsourced"} >= {"h100-pcie", "a10g", "l4"}
    for key in ("h100-sxm", "h200", "a100-80gb", "mi300x"):
        g = catalog.gpus()[key]
        assert status[key] == "sourced" and "https://" in g.price_source and g.price_date


def test_marketplace_shapes_carry_the_gpu_price_status() -> None:
    market = {s.instance: s for s in instances.marketplace_shapes()}
    assert market["1x l4"].price_status == "unsourced" and market["1x l4"].source == ""
    h100 = market["8x h100-sxm"]
    assert h100.price_status == "sourced" and "capacityblocks" in h100.source
