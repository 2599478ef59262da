"""Bad revenue configuration is a ConfigError naming file:line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitecon import config
from unitecon.economics.revenue import load_book
from unitecon.errors import ConfigError

PLANS = """revenue:
  plans:
    starter: {monthly_fee: 49}
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as e:
        config.parse(text, "u.yaml")
    return str(e.value)


def test_plan_without_a_price() -> None:
    msg = _error("revenue:\n  plans:\n    free:\n      fixed_cost_per_customer: 3\n")
    assert "u.yaml:4: revenue.plans.free:" in msg  # the plan body starts on line 4
    assert "plan has no price" in msg


def test_unknown_plan_on_a_customer() -> None:
    msg = _error(PLANS + "  customers:\n    acme:\n      plan: startr\n")
    assert "u.yaml:6: revenue.customers.acme.plan:" in msg
    assert "unknown plan 'startr'" in msg and "Did you mean 'starter'" in msg


def test_unknown_plan_in_a_contract_and_a_rule() -> None:
    text = PLANS + (
        "  customers:\n    acme:\n      contracts:\n        - plan: team\n"
        "  assign:\n    - plan: pro\n"
    )
    msg = _error(text)
    assert "u.yaml:7: revenue.customers.acme.contracts.0.plan:" in msg
    assert "u.yaml:9: revenue.assign.0.plan:" in msg


def test_negative_seat_count() -> None:
    msg = _error(PLANS + "  customers:\n    acme:\n      plan: starter\n      seats: -2\n")
    assert "u.yaml:7: revenue.customers.acme.seats:" in msg
    assert "greater than or equal to 0" in msg


def test_overlapping_contract_dates() -> None:
    text = PLANS + (
        "  customers:\n    acme:\n      contracts:\n"
        "        - {plan: starter, start: 2026-01-01, end: 2026-03-01}\n"
        "        - {plan: starter, start: 2026-02-15}\n"
    )
    msg = _error(text)
    assert "u.yaml:7: revenue.customers.acme.contracts:" in msg
    assert "overlap" in msg and "2026-02-15" in msg


def test_back_to_back_contracts_are_fine() -> None:
    text = PLANS + (
        "  customers:\n    acme:\n      contracts:\n"
        "        - {plan: starter, start: 2026-01-01, end: 2026-03-01}\n"
        "        - {plan: starter, start: 2026-03-01}\n"
    )
    assert len(config.parse(text).revenue.customers["acme"].contracts) == 2


def test_currency_without_a_rate() -> None:
    msg = _error("revenue:\n  plans:\n    eu: {monthly_fee: 40, currency: EUR}\n")
    assert "u.yaml:2: revenue:" in msg and "rates has no EUR" in msg


def test_end_before_start() -> None:
    text = PLANS + "  customers:\n    a: {plan: starter, start: 2026-03-01, end: 2026-02-01}\n"
    c = _error(text.replace("{plan: starter, start", "{contracts: [{plan: starter, start")
                .replace("02-01}", "02-01}]}"))  # fmt: skip
    assert "u.yaml:5: revenue.customers.a.contracts.0:" in c and "not after start" in c


def test_customers_csv_errors_name_file_and_line(tmp_path: Path) -> None:
    csv = tmp_path / "customers.csv"
    csv.write_text("customer_id,plan,seats,contract_start\na,starter,2,2026-01-01\nb,tem,1,\n")
    cfg = config.parse(PLANS + "  customers_csv: customers.csv\n").revenue
    with pytest.raises(ConfigError, match=r"customers.csv:3: plan: .*unknown plan 'tem'"):
        load_book(cfg, tmp_path)
    csv.write_text("customer_id,plan,seats\na,starter,-1\n")
    with pytest.raises(ConfigError, match=r"customers.csv:2: seats: .*greater than or equal"):
        load_book(cfg, tmp_path)


def test_customers_csv_is_read(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text(
        "customer_id,name,plan,seats,region,contract_start\na,Acme,starter,2,us,2026-01-05\n"
    )
    cfg = config.parse(PLANS + "  customers_csv: c.csv\n").revenue
    book = load_book(cfg, tmp_path)
    (c,) = book.contracts("a")
    assert (c.plan, c.seats, str(c.start)) == ("starter", 2, "2026-01-05")


def test_invoice_csv_errors(tmp_path: Path) -> None:
    (tmp_path / "inv.csv").write_text("customer_id,month,amount,currency\na,2026-10,12.5,GBP\n")
    cfg = config.parse(PLANS + "  revenue_lines_csv: inv.csv\n").revenue
    with pytest.raises(ConfigError, match=r"inv.csv:2: no rate for currency 'GBP'"):
        load_book(cfg, tmp_path)


def test_demo_revenue_section_is_valid() -> None:
    text = (Path(__file__).parents[2] / "src/unitecon/economics/demo_revenue.yaml").read_text()
    rev = config.parse(text, "demo_revenue.yaml").revenue
    assert sorted(rev.plans) == ["starter", "support-pro", "team"]
    assert rev.customers_csv == "customers.csv"
