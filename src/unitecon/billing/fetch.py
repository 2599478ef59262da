"""The same reports from the providers' APIs, with an organization admin key.

OpenAI: `GET https://api.openai.com/v1/organization/costs` and `.../usage/completions`
(`Authorization: Bearer $OPENAI_ADMIN_KEY`, `start_time`/`end_time` in Unix seconds,
`bucket_width=1d`, `group_by=line_item,project_id` / `model,project_id,api_key_id,batch`,
paged by `next_page`). Anthropic: `GET https://api.anthropic.com/v1/organizations/cost_report`
and `.../usage_report/messages` (`x-api-key: $ANTHROPIC_ADMIN_KEY`, `anthropic-version`,
RFC 3339 `starting_at`/`ending_at`, `group_by[]=description,workspace_id` /
`model,workspace_id,api_key_id,service_tier`). The pages are saved as JSON lines exactly as
received, then imported like a downloaded file, so the lineage names a file one can read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, time
from datetime import date as Date
from pathlib import Path
from typing import Any

import httpx

from unitecon.errors import InputError

REPORTS: dict[str, dict[str, Any]] = {
    "openai_costs": {
        "url": "https://api.openai.com/v1/organization/costs",
        "key": "OPENAI_ADMIN_KEY",
        "group_by": ["line_item", "project_id"],
    },
    "openai_usage": {
        "url": "https://api.openai.com/v1/organization/usage/completions",
        "key": "OPENAI_ADMIN_KEY",
        "group_by": ["model", "project_id", "api_key_id", "batch"],
    },
    "anthropic_cost": {
        "url": "https://api.anthropic.com/v1/organizations/cost_report",
        "key": "ANTHROPIC_ADMIN_KEY",
        "group_by": ["description", "workspace_id"],
    },
    "anthropic_usage": {
        "url": "https://api.anthropic.com/v1/organizations/usage_report/messages",
        "key": "ANTHROPIC_ADMIN_KEY",
        "group_by": ["model", "workspace_id", "api_key_id", "service_tier"],
    },
}


def _params(fmt: str, since: Date, until: Date) -> dict[str, Any]:
    lo, hi = (datetime.combine(d, time(), tzinfo=UTC) for d in (since, until))
    group = REPORTS[fmt]["group_by"]
    if fmt.startswith("openai"):
        return {"start_time": int(lo.timestamp()), "end_time": int(hi.timestamp()),
                "bucket_width": "1d", "group_by": group, "limit": 31}  # fmt: skip
    return {"starting_at": lo.isoformat().replace("+00:00", "Z"),
            "ending_at": hi.isoformat().replace("+00:00", "Z"),
            "bucket_width": "1d", "group_by[]": group, "limit": 31}  # fmt: skip


def _headers(fmt: str, key: str) -> dict[str, str]:
    if fmt.startswith("openai"):
        return {"Authorization": f"Bearer {key}"}
    return {"x-api-key": key, "anthropic-version": "2023-06-01"}


def pages(
    fmt: str, since: Date, until: Date, *, client: httpx.Client | None = None
) -> Iterator[dict[str, Any]]:
    """Every page of report `fmt` for [since, until) (UTC days), following `next_page`."""
    spec = REPORTS[fmt]
    key = os.environ.get(spec["key"])
    if not key:
        raise InputError(f"Set {spec['key']} to an organization admin key to fetch {fmt}.")
    own = client is None
    http = client or httpx.Client(timeout=30)
    try:
        params = _params(fmt, since, until)
        while True:
            r = http.get(spec["url"], params=params, headers=_headers(fmt, key))
            if r.status_code != 200:
                raise InputError(f"{spec['url']}: HTTP {r.status_code}: {r.text[:300]}")
            page = r.json()
            yield page
            if not page.get("has_more") or not page.get("next_page"):
                return
            params = {**params, "page": page["next_page"]}
    except httpx.HTTPError as e:
        raise InputError(f"{spec['url']}: {type(e).__name__}: {e}") from e
    finally:
        if own:
            http.close()


def download(
    fmt: str, since: Date, until: Date, out: Path, *, client: httpx.Client | None = None
) -> Path:
    """Save the report's pages to `out` (one page per line); return `out`."""
    if fmt not in REPORTS:
        raise InputError(f"Unknown report {fmt!r}; choose from: {', '.join(REPORTS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for page in pages(fmt, since, until, client=client):
            f.write(json.dumps(page) + "\n")
    return out
