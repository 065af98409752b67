"""Read-only queries behind the pages and the API: `select()` over the slice tables.

They return plain frozen records (never ORM rows), so templates and JSON see the same values.
"""
