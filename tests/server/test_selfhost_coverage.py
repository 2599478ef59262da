"""`POST /api/v1/selfhost/compare` carries each option's calibration coverage and says so
when an uncalibrated option (MI300X here) is ranked first."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_api_compare_carries_coverage(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    body = {
        "model": "Llama-3.1-8B",
        "api_model": "openai:gpt-4.1-mini",
        "input_len": 800,
        "output_len": 200,
        "peak_tokens_per_s": 5000,
        "gpu_prices": {"mi300x": "0.10"},
        "top": 100,
    }
    r = client.post("/api/v1/selfhost/compare", json=body, headers=hdr["read"])
    assert r.status_code == 200, r.text
    data = r.json()
    mi = [o for o in data["options"] if o["gpu_id"] == "mi300x"]
    assert mi and not mi[0]["calibrated"] and "vendor amd" in mi[0]["coverage_warning"]
    low, high = mi[0]["throughput_band"]
    assert low < 1 < high
    assert data["options"][0]["gpu_id"] == "mi300x"  # $0.10/GPU-h wins even at its low end
    assert "UNCALIBRATED" in data["ranking_note"]


def test_api_compare_flags_gpt_oss_in_mxfp4(
    client: TestClient, hdr: dict[str, dict[str, str]]
) -> None:
    # gpt-oss is served as released (MXFP4 experts): one calibration row, so uncalibrated.
    body = {
        "model": "gpt-oss-120b",
        "api_model": "openai:gpt-4.1-mini",
        "input_len": 800,
        "output_len": 200,
        "peak_tokens_per_s": 5000,
        "top": 100,
    }
    r = client.post("/api/v1/selfhost/compare", json=body, headers=hdr["read"])
    assert r.status_code == 200, r.text
    data = r.json()
    mx = [o for o in data["options"] if o["precision"] == "mxfp4"]
    assert mx and all(not o["calibrated"] and "mxfp4" in o["coverage_warning"] for o in mx)
    if not data["options"][0]["calibrated"]:
        assert "UNCALIBRATED" in data["ranking_note"]
    assert all(o["price_status"] in ("sourced", "unsourced", "override") for o in data["options"])
