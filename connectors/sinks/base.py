"""The sink interface and the two encodings of a posting (JSON document, CSV journal lines)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Protocol

from connectors.errors import ConnectorError
from reconciler.settings import SinkSettings

# CSV columns: the posting's identity, then the journal line.
CSV_FIELDS = ("sequence", "posting_id", "kind", "application_id", "reverses_sequence",
              "value_date", "booking_date", "bank_reference", "currency", "line", "account",
              "side", "amount", "customer_id", "entity", "document_number", "reason")


KINDS = ("file", "webhook", "sftp")  # every kind `open_sink` builds; tested by enumeration


class Sink(Protocol):
    name: str

    def deliver(self, payload: dict[str, Any]) -> str:
        """Deliver one posting; return the acknowledgement to record."""
        ...

    def close(self) -> None: ...


def encode(payloads: list[dict[str, Any]], fmt: str, *, single: bool = False) -> bytes:
    """JSON (one object, or a list of them) or CSV (one row per journal line)."""
    if fmt == "json":
        body: Any = payloads[0] if single else payloads
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for payload in payloads:
            for row in csv_rows(payload):
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return out.getvalue().encode("utf-8")
    raise ConnectorError(f"unknown format {fmt!r} (known: csv, json)")


def csv_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    transaction = payload["transaction"]
    head = {
        "sequence": payload["sequence"], "posting_id": payload["posting_id"],
        "kind": payload["kind"], "application_id": payload["application_id"],
        "reverses_sequence": payload["reverses_sequence"],
        "value_date": transaction["value_date"], "booking_date": transaction["booking_date"],
        "bank_reference": transaction["bank_reference"], "currency": payload["currency"],
    }
    return [{**head, **{k: line[k] for k in CSV_FIELDS if k in line}}
            for line in payload["lines"]]


def file_name(payload: dict[str, Any], fmt: str) -> str:
    """Deterministic per posting: a repeated delivery overwrites, never duplicates."""
    return f"posting-{int(payload['sequence']):010d}.{fmt}"


def open_sink(name: str, settings: SinkSettings, data_dir: str = "var") -> Sink:
    if settings.format not in ("json", "csv"):
        raise ConnectorError(f"sinks.{name}: unknown format {settings.format!r} (json, csv)")
    if settings.kind == "file":
        from connectors.sinks.file import FileSink

        return FileSink(name, settings, Path(data_dir) / "outbox" / name)
    if settings.kind == "webhook":
        from connectors.sinks.webhook import WebhookSink

        return WebhookSink(name, settings)
    if settings.kind == "sftp":
        from connectors.sinks.sftp import SftpSink

        return SftpSink(name, settings)
    raise ConnectorError(f"sinks.{name}: unknown kind {settings.kind!r} (file, webhook, sftp)")
