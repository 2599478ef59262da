"""Readers of the providers' organization reports, as downloaded (bucketed JSON pages).

OpenAI (`GET /v1/organization/costs`, `/v1/organization/usage/completions`)::

    {"object": "page", "data": [{"object": "bucket", "start_time": 1730419200,
      "end_time": 1730505600, "results": [{"object": "organization.costs.result",
      "amount": {"value": 0.06, "currency": "usd"}, "line_item": "gpt-4o-mini-2024-07-18,
      input", "project_id": "proj_abc"}]}], "has_more": false, "next_page": null}

    usage results: {"object": "organization.usage.completions.result", "input_tokens": 1000,
      "input_cached_tokens": 800, "output_tokens": 500, "num_model_requests": 5,
      "project_id": ..., "user_id": ..., "api_key_id": ..., "model": ..., "batch": ...}

Anthropic Admin API (`GET /v1/organizations/cost_report`, `/usage_report/messages`)::

    {"data": [{"starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-02T00:00:00Z",
      "results": [{"amount": "123.45", "currency": "USD", "cost_type": "tokens",
      "description": "...", "model": "claude-sonnet-4-5", "token_type": "output_tokens",
      "service_tier": "standard", "context_window": "0-200k", "workspace_id": null}]}],
     "has_more": false, "next_page": null}

Anthropic's `amount` is in cents as a decimal string ("123.45" is $1.23). Usage results
carry `uncached_input_tokens`, `cache_creation.{ephemeral_5m,ephemeral_1h}_input_tokens`,
`cache_read_input_tokens`, `output_tokens`, `server_tool_use.web_search_requests`.

A file holds one page, a JSON array of pages, or one page per line (what a paginated
download appends).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from unitecon.billing.lines import BillLine, parse_count, parse_money, parse_time
from unitecon.errors import InputError

CENTS = Decimal(100)
FORMATS = ("openai_costs", "openai_usage", "anthropic_cost", "anthropic_usage")


def load_pages(path: Path) -> list[dict[str, Any]]:
    """The pages of a downloaded report (numbers as Decimal, never float)."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text, parse_float=Decimal)
        pages = doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError as first:
        pages = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                pages.append(json.loads(line, parse_float=Decimal))
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{first.lineno}: not JSON: {first.msg}") from e
    for i, page in enumerate(pages):
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise InputError(f"{path}: page {i}: expected an object with a 'data' list of buckets")
    return pages


def sniff(pages: list[dict[str, Any]]) -> str | None:
    """Which report the pages are, from their shape; None if none of ours."""
    for page in pages:
        for bucket in page["data"]:
            if not isinstance(bucket, dict):
                return None
            for r in bucket.get("results") or []:
                obj = r.get("object") if isinstance(r, dict) else None
                if obj == "organization.costs.result":
                    return "openai_costs"
                if isinstance(obj, str) and obj.startswith("organization.usage.completions"):
                    return "openai_usage"
                if isinstance(r, dict) and "amount" in r and "starting_at" in bucket:
                    return "anthropic_cost"
                if isinstance(r, dict) and "uncached_input_tokens" in r:
                    return "anthropic_usage"
    return None


