"""Writing a generated data set to disk: the import CSVs, one bank file per day and format,
and truth.csv. Everything is streamed row by row and entry by entry, so a million open items
never become one big string.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from reconciler.demo import camt_writer, mt940_writer
from reconciler.demo.bankfile import day_statements
from reconciler.demo.generator import DemoConfig, DemoData, generate
from reconciler.demo.truth import write_truth
from reconciler.domain import Customer, OpenItem
from reconciler.money import money

FORMATS = ("mt940", "camt053", "camt054")
_NEEDS_QUOTING = re.compile(r'[,"\r\n]')
CUSTOMER_HEADER = ("customer_id", "name", "ibans", "parent_customer_id", "segment", "country",
                   "payment_terms", "email", "credit_limit", "currency")
OPEN_ITEM_HEADER = ("entity", "document_number", "document_type", "customer_id", "currency",
                    "amount", "open_amount", "issue_date", "due_date", "payment_reference",
                    "discount_rate", "discount_due_date")


@dataclass(frozen=True)
class DemoFiles:
    folder: Path
    customers: Path
    open_items: Path
    truth: Path
    mt940: tuple[Path, ...] = ()
    camt053: tuple[Path, ...] = ()
    camt054: tuple[Path, ...] = ()

    @property
    def bank_files(self) -> tuple[Path, ...]:
        return self.mt940 + self.camt053 + self.camt054

    @property
    def all(self) -> tuple[Path, ...]:
        return (self.customers, self.open_items, *self.bank_files, self.truth)


def _csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _customer_row(customer: Customer) -> tuple[str, ...]:
    return (customer.customer_id, customer.name, ";".join(customer.ibans),
            customer.parent_customer_id or "", customer.segment or "", customer.country or "",
            customer.payment_terms.code if customer.payment_terms else "",
            customer.email or "",
            f"{customer.credit_limit:f}" if customer.credit_limit is not None else "",
            customer.currency or "")


def _item_lines(items: Iterable[OpenItem]) -> Iterator[str]:
    """open_items.csv rows. No field can hold a comma, quote or line break (codes, numbers,
    dates, RF references), so rows are joined directly: a million rows in a few seconds."""
    iso: dict[dt.date | None, str] = {None: ""}
    for item in items:
        issue, due, discount_due = item.issue_date, item.due_date, item.discount_due_date
        for day in (issue, due, discount_due):
            if day not in iso:
                iso[day] = day.isoformat()  # type: ignore[union-attr]
        yield ",".join((
            item.entity, item.document_number, item.document_type.value, item.customer_id,
            item.currency, str(item.amount), str(item.open_amount),  # exponent -2: no 'E'
            iso[issue], iso[due], item.payment_reference or "",
            str(item.discount_rate) if item.discount_rate is not None else "",
            iso[discount_due])) + "\n"


def _write_items(path: Path, items: list[OpenItem]) -> None:
    if any(_NEEDS_QUOTING.search(item.entity) for item in items[:1]):
        raise ValueError(f"entity {items[0].entity!r} would need CSV quoting")
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(OPEN_ITEM_HEADER) + "\n")
        batch: list[str] = []
        for line in _item_lines(items):
            batch.append(line)
            if len(batch) == 10000:
                handle.write("".join(batch))
                batch.clear()
        handle.write("".join(batch))


def write_demo_files(data: DemoData, folder: Path, *, formats: Iterable[str] = FORMATS,
                     mt940_style: str = "german") -> DemoFiles:
    """Write customers.csv, open_items.csv, the bank files and truth.csv into `folder`."""
    wanted = tuple(formats)
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown bank file format(s) {unknown}; choose from {FORMATS}")
    if mt940_style not in ("german", "ing"):
        raise ValueError("mt940_style must be 'german' or 'ing'")
    config = data.config
    folder.mkdir(parents=True, exist_ok=True)
    customers = folder / "customers.csv"
    open_items = folder / "open_items.csv"
    truth = folder / "truth.csv"
    _csv(customers, CUSTOMER_HEADER, map(_customer_row, data.customers))
    _write_items(open_items, data.open_items)
    written: dict[str, list[Path]] = {name: [] for name in FORMATS}
    opening: Decimal = money(config.opening_balance)
    for statement in day_statements(data.payments, data.business_days, opening):
        stamp = f"{statement.day:%Y%m%d}"
        if "mt940" in wanted:
            path = folder / f"mt940_{stamp}.sta"
            with path.open("w", encoding="ascii", newline="") as handle:
                for line in mt940_writer.statement_lines(statement, config.our_iban,
                                                         config.currency, mt940_style):
                    handle.write(line + "\r\n")  # SWIFT lines end in CR LF
            written["mt940"].append(path)
        args = (statement, config.our_iban, config.currency, config.account_owner,
                config.our_bic)
        if "camt053" in wanted:
            path = folder / f"camt053_{stamp}.xml"
            with path.open("w", encoding="utf-8", newline="\n") as handle:
                handle.writelines(camt_writer.camt053(*args))
            written["camt053"].append(path)
        if "camt054" in wanted and camt_writer.notified(statement):
            path = folder / f"camt054_{stamp}.xml"
            with path.open("w", encoding="utf-8", newline="\n") as handle:
                handle.writelines(camt_writer.camt054(*args))
            written["camt054"].append(path)
    write_truth(data.truth, truth)
    return DemoFiles(folder, customers, open_items, truth, tuple(written["mt940"]),
                     tuple(written["camt053"]), tuple(written["camt054"]))


def build_demo(folder: Path, config: DemoConfig | None = None, *,
               formats: Iterable[str] = FORMATS, mt940_style: str = "german") -> DemoFiles:
    """Generate with `config` (the defaults when None) and write everything into `folder`."""
    return write_demo_files(generate(config or DemoConfig()), folder, formats=formats,
                            mt940_style=mt940_style)
