"""I/O with banks and the ERP. Connectors move bytes; they never parse or match."""
