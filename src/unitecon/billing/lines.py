"""One line of a provider's bill: a cost (an amount) or a usage count the provider made.

Every reader turns its source into `BillLine`s; `store.import_lines` writes them. Money is
`Decimal` read from the source's own text (JSON numbers are parsed as Decimal, never float).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from unitecon.errors import InputError

Kind = Literal["cost", "usage"]

#: Token kinds, ours, whatever the provider calls them. `input` is inclusive (cache reads
#: and writes included), as the ledger's `input_tokens`; the cache kinds are parts of it.
TOKEN_KINDS = ("input", "uncached_input", "cache_read", "cache_write", "output", "requests")


@dataclass(frozen=True)
class BillLine:
    """A cost or usage line for one period [period_start, period_end) (UTC)."""

    format: str
    """The source kind: openai_costs, openai_usage, anthropic_cost, anthropic_usage, invoice_csv."""
    kind: Kind
    provider: str
    """Provider id as the ledger spells it (openai, anthropic, ...), lowercase."""
    period_start: datetime
    period_end: datetime
    location: str
    """`file:line` or `file: data[i].results[j]`: where the line was read."""
    model: str | None = None
    sku: str | None = None
    """The provider's own name of the line item (OpenAI `line_item`, Anthropic `description`)."""
    token_kind: str | None = None
    account: str | None = None
    """OpenAI project, Anthropic workspace, an invoice's account."""
    api_key_id: str | None = None
    service_tier: str | None = None
    batch: bool | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    amount: Decimal | None = None
    """Billed amount [currency], after the provider's discounts (cost lines)."""
    list_amount: Decimal | None = None
    """Amount before discounts [currency], where the source gives it."""
    currency: str = "USD"
    invoice_id: str | None = None

    @property
    def bucket(self) -> str:
        """What one download covers: a later import of the same bucket replaces it."""
        key = f"{self.format}|{self.kind}|{self.provider}|{self.period_start.isoformat()}"
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    @property
    def fingerprint(self) -> str:
        """The line's content without its location: equal lines, equal fingerprints."""
        d = asdict(self)
        d.pop("location")
        text = "|".join(f"{k}={v}" for k, v in sorted(d.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def parse_time(value: Any, where: str, field: str) -> datetime:
    """Unix seconds or an ISO 8601 / RFC 3339 string (a date is midnight UTC)."""
    try:
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return datetime.fromtimestamp(int(value), tz=UTC)
        if isinstance(value, str) and value.strip():
            return utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        pass
    raise InputError(f"{where}: {field}: expected a timestamp, got {value!r}")


def parse_money(value: Any, where: str, field: str) -> Decimal:
    """A decimal amount from a JSON number (already Decimal) or a string."""
    if isinstance(value, bool) or value is None:
        raise InputError(f"{where}: {field}: expected a decimal amount, got {value!r}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(f"{where}: {field}: expected a decimal amount, got {value!r}") from None
    if not d.is_finite():
        raise InputError(f"{where}: {field}: expected a finite amount, got {value!r}")
    return d


def parse_count(value: Any, where: str, field: str) -> Decimal | None:
    """A non-negative token or request count; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InputError(f"{where}: {field}: expected a count, got {value!r}")
    if value < 0:
        raise InputError(f"{where}: {field}: expected a count >= 0, got {value!r}")
    return Decimal(value)
