"""I/O with the outside: bank sources (SFTP, EBICS, folder) and ERP sinks (file, webhook, SFTP).

Rule: connectors move bytes. They never parse, match or touch the database; the services in
`reconciler.pulling` and `reconciler.outbox` decide what is new, import it and record state.
"""
