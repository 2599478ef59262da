"""The demo's provider bills, as OpenAI and Anthropic would give them to finance.

Made from what the ledger tracked per provider, UTC day and model (`rows`: provider, day,
model, computed, input_cost, input_tokens, output_tokens, events) with three gaps planted,
each of a kind `unitecon reconcile` must explain:

* **untracked usage**: an eval harness on its own OpenAI key (`key_eval_harness`) that sends
  no telemetry replays the coding assistant's o3 calls on the last 21 days (as many tokens
  again); it shows in the Usage API by key and in the Costs API, and takes OpenAI's capture
  rate below the 95 % alert.
* **a negotiated discount**: OpenAI bills 8 % below list on every line (the contract is
  not in the project file). Anthropic's 10 % from November is in the project file, so its
  bill matches.
* **an unknown model**: the private triage fine-tune the catalog has no price for, billed
  at OpenAI's fine-tuned gpt-4.1-mini rates ($0.80 in, $3.20 out per 1M tokens).

Written as the APIs return them (`openai-costs.json`, `openai-usage.jsonl`,
`anthropic-cost-report.json`, `anthropic-usage-report.json`); amounts rounded to 6 places
as the Costs API's numbers are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from unitecon.demo.catalog import FT_TRIAGE, O3

OPENAI_DISCOUNT = Decimal("0.08")
UNTRACKED_SHARE = Decimal("1")
UNTRACKED_DAYS = 21
FT_RATES = (Decimal("0.80"), Decimal("3.20"))  # [USD per 1M tokens] input, output
APP_KEY, EVAL_KEY = "key_app_prod", "key_eval_harness"
SIX = Decimal("0.000001")


def _r6(x: Decimal) -> Decimal:
    return x.quantize(SIX, rounding=ROUND_HALF_EVEN)


def _unix(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _z(d: date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def write_bill(out_dir: Path, rows: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Write the demo's bills under `out_dir`; return the files."""
    rows = [r for r in rows if r["provider"] in ("openai", "anthropic") and r["model"]]
    if not rows:
        return []
    last = max(r["day"] for r in rows)
    untracked_from = last - timedelta(days=UNTRACKED_DAYS - 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    oa = [r for r in rows if r["provider"] == "openai"]
    an = [r for r in rows if r["provider"] == "anthropic"]
    if oa:
        costs, usage = _openai(oa, untracked_from)
        files.append(_dump(out_dir / "openai-costs.json", _openai_page(costs)))
        path = out_dir / "openai-usage.jsonl"
        path.write_text(json.dumps(_openai_page(usage)) + "\n", encoding="utf-8")
        files.append(path)
    if an:
        costs, usage = _anthropic(an)
        files.append(_dump(out_dir / "anthropic-cost-report.json", _anthropic_page(costs)))
        files.append(_dump(out_dir / "anthropic-usage-report.json", _anthropic_page(usage)))
    return files


def _dump(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return path


def _list_cost(r: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """(input, output) cost at list price [USD]: the ledger's, or the fine-tune's rates."""
    if r["model"] == FT_TRIAGE.response:
        m = Decimal(1_000_000)
        return (FT_RATES[0] * r["input_tokens"] / m, FT_RATES[1] * r["output_tokens"] / m)
    return Decimal(r["input_cost"]), Decimal(r["computed"]) - Decimal(r["input_cost"])


def _openai(
    rows: list[Mapping[str, Any]], untracked_from: date
) -> tuple[dict[date, list[Any]], dict[date, list[Any]]]:
    costs: dict[date, list[Any]] = {}
    usage: dict[date, list[Any]] = {}
    for r in sorted(rows, key=lambda r: (r["day"], r["model"])):
        day, model = r["day"], r["model"]
        scale = Decimal(1)
        extra = model == O3.response and day >= untracked_from
        if extra:
            scale += UNTRACKED_SHARE
        cin, cout = _list_cost(r)
        for kind, c in (("input", cin), ("output", cout)):
            amount = _r6(c * scale * (1 - OPENAI_DISCOUNT))
            if amount:
                costs.setdefault(day, []).append(
                    {"object": "organization.costs.result",
                     "amount": {"value": float(amount), "currency": "usd"},
                     "line_item": f"{model}, {kind}", "project_id": "proj_product"}
                )  # fmt: skip
        usage.setdefault(day, []).append(_usage(model, r["input_tokens"], r["output_tokens"],
                                                r["events"], APP_KEY))  # fmt: skip
        if extra:
            share = UNTRACKED_SHARE
            usage[day].append(_usage(model, int(r["input_tokens"] * share),
                                     int(r["output_tokens"] * share),
                                     int(r["events"] * share), EVAL_KEY))  # fmt: skip
    return costs, usage


def _usage(model: str, tin: int, tout: int, n: int, key: str) -> dict[str, Any]:
    return {"object": "organization.usage.completions.result", "input_tokens": tin,
            "input_cached_tokens": 0, "output_tokens": tout, "input_audio_tokens": 0,
            "output_audio_tokens": 0, "num_model_requests": n, "project_id": "proj_product",
            "user_id": None, "api_key_id": key, "model": model, "batch": False}  # fmt: skip


def _openai_page(by_day: dict[date, list[Any]]) -> dict[str, Any]:
    data = [
        {"object": "bucket", "start_time": _unix(d), "end_time": _unix(d + timedelta(days=1)),
         "results": by_day[d]}
        for d in sorted(by_day)
    ]  # fmt: skip
    return {"object": "page", "data": data, "has_more": False, "next_page": None}


def _anthropic(
    rows: list[Mapping[str, Any]],
) -> tuple[dict[date, list[Any]], dict[date, list[Any]]]:
    costs: dict[date, list[Any]] = {}
    usage: dict[date, list[Any]] = {}
    for r in sorted(rows, key=lambda r: (r["day"], r["model"])):
        day, model = r["day"], r["model"]
        cin, cout = _list_cost(r)
        for token_type, c in (("uncached_input_tokens", cin), ("output_tokens", cout)):
            cents = _r6(c * 100)
            costs.setdefault(day, []).append(
                {"currency": "USD", "amount": str(cents), "workspace_id": "wrkspc_product",
                 "description": f"{model} {token_type}", "cost_type": "tokens",
                 "context_window": "0-200k", "model": model, "service_tier": "standard",
                 "token_type": token_type}
            )  # fmt: skip
        usage.setdefault(day, []).append(
            {"uncached_input_tokens": r["input_tokens"],
             "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
             "cache_read_input_tokens": 0, "output_tokens": r["output_tokens"],
             "server_tool_use": {"web_search_requests": 0}, "api_key_id": APP_KEY,
             "workspace_id": "wrkspc_product", "model": model, "service_tier": "standard",
             "context_window": "0-200k"}
        )  # fmt: skip
    return costs, usage


def _anthropic_page(by_day: dict[date, list[Any]]) -> dict[str, Any]:
    data = [
        {"starting_at": _z(d), "ending_at": _z(d + timedelta(days=1)), "results": by_day[d]}
        for d in sorted(by_day)
    ]
    return {"data": data, "has_more": False, "next_page": None}
