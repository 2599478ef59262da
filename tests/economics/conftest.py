"""Shared fixtures: the hand-worked revenue book of test_handworked.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from unitecon import config
from unitecon.economics.inputs import UsageLine
from unitecon.economics.revenue import Book, load_book

OCT = dt.date(2026, 10, 1)

YAML = """
revenue:
  rates: {EUR: "1.10"}
  plans:
    starter: {monthly_fee: 49, fixed_cost_per_customer: 4}
    starter-eu: {monthly_fee: 45, currency: EUR}
    team:
      per_seat: 30
      fixed_cost_per_customer: 10
      usage: [{metric: tasks, included_per_seat: 100, price: "0.08"}]
    support-pro:
      monthly_fee: 99
      fixed_cost_per_customer: 5
      usage: [{metric: resolutions, feature: support, price: "0.99"}]
  customers:
    A: {plan: starter}
    B: {plan: team, seats: 3, start: 2026-10-17}
    C: {plan: support-pro}
    D: {plan: starter-eu, currency: EUR}
"""


def line(cid: str, feature: str, cost: str, tasks: int, **kw: int) -> UsageLine:
    extra = {k: Decimal(v) for k, v in kw.items()}
    return UsageLine(cid, OCT, feature, {"m": Decimal(cost)}, tasks=Decimal(tasks), **extra)


@pytest.fixture
def book() -> Book:
    return load_book(config.parse(YAML, "t.yaml").revenue)


@pytest.fixture
def usage() -> list[UsageLine]:
    return [
        line("A", "search", "12.00", 30),
        line("A", "coding", "50.00", 10),
        line("B", "coding", "20.00", 350),
        line("C", "support", "30.00", 40, successful_tasks=25, conversations=40, resolutions=25),
        line("D", "search", "1.00", 5),
    ]
