"""Master data from the ERP: `customers.csv` and `open_items.csv` imports (upserts).

Each import reads the whole file, reports every bad row (file, line, column, value) and
either applies all of it in one database transaction with one journal row, or nothing.
"""

from reconciler.masterdata.customers import import_customers
from reconciler.masterdata.fields import FieldError, parse_payment_terms
from reconciler.masterdata.open_items import import_open_items
from reconciler.masterdata.summary import ImportSummary

__all__ = ["FieldError", "ImportSummary", "import_customers", "import_open_items",
           "parse_payment_terms"]
