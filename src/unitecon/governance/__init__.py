"""Governance stage (not built yet): budgets, forecasts, anomaly and runaway-agent alerts,
tagging coverage. The demo's runaway-agent incident is visible today through
`unitecon tasks --top 5` (calls per task) and the report's spend-by-day chart.
"""
