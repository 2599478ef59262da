"""The dashboard: static pages served by the app, working offline.

Every script, style and the chart library come from the package: `static/` holds the pages'
HTML, JS and CSS, and `plotly.min.js` is read from the installed plotly package (never a CDN).
The pages need no key to load; they ask for a read key once and call the read API with it.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from unitecon.attribution.frame import LABELS
from unitecon.server.errors import NotFound

router = APIRouter(include_in_schema=False)

#: URL path -> (page id, title in the navigation).
PAGES: dict[str, tuple[str, str]] = {
    "/": ("overview", "Overview"),
    "/unit-economics": ("units", "Unit economics"),
    "/customers": ("customers", "Customers & margins"),
    "/tasks": ("tasks", "Agents & tasks"),
    "/budgets": ("budgets", "Budgets & alerts"),
    "/endpoints": ("endpoints", "Self-hosted endpoints"),
    "/calculator": ("calculator", "Self-host calculator"),
}
ASSETS = {"app.js": "text/javascript", "style.css": "text/css", "favicon.svg": "image/svg+xml"}
CACHE = {"Cache-Control": "public, max-age=3600"}


def _static(name: str) -> bytes:
    return resources.files("unitecon.server").joinpath("static", name).read_bytes()


@cache
def plotly_js() -> bytes:
    """The plotly bundle shipped inside the installed plotly package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path.read_bytes()


def _nav(current: str) -> str:
    links = []
    for path, (page, title) in PAGES.items():
        cls = ' class="active" aria-current="page"' if page == current else ""
        links.append(f'<a href="{path}" data-page="{page}"{cls}>{html.escape(title)}</a>')
    return "\n".join(links)


def _labels() -> str:
    """`LABELS` (what people read for the row keys that are not values: idle GPU capacity,
    untagged spend...) as JSON for the page's script: the names the CLI prints, from one
    place. `<`, `>` and `&` escaped so that the text cannot end its <script> element."""
    text = json.dumps(LABELS, ensure_ascii=True, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_html(path: str) -> str:
    page, title = PAGES[path]
    shell = _static("page.html").decode()
    return (
        shell.replace("{{page}}", page)
        .replace("{{title}}", html.escape(title))
        .replace("{{nav}}", _nav(page))
        .replace("{{labels}}", _labels())
    )


def _page_route(path: str) -> None:
    async def serve() -> HTMLResponse:
        return HTMLResponse(page_html(path))

    router.add_api_route(path, serve, methods=["GET"], response_class=HTMLResponse)


for _path in PAGES:
    _page_route(_path)


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    if name == "plotly.min.js":
        return Response(plotly_js(), media_type="text/javascript", headers=CACHE)
    if name not in ASSETS:
        raise NotFound(f"No dashboard asset {name!r}.")
    return Response(_static(name), media_type=ASSETS[name], headers=CACHE)
