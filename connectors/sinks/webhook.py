"""HTTP webhook: POST each posting as JSON, signed, with an idempotency key.

`X-Recon-Signature: sha256=<hex>` is HMAC-SHA256 over the exact body with the sink's secret,
so the ERP can check that the entry comes from us and was not altered. `Idempotency-Key` is
the posting id: a retry after a lost answer is recognised by the receiver, not booked twice.
Any 2xx is the acknowledgement; 408, 429 and 5xx are retried, other 4xx too (the receiver
may be fixed) until the sink's `max_attempts`.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from typing import Any

from connectors.errors import ConnectorError, TransientConnectorError
from connectors.sinks.base import encode
from reconciler.settings import SinkSettings

SIGNATURE_HEADER = "X-Recon-Signature"


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookSink:
    def __init__(self, name: str, settings: SinkSettings) -> None:
        if not settings.url or not settings.url.startswith(("http://", "https://")):
            raise ConnectorError(f"sinks.{name}: a webhook needs an http(s) 'url'")
        if settings.secret is None:
            raise ConnectorError(f"sinks.{name}: a webhook needs 'secret' (a reference) to "
                                 "sign its body")
        self.name = name
        self.url = settings.url
        self.secret = settings.secret
        self.timeout = settings.timeout_seconds

    def deliver(self, payload: dict[str, Any]) -> str:
        body = encode([payload], "json", single=True)
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "Idempotency-Key": str(payload["posting_id"]),
            "X-Recon-Sequence": str(payload["sequence"]),
            SIGNATURE_HEADER: sign(self.secret.reveal().encode("utf-8"), body),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read(500).decode("utf-8", "replace")
                return f"HTTP {response.status} {answer}".strip()
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode("utf-8", "replace")
            exc.close()
            raise TransientConnectorError(f"sinks.{self.name}: HTTP {exc.code} {detail}"
                                          .strip()) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientConnectorError(f"sinks.{self.name}: {reason}") from None

    def close(self) -> None:
        return None
