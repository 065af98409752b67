"""KPIs against a hand-computed example (figures worked out in the comments)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from reconciler import kpis
from reconciler.cli import main
from reconciler.db.session import Database
from reconciler.kpis import ItemFact, KpiInput, PaymentFact
from tests.collections import builders as b

D = Decimal
AS_OF = dt.date(2026, 11, 30)  # period: 90 days, from 2026-09-01 (excluded) to AS_OF


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _example() -> KpiInput:
    items = [
        # A: issued in the period, paid on time
        ItemFact("C1", "MAIN", "EUR", "standard", D("1000"), d("2026-10-01"), d("2026-10-31"),
                 [(d("2026-10-25"), D("1000"))]),
        # B: 16 days overdue
        ItemFact("C1", "MAIN", "EUR", "standard", D("2000"), d("2026-10-15"), d("2026-11-14")),
        # C: not yet due
        ItemFact("C1", "MAIN", "EUR", "standard", D("500"), d("2026-11-20"), d("2026-12-20")),
        # D: a credit note, counted negative, 20 days past its date
        ItemFact("C1", "MAIN", "EUR", "standard", D("-100"), d("2026-11-10"), d("2026-11-10")),
        # E: old and unpaid, 122 days overdue
        ItemFact("C2", "SUB", "EUR", "small", D("800"), d("2026-07-01"), d("2026-07-31")),
        # F: issued before the period, paid late inside it
        ItemFact("C2", "SUB", "EUR", "small", D("300"), d("2026-08-15"), d("2026-09-14"),
                 [(d("2026-10-01"), D("300"))]),
    ]
    payments = [PaymentFact(d("2026-10-25"), D("1000"), True, "C1", "EUR"),
                PaymentFact(d("2026-10-01"), D("300"), False, "C2", "EUR"),
                PaymentFact(d("2026-11-29"), D("50"), False, None, "EUR")]
    disputes = [(d("2026-11-10"), 6), (d("2026-10-01"), 10), (d("2026-08-01"), 99)]
    unapplied = [("C1", "EUR", d("2026-11-20"), D("200")), ("C2", "EUR", d("2026-11-10"),
                                                          D("100"))]
    return KpiInput(items, payments, disputes, unapplied)


def test_hand_computed_example() -> None:
    k = kpis.compute(_example(), AS_OF)
    # AR = B 2000 + C 500 + D -100 + E 800; sales in period = A + B + C + D
    assert k["receivables"] == D("3200.00") and k["credit_sales"] == D("3400.00")
    assert k["dso"] == D("84.71")  # 3200 / 3400 x 90
    assert k["best_possible_dso"] == D("13.24")  # current AR 500 / 3400 x 90
    assert k["average_days_delinquent"] == D("71.47")
    # count-back: 30 days (Nov: 400 of sales) + 30 (Oct 2-31: 2000) + 800/1000 x 30
    assert k["count_back_dso"] == D("84.00")
    # CEI: (AR start 1100 + sales 3400 - AR 3200) / (1100 + 3400 - current 500)
    assert k["cei"] == D("0.3250")
    assert k["aged_balance"] == {"current": D("500.00"), "1-30": D("1900.00"),
                                 "31-60": D("0.00"), "61-90": D("0.00"), "90+": D("800.00")}
    assert k["on_time_rate"] == D("0.5000")  # A on time, F late
    assert k["auto_rate"] == D("0.3333") and k["auto_rate_amount"] == D("0.7407")
    assert k["unapplied_cash"] == D("300.00")
    assert k["unapplied_cash_age_days"] == D("13.33")  # (200 x 10 + 100 x 20) / 300
    assert k["average_dispute_resolution_days"] == D("8.00")  # the August one is outside
    assert k["top10_concentration"] == D("1.0000")


def test_concentration_of_the_ten_largest() -> None:
    items = [ItemFact(f"C{n}", "MAIN", "EUR", "", D("100"), d("2026-11-01"), d("2026-12-01"))
             for n in range(10)]
    items.append(ItemFact("BIG", "MAIN", "EUR", "", D("1000"), d("2026-11-01"),
                          d("2026-12-01")))
    k = kpis.compute(KpiInput(items, [], [], []), AS_OF)
    assert k["top10_concentration"] == D("0.9500")  # (1000 + 9 x 100) / 2000


def test_split_by_entity() -> None:
    groups = kpis.compute_by(_example(), AS_OF, "entity")
    assert set(groups) == {"MAIN", "SUB"}
    assert groups["SUB"]["aged_balance"]["90+"] == D("800.00")
    assert groups["MAIN"]["receivables"] == D("2400.00")


def test_json_contract_from_the_database(db: Database, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        b.customer(s, "C1")
        paid = b.item(s, "INV-1", "C1", "1000.00", due=d("2026-11-10"), issued=d("2026-10-11"))
        b.item(s, "INV-2", "C1", "500.00", due=d("2026-11-15"), issued=d("2026-10-16"))
        tx = b.transaction(s, "1100.00", value_date=d("2026-11-05"))
        b.apply(s, tx, "C1", [("item", paid, "1000.00"), ("unapplied", None, "100.00")])
    monkeypatch.setenv("RECON_DATABASE_URL", db.url)
    assert main(["kpis", "--as-of", "2026-11-30"]) == 0
    figures = json.loads(capsys.readouterr().out)
    for key in ("as_of", "dso", "best_possible_dso", "average_days_delinquent", "cei",
                "auto_rate", "on_time_rate", "aged_balance", "unapplied_cash"):
        assert key in figures
    assert figures["aged_balance"] == {"current": "0.00", "1-30": "500.00", "31-60": "0.00",
                                       "61-90": "0.00", "90+": "0.00"}
    assert figures["unapplied_cash"] == "100.00"
    assert figures["auto_rate"] == 1 and figures["on_time_rate"] == 1
    assert main(["kpis", "--as-of", "2026-11-30", "--format", "csv", "--by", "segment"]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.startswith("group,as_of,") and "aged_balance.90+" in header
    assert row.startswith("-,2026-11-30,")
