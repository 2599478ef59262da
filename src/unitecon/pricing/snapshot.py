"""A newer genai-prices catalog without upgrading the package: the data snapshot that the
library's `UpdatePrices` fetches (`data.json`: a JSON array of providers), loaded from a
file or a URL and kept under `$UNITECON_HOME/prices/`.

    prices/snapshots/<sha256>.json   every snapshot ever installed (the history)
    prices/current.json              which one is in use: sha256, source, installed_at
    prices/history.jsonl             one line per install, with the re-pricing diff

When `current.json` names a snapshot, pricing uses it (genai-prices' own
`data_snapshot.set_custom_snapshot`, so matching and price selection stay the library's),
and every priced row's `catalog_version` says `snapshot:<sha12> <installed date>`. Without
one, the package's bundled data prices, as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import genai_prices
from genai_prices import data_snapshot

from unitecon.errors import InputError

DEFAULT_URL = "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/new_data/v2/data.json"


def folder() -> Path:
    from unitecon.ledger.store import home

    return home() / "prices"


def parse(data: bytes, source: str) -> list[Any]:
    """The providers of a snapshot (genai-prices' own validation); a clear error if not one."""
    from genai_prices.types import _providers_from_raw

    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{source}: not JSON: {e}") from None
    if not isinstance(raw, list):
        raise InputError(
            f"{source}: expected genai-prices' data.json (a JSON array of providers), "
            f"got a JSON {type(raw).__name__}"
        )
    try:
        providers = _providers_from_raw(raw)
    except Exception as e:  # pydantic's ValidationError names the field path
        raise InputError(f"{source}: not a genai-prices snapshot: {str(e)[:800]}") from None
    if not providers:
        raise InputError(f"{source}: the snapshot has no providers")
    return list(providers)


def read_source(source: str) -> bytes:
    """The bytes of a snapshot file, or of a URL (where the network allows)."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            r = httpx.get(source, timeout=30, follow_redirects=True)
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise InputError(f"{source}: {type(e).__name__}: {e}") from None
        return r.content
    path = Path(source)
    if not path.is_file():
        raise InputError(f"No such file: {source}")
    return path.read_bytes()


@dataclasses.dataclass(frozen=True)
class Installed:
    sha256: str
    source: str
    installed_at: dt.datetime

    @property
    def path(self) -> Path:
        return folder() / "snapshots" / f"{self.sha256}.json"

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "source": self.source,
                "installed_at": self.installed_at.isoformat()}  # fmt: skip


def price_dates(providers: list[Any]) -> list[dt.date]:
    """The start dates of every dated price (a `StartDateConstraint`) in `providers`."""
    dates = []
    for p in providers:
        for m in p.models:
            for cp in m.prices if isinstance(m.prices, list) else []:
                start = getattr(cp.constraint, "start_date", None)
                if start is not None:
                    dates.append(start.date() if isinstance(start, dt.datetime) else start)
    return dates


def installed() -> Installed | None:
    """The snapshot in use, or None (the package's bundled data)."""
    pointer = folder() / "current.json"
    if not pointer.exists():
        return None
    d = json.loads(pointer.read_text(encoding="utf-8"))
    return Installed(d["sha256"], d["source"], dt.datetime.fromisoformat(d["installed_at"]))


@cache
def _load(path: Path, sha256: str, when: dt.datetime) -> data_snapshot.DataSnapshot:
    providers = parse(path.read_bytes(), str(path))
    return data_snapshot.DataSnapshot(providers, from_auto_update=True, timestamp=when)


def current() -> data_snapshot.DataSnapshot:
    """The catalog to price with: the installed snapshot, else the bundled data."""
    snap = installed()
    if snap is None:
        data_snapshot.set_custom_snapshot(None)
    else:
        data_snapshot.set_custom_snapshot(_load(snap.path, snap.sha256, snap.installed_at))
    return data_snapshot.get_snapshot()


def install(data: bytes, source: str) -> Installed:
    """Validate and install a snapshot (kept by its sha256); make it the one in use."""
    parse(data, source)
    sha = hashlib.sha256(data).hexdigest()
    snap = Installed(sha, source, dt.datetime.now(dt.UTC).replace(microsecond=0))
    snap.path.parent.mkdir(parents=True, exist_ok=True)
    if not snap.path.exists():
        snap.path.write_bytes(data)
    (folder() / "current.json").write_text(json.dumps(snap.as_dict(), indent=1) + "\n")
    return snap


def uninstall() -> None:
    """Back to the package's bundled data (the snapshots stay in the history)."""
    (folder() / "current.json").unlink(missing_ok=True)


def record(entry: dict[str, Any]) -> None:
    """Append one install (with its re-pricing diff) to `prices/history.jsonl`."""
    folder().mkdir(parents=True, exist_ok=True)
    with (folder() / "history.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, default=str) + "\n")


def history() -> list[dict[str, Any]]:
    path = folder() / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def status(today: dt.date | None = None) -> dict[str, Any]:
    """What prices now, and how old it is: the newest price change in effect (the data is
    at least that new), the next scheduled one, and when a snapshot was installed."""
    today = today or dt.datetime.now(dt.UTC).date()
    snap = installed()
    dates = price_dates(current().providers)
    past = [d for d in dates if d <= today]
    future = [d for d in dates if d > today]
    newest = max(past) if past else None
    return {
        "package": f"genai-prices {genai_prices.__version__}",
        "source": "snapshot" if snap else "bundled with the package",
        "catalog_version": None,  # filled by the caller with the project's overrides
        "newest_price_change": newest.isoformat() if newest else None,
        "days_since_newest_change": (today - newest).days if newest else None,
        "next_scheduled_change": min(future).isoformat() if future else None,
        "snapshot": snap.as_dict() if snap else None,
        "days_since_install": (today - snap.installed_at.date()).days if snap else None,
        "installs": len(history()),
    }


def to_raw(o: Any) -> Any:
    """genai-prices' catalog objects as the JSON a snapshot holds (`prices snapshot`)."""
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        out = {}
        for f in dataclasses.fields(o):
            v = getattr(o, f.name)
            if f.name.startswith("_") or v is None or v == f.default:
                continue
            out[f.name.rstrip("_")] = to_raw(v)
        return out
    if isinstance(o, list | tuple):
        return [to_raw(x) for x in o]
    if isinstance(o, dict):
        return {k: to_raw(v) for k, v in o.items()}
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, dt.datetime | dt.date | dt.time):
        return o.isoformat()
    if hasattr(o, "__dict__"):
        return {k.rstrip("_"): to_raw(v) for k, v in vars(o).items()
                if v is not None and not k.startswith("_")}  # fmt: skip
    return o


def write_current(path: Path) -> Path:
    """Write the catalog in use as a snapshot file (to edit, or to carry offline)."""
    path.write_text(json.dumps(to_raw(current().providers)) + "\n", encoding="utf-8")
    return path
