"""Models stage: pure functions over plain values; never import the store.

    perf/       performance model of LLM serving (catalogs, step times, throughput, calibration)
    selfhost    self-host vs API economics (GPU-seconds, $/M tokens, replicas, break-even)

May import: unitecon.errors, numpy/scipy, pydantic/pyyaml (catalog files), genai-prices.
Never: duckdb, ibis, the ledger.
"""
