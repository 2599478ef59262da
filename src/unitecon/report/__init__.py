"""Report stage: files people read. Lays numbers out; computes none.

demo.py             the self-contained HTML spend report (plotly.js inlined, offline)
xlsx.py             the TCO workbook with live formulas over an inputs sheet
scenario_charts.py  cumulative cost, tornado and savings charts
"""
