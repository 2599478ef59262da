"""Economics stage: what the attributed costs mean for the business.

    costs.py            spend by any dimension and period (the `costs` report)
    metrics.py          THE unit metrics, each with its formula (cost per 1k tokens, per
                        request, per task, per successful task, GPU-s per token, ...)
    workload.py         a feature's measured token mix and peak load (for self-host sizing)
    revenue*.py         plans, customers, invoice lines, currencies -> revenue
    margins.py          revenue - variable - fixed per customer, feature, plan; concentration
    collapse*.py        the usage at which a plan's margin collapses (u0) or misses target (u_m)
    whatif_prices.py    margins re-run with changed prices or usage, ledger untouched
    replay.py           what-if replay of real traffic (priced and attributed as real traffic)

May import: unitecon.attribution, unitecon.pricing, unitecon.ledger, unitecon.models.
"""