def _results(path: Path, pages: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(location, bucket, result) for every result of every bucket."""
    for p, page in enumerate(pages):
        for i, bucket in enumerate(page["data"]):
            where = f"{path}: " + (f"page {p} " if len(pages) > 1 else "") + f"data[{i}]"
            if not isinstance(bucket, dict):
                raise InputError(f"{where}: expected a bucket object")
            for j, r in enumerate(bucket.get("results") or []):
                if not isinstance(r, dict):
                    raise InputError(f"{where}.results[{j}]: expected an object")
                yield f"{where}.results[{j}]", bucket, r


def _openai_period(bucket: dict[str, Any], where: str) -> dict[str, Any]:
    return {
        "provider": "openai",
        "period_start": parse_time(bucket.get("start_time"), where, "start_time"),
        "period_end": parse_time(bucket.get("end_time"), where, "end_time"),
    }


def split_line_item(item: str | None) -> tuple[str | None, str | None, bool | None]:
    """(model, token kind, batch) of an OpenAI line item such as "gpt-4o-2024-08-06, cached
    input" or "o3-2025-04-16, output (batch)"; (None, None, None) for "Image models" etc."""
    if not item or ", " not in item:
        return None, None, None
    model, _, rest = item.rpartition(", ")
    rest = rest.strip().lower()
    batch = "batch" in rest
    rest = rest.replace("(batch)", "").replace("batch", "").strip()
    kind = {"input": "input", "output": "output", "cached input": "cache_read"}.get(rest)
    if kind is None:
        return None, None, None
    return model.strip(), kind, batch


def read_openai_costs(path: Path, pages: list[dict[str, Any]]) -> Iterator[BillLine]:
    for where, bucket, r in _results(path, pages):
        amount = r.get("amount")
        if not isinstance(amount, dict):
            raise InputError(f"{where}: amount: expected {{value, currency}}, got {amount!r}")
        item = r.get("line_item")
        model, kind, batch = split_line_item(item)
        yield BillLine(
            format="openai_costs",
            kind="cost",
            location=where,
            **_openai_period(bucket, where),
            model=model,
            sku=item,
            token_kind=kind,
            batch=batch,
            account=r.get("project_id"),
            amount=parse_money(amount.get("value"), where, "amount.value"),
            currency=str(amount.get("currency") or "usd").upper(),
        )


def read_openai_usage(path: Path, pages: list[dict[str, Any]]) -> Iterator[BillLine]:
    for where, bucket, r in _results(path, pages):
        common = {
            "format": "openai_usage",
            "kind": "usage",
            "location": where,
            **_openai_period(bucket, where),
            "model": r.get("model"),
            "account": r.get("project_id"),
            "api_key_id": r.get("api_key_id"),
            "batch": r.get("batch"),
            "service_tier": r.get("service_tier"),
        }
        counts = {
            "input": parse_count(r.get("input_tokens"), where, "input_tokens"),
            "cache_read": parse_count(r.get("input_cached_tokens"), where, "input_cached_tokens"),
            "output": parse_count(r.get("output_tokens"), where, "output_tokens"),
            "requests": parse_count(r.get("num_model_requests"), where, "num_model_requests"),
        }
        for kind, qty in counts.items():
            if qty is not None:
                unit = "requests" if kind == "requests" else "tokens"
                yield BillLine(**common, token_kind=kind, quantity=qty, unit=unit)


def _anthropic_period(bucket: dict[str, Any], where: str) -> dict[str, Any]:
    return {
        "provider": "anthropic",
        "period_start": parse_time(bucket.get("starting_at"), where, "starting_at"),
        "period_end": parse_time(bucket.get("ending_at"), where, "ending_at"),
    }


ANTHROPIC_TOKEN_TYPES = {
    "uncached_input_tokens": "uncached_input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write",
}


def read_anthropic_cost(path: Path, pages: list[dict[str, Any]]) -> Iterator[BillLine]:
    for where, bucket, r in _results(path, pages):
        cents = parse_money(r.get("amount"), where, "amount")
        tier = r.get("service_tier")
        token_type = r.get("token_type")
        yield BillLine(
            format="anthropic_cost",
            kind="cost",
            location=where,
            **_anthropic_period(bucket, where),
            model=r.get("model"),
            sku=r.get("description") or r.get("cost_type"),
            token_kind=ANTHROPIC_TOKEN_TYPES.get(token_type or "", token_type),
            account=r.get("workspace_id"),
            service_tier=tier,
            batch=None if tier is None else tier == "batch",
            amount=cents / CENTS,
            currency=str(r.get("currency") or "USD").upper(),
        )


def read_anthropic_usage(path: Path, pages: list[dict[str, Any]]) -> Iterator[BillLine]:
    for where, bucket, r in _results(path, pages):
        tier = r.get("service_tier")
        common = {
            "format": "anthropic_usage",
            "kind": "usage",
            "location": where,
            **_anthropic_period(bucket, where),
            "model": r.get("model"),
            "account": r.get("workspace_id"),
            "api_key_id": r.get("api_key_id"),
            "service_tier": tier,
            "batch": None if tier is None else tier == "batch",
        }
        uncached = parse_count(r.get("uncached_input_tokens"), where, "uncached_input_tokens")
        creation = r.get("cache_creation") or {}
        writes = [
            parse_count(creation.get(k), where, f"cache_creation.{k}")
            for k in ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")
        ]
        read = parse_count(r.get("cache_read_input_tokens"), where, "cache_read_input_tokens")
        write = sum((w for w in writes if w is not None), Decimal(0))
        parts = [q for q in (uncached, write, read) if q is not None]
        counts = {
            "input": sum(parts, Decimal(0)) if parts else None,  # inclusive, as the ledger
            "uncached_input": uncached,
            "cache_read": read,
            "cache_write": write if any(w is not None for w in writes) else None,
            "output": parse_count(r.get("output_tokens"), where, "output_tokens"),
        }
        for kind, qty in counts.items():
            if qty is not None:
                yield BillLine(**common, token_kind=kind, quantity=qty, unit="tokens")


READERS = {
    "openai_costs": read_openai_costs,
    "openai_usage": read_openai_usage,
    "anthropic_cost": read_anthropic_cost,
    "anthropic_usage": read_anthropic_usage,
}
