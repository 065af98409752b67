"""Realistic synthetic receivables data with ground truth, for the demo, benchmarks and tests.

`generate(DemoConfig(...))` makes a customer master, open items and a fortnight of bank
transactions in every scenario that makes cash application hard (see `scenario.Scenario`),
each with a `TruthRow` saying what it really pays. `write_demo_files` writes them as the
server reads them: customers.csv and open_items.csv in the contract formats of DESIGN.md,
MT940, camt.053 and camt.054 files (one per business day and format), and truth.csv.
Pure standard library; deterministic by seed.

    from reconciler.demo import DemoConfig, build_demo
    files = build_demo(Path("demo"), DemoConfig(seed=1, payments=1000))
    # files.customers, files.open_items, files.mt940 / camt053 / camt054, files.truth

From the shell: `python -m reconciler.demo --out DIR [--seed N] [--customers N]
[--open-items N] [--payments N]`.
"""

from reconciler.demo.files import DemoFiles, build_demo, write_demo_files
from reconciler.demo.generator import DemoConfig, DemoData, business_days, generate
from reconciler.demo.scenario import DEFAULT_MIX, Scenario
from reconciler.demo.transaction import GeneratedPayment
from reconciler.demo.truth import TruthRow, read_truth

__all__ = [
    "DEFAULT_MIX", "DemoConfig", "DemoData", "DemoFiles", "GeneratedPayment", "Scenario",
    "TruthRow", "build_demo", "business_days", "generate", "read_truth", "write_demo_files",
]
