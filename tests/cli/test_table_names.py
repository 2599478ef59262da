"""A row's name (a model, an endpoint) is read whole in a table at 80 and 100 columns:
low-priority number columns are left out (and named under the table) before a name wraps,
and the first number always stays (issue 17, item 5: the asymmetry and endpoints tables
broke "claude-sonnet-4-5-20250929" over two lines)."""

from __future__ import annotations

from io import StringIO

import pytest
from rich.console import Console

from unitecon.terminal import table

#: `unitecon asymmetry --by model`'s columns: the model, then 9 numbers and the out/in ratio.
COLS = ["model", "token cost", "input share", "input $/1k", "output share", "output $/1k",
        "cache reads share", "cache reads $/1k", "reasoning share", "reasoning $/1k",
        "out/in price"]  # fmt: skip
ROW = ["$704.86", "80.4%", "$0.000750", "19.6%", "$0.014598", "70.1%", "$0.000300", "0.0%",
       "—", "19.5x"]  # fmt: skip
NAMES = ["claude-sonnet-4-5-20250929", "o3-2025-04-16", "text-embedding-3-small"]


def _render(columns: list[str], rows: list[list[str]], width: int, names: int = 1) -> str:
    """The table as the CLI prints it: the first `names` columns are text, the rest right."""
    out = StringIO()
    Console(file=out, width=width, color_system=None).print(
        table("t", columns, rows, right=columns[names:], width=width)
    )
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 100])
def test_model_names_whole(width: int) -> None:
    text = _render(COLS, [[n, *ROW] for n in NAMES], width)
    lines = text.splitlines()
    for name in NAMES:
        # the name on one line, in the first cell
        assert any(line.startswith(f"│ {name} ") for line in lines), text
    assert all(len(line) <= width for line in lines)
    assert "$704.86" in text  # the first number stays
    assert "not shown at" in text  # what had to go is named


def test_endpoint_and_gpu_whole_at_100() -> None:
    # `unitecon endpoints`' columns and the 60-day demo's row
    cols = ["endpoint", "gpu", "GPU cost", "idle", "utilization", "calls",
            "measured out tok/s", "configured prefill/decode tok/s", "GPU-s/output token",
            "$/M in, busy", "$/M out, busy", "$/M in, provisioned",
            "$/M out, provisioned"]  # fmt: skip
    row = ["llama-70b-h100", "2x H100 SXM5 80GB", "$6,048.00", "$5,915.44", "2.2%",
           "14,763", "43.52", "25000 / 45", "0.0460", "$0.87", "$25.84", "$40.13",
           "$1,201.00"]  # fmt: skip
    text = _render(cols, [row], 100, names=2)
    assert "│ llama-70b-h100 │ 2x H100 SXM5 80GB │ $6,048.00 │" in text, text


def test_a_name_too_long_wraps_rather_than_losing_the_first_number() -> None:
    # 55 characters, longer than a name is kept whole (NAME_WHOLE = 40): it wraps, and at
    # 40 columns every number but the first still goes
    name = "ft:gpt-4.1-mini-2025-04-14:northwind:triage-v2:B7qK3mZp"
    text = _render(COLS, [[name, *ROW]], 40)
    assert "$704.86" in text, text
    joined = "".join(line[2:].split(" │")[0] for line in text.splitlines() if line[:1] == "│")
    assert joined.replace(" ", "") == name  # every character is there, over several lines
