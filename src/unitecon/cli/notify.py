"""Alerts delivered to a webhook (`governance.notify` in the project file).

The message is laid out from the analysis core's `Alerts` answer; nothing is computed
here. `slack` is Slack's incoming-webhook JSON (`text` plus `blocks` of mrkdwn sections),
which Mattermost and Rocket.Chat also take; `json` posts the answer itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from unitecon.errors import UniteconError
from unitecon.terminal import money

MAX_LINES = 10
"""Items of each kind in a Slack message (the rest are counted)."""


def slack_message(a: Any) -> dict[str, Any]:
    """Slack incoming-webhook JSON for an `Alerts` answer."""
    head = f"unitecon alerts for the {a.days} days to {a.as_of} (exclusive)"
    sections: list[str] = []
    if a.budgets:
        lines = [
            f"• *{b.name}* ({b.month}): spent {money(b.actual)} of {money(b.budget)}, "
            f"forecast {money(b.forecast)} ({money(b.forecast_low)}–{money(b.forecast_high)})"
            f" — {b.status}"
            for b in a.budgets[:MAX_LINES]
        ]
        sections.append("*Budgets*\n" + "\n".join(lines) + _more(a.budgets))
    if a.anomalies:
        lines = [
            f"• {x.day} {'all spend' if x.dim == 'total' else f'{x.dim}={x.value}'}: "
            f"{money(x.cost)} vs {money(x.expected)} expected (+{money(x.impact)})"
            for x in a.anomalies[:MAX_LINES]
        ]
        sections.append("*Spend anomalies*\n" + "\n".join(lines) + _more(a.anomalies))
    if a.runaway_tasks:
        lines = [
            f"• task `{r.task}` ({r.feature or '—'}): {r.calls:,} calls "
            f"(limit {r.calls_limit:,}), {money(r.cost)}"
            for r in a.runaway_tasks[:MAX_LINES]
        ]
        sections.append("*Runaway tasks*\n" + "\n".join(lines) + _more(a.runaway_tasks))
    count = len(a.budgets) + len(a.anomalies) + len(a.runaway_tasks)
    text = f"{head}: {count} need attention" if count else f"{head}: nothing needs attention"
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": text[:150]}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": s[:3000]}} for s in sections]
    return {"text": text, "blocks": blocks}


def _more(items: list[Any]) -> str:
    return f"\n… and {len(items) - MAX_LINES} more" if len(items) > MAX_LINES else ""


def deliver(cfg: Any, answer: Any) -> str:
    """POST the alerts to `cfg.webhook`; the host it was delivered to, or a clear error."""
    import httpx

    body = slack_message(answer) if cfg.format == "slack" else answer.model_dump(mode="json")
    host = str(urlsplit(cfg.webhook).netloc)
    try:
        r = httpx.post(cfg.webhook, json=body, timeout=cfg.timeout_s)
    except httpx.HTTPError as e:
        raise UniteconError(
            f"governance.notify: could not deliver to {host} ({type(e).__name__}: {e})"
        ) from None
    if r.status_code >= 300:
        raise UniteconError(f"governance.notify: {host} answered {r.status_code} {r.text[:200]!r}")
    return host
