"""The dashboard's default reads, computed in the background when the service starts.

Each job calls an endpoint function as the dashboard's request would (no filters, the
parameters its pages send), so the answer lands in the read cache under the same key
(`api.cached`): the first visitor of each page finds it computed. The jobs run one after
another on the read cache's background thread (`ReadCache.prewarm`), landing page first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from unitecon.server.auth import KeyInfo, Kind
from unitecon.server.models import Filters

#: The key the background reads run as: never checked (they are not requests).
_BACKGROUND = KeyInfo("background", Kind.READ, "prewarm", "", None)


def dashboard_reads(app: Any) -> list[Callable[[], Any]]:
    """One job per default query of the dashboard's pages (`static/app.js`)."""
    from unitecon.server import api, api_governance, api_units

    req = Request({"type": "http", "app": app, "method": "GET", "headers": [], "path": "/"})
    f, k = Filters(), _BACKGROUND

    def r() -> Response:
        return Response()

    return [
        lambda: api.filter_choices(req, r(), k),
        # overview
        lambda: api.costs(req, r(), k, f, by="day,model", limit=0),
        lambda: api.costs(req, r(), k, f, by="feature", limit=10),
        lambda: api.costs(req, r(), k, f, by="customer", limit=10),
        lambda: api_units.unit_metrics(req, r(), k, f, by="month", loaded=False),
        lambda: api.prices_missing(req, r(), k, f),
        # unit economics
        lambda: api_units.unit_metrics(req, r(), k, f, by="feature", loaded=False),
        lambda: api_units.unit_metrics(req, r(), k, f, by="feature", loaded=True),
        lambda: api_units.asymmetry(req, r(), k, f, by="model"),
        lambda: api_units.tasks(req, r(), k, f, limit=20),
        # customers and margins
        lambda: api_units.margins(req, r(), k, f, by="customer"),
        lambda: api_units.collapse(req, r(), k, f, plan=None),
        # agents and tasks
        lambda: api_units.tasks(req, r(), k, f, limit=25),
        lambda: api.costs(req, r(), k, f, by="agent", limit=0),
        # self-hosted endpoints
        lambda: api_units.endpoints(req, r(), k, f),
        # budgets and alerts (and the rest of that page)
        lambda: api_governance.budgets(req, r(), k, month=None),
        lambda: api_governance.alerts(req, r(), k, days=7),
        lambda: api_governance.anomalies(req, r(), k, f, top=50),
        lambda: api_governance.runaway(req, r(), k, f, top=20),
        lambda: api_governance.coverage(req, r(), k, f),
        # the API's default cost query
        lambda: api.costs(req, r(), k, f, by="model", limit=0),
    ]
