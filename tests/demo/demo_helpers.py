"""A small flat view of a demo run's events.

The view is parsed here from the raw files, independently of `unitecon.ingest`, so these tests
check the generator's output format itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from unitecon.demo import DemoFiles


@dataclass
class Demo:
    files: DemoFiles
    native: list[dict[str, Any]]
    spans: list[dict[str, Any]]  # flattened: attributes merged with resource attributes
    requests: list[dict[str, Any]]


def _value(v: dict[str, Any]) -> Any:
    ((kind, x),) = v.items()
    if kind == "intValue":
        return int(x)
    if kind == "arrayValue":
        return [_value(y) for y in x["values"]]
    return x


def flatten(request: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for rs in request["resourceSpans"]:
        res = {a["key"]: _value(a["value"]) for a in rs["resource"]["attributes"]}
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                attrs = {a["key"]: _value(a["value"]) for a in s["attributes"]}
                out.append({**s, "attrs": attrs, "res": res, "scope": ss["scope"]})
    return out


def load(files: DemoFiles) -> Demo:
    native = [json.loads(line) for p in files.native for line in p.open()]
    requests = [json.loads(p.read_text()) for p in files.otlp]
    spans = [s for r in requests for s in flatten(r)]
    return Demo(files, native, spans, requests)
