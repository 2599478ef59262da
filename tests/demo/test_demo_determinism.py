"""Same arguments, same bytes; another seed, other bytes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from unitecon.demo import generate


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", days=10, customers=30)
    b = generate(tmp_path / "b", days=10, customers=30)
    assert a.summary == b.summary
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_other_seed_other_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", days=10, customers=30, seed=1)
    generate(tmp_path / "b", days=10, customers=30, seed=2)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert a["customers.csv"] != b["customers.csv"]


def test_window_ends_before_end(tmp_path: Path) -> None:
    files = generate(tmp_path, days=10, customers=30, end=date(2026, 3, 1))
    assert files.summary.window_start == "2026-02-19T00:00:00Z"
    names = [p.name for p in files.otlp]
    assert (names[0], names[-1]) == ("support-2026-02-19.json", "support-2026-02-28.json")


def test_rerun_replaces_its_own_files_only(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_text("mine")
    generate(tmp_path, days=30, customers=20)
    files = generate(tmp_path, days=10, customers=20)
    on_disk = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == {keep, files.manifest, files.customers_csv, *files.all}


@pytest.mark.parametrize(("days", "customers"), [(6, 200), (60, 9)])
def test_too_small_is_an_error(tmp_path: Path, days: int, customers: int) -> None:
    with pytest.raises(ValueError, match="need days >= 7 and customers >= 10"):
        generate(tmp_path, days=days, customers=customers)
