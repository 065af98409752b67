"""An EBICS 3.0 (H005) bank server for the tests, written from the specification.

It speaks what the project's client uses: INI and HIA (ebicsUnsecuredRequest), HPB
(ebicsNoPubKeyDigestsRequest) and BTD downloads (ebicsRequest: Initialisation, Transfer,
Receipt) with X002 signatures checked on every signed request, the bank public key digests
checked, order data compressed, E002-encrypted for the subscriber and cut into segments, and
the receipt deciding whether a document is offered again. Subscribers are activated as soon
as INI and HIA arrived (a real bank waits for the signed letter). It reuses the project's
crypto primitives and C14N signing helpers; everything protocol-level is its own.
"""

from __future__ import annotations

import base64
import io
import os
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from connectors.sources.ebics import crypto
from connectors.sources.ebics.envelope import (
    NS,
    S002,
    SHA256,
    add_auth_signature,
    parse,
    q,
    read_certificate,
    root,
    serialize,
    sub,
    text_of,
    unpack_plain,
    verify_auth_signature,
    x509_data,
)

OK = "000000"
DOWNLOAD_POSTPROCESS_DONE = "011000"
DOWNLOAD_POSTPROCESS_SKIPPED = "011001"
AUTHENTICATION_FAILED = "061001"
NO_DOWNLOAD_DATA_AVAILABLE = "090005"
INVALID_USER_OR_USER_STATE = "091002"
BANK_PUBKEY_UPDATE_REQUIRED = "091008"
TX_UNKNOWN_TXID = "091101"
INVALID_REQUEST = "061002"


@dataclass
class Subscriber:
    partner_id: str
    user_id: str
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)  # by version

    @property
    def ready(self) -> bool:
        return {"A006", "X002", "E002"} <= set(self.certificates)

    @property
    def x002(self) -> rsa.RSAPublicKey:
        return crypto.rsa_public(self.certificates["X002"])

    @property
    def e002(self) -> rsa.RSAPublicKey:
        return crypto.rsa_public(self.certificates["E002"])


@dataclass
class Document:
    id: int
    service_name: str
    msg_name: str
    name: str
    data: bytes
    scope: str | None = None
    delivered: bool = False


@dataclass
class Transaction:
    subscriber: Subscriber
    documents: list[Document]
    encrypted_key: bytes
    segments: list[bytes]


@dataclass
class EbicsTestBank:
    host_id: str = "RECONTEST"
    segment_size: int = 1_000_000
    subscribers: dict[tuple[str, str], Subscriber] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    receipts: list[tuple[str, str]] = field(default_factory=list)
    # (request kind, with the phase of an ebicsRequest, return code)
    log: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""  # set by start()

    def __post_init__(self) -> None:
        self.x002 = crypto.generate_key()
        self.e002 = crypto.generate_key()
        self.x002_cert = crypto.make_certificate(self.x002, f"{self.host_id} X002")
        self.e002_cert = crypto.make_certificate(self.e002, f"{self.host_id} E002")
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- test set-up ------------------------------------------------------------------------

    def add_subscriber(self, partner_id: str, user_id: str) -> None:
        self.subscribers[(partner_id, user_id)] = Subscriber(partner_id, user_id)

    def add_document(self, service_name: str, msg_name: str, name: str, data: bytes,
                     scope: str | None = None) -> None:
        self.documents.append(Document(len(self.documents) + 1, service_name, msg_name, name,
                                       data, scope))

    def start(self) -> str:
        bank = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                answer = bank.handle(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=UTF-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ebicsweb"
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- protocol ---------------------------------------------------------------------------

    def handle(self, body: bytes) -> bytes:
        with self.lock:
            request = parse(body, "request")
            kind = etree.QName(request).localname
            if kind == "ebicsUnsecuredRequest":
                answer, code = self._key_upload(request)
            elif kind == "ebicsNoPubKeyDigestsRequest":
                answer, code = self._hpb(request)
            elif kind == "ebicsRequest":
                answer, code = self._transaction(request)
                kind += ":" + (text_of(request, "e:header/e:mutable/e:TransactionPhase") or "")
            else:
                answer, code = self._plain_answer("ebicsKeyManagementResponse",
                                                  INVALID_REQUEST), INVALID_REQUEST
            self.log.append((kind, code))
            return serialize(answer)

    def _subscriber(self, request: Any) -> Subscriber | None:
        partner = text_of(request, "e:header/e:static/e:PartnerID")
        user = text_of(request, "e:header/e:static/e:UserID")
        if text_of(request, "e:header/e:static/e:HostID") != self.host_id:
            return None
        return self.subscribers.get((partner or "", user or ""))

    def _plain_answer(self, tag: str, code: str, report: str = "") -> Any:
        answer = root(tag)
        header = sub(answer, "header", authenticate="true")
        sub(header, "static")
        mutable = sub(header, "mutable")
        sub(mutable, "ReturnCode", code)
        sub(mutable, "ReportText", report or f"[{code}]")
        body = sub(answer, "body")
        sub(body, "ReturnCode", OK if code != NO_DOWNLOAD_DATA_AVAILABLE else code,
            authenticate="true")
        return answer

    def _key_upload(self, request: Any) -> tuple[Any, str]:
        subscriber = self._subscriber(request)
        order_type = text_of(request, "e:header/e:static/e:OrderDetails/e:AdminOrderType")
        data = text_of(request, "e:body/e:DataTransfer/e:OrderData")
        if subscriber is None or data is None:
            code = INVALID_USER_OR_USER_STATE
            return self._plain_answer("ebicsKeyManagementResponse", code), code
        order = unpack_plain(data)
        if order_type == "INI":
            info = order.find(q("SignaturePubKeyInfo", S002))
            if info is None or text_of(info, "s:SignatureVersion") != "A006":
                return self._plain_answer("ebicsKeyManagementResponse", INVALID_REQUEST), \
                    INVALID_REQUEST
            subscriber.certificates["A006"] = read_certificate(info)
        elif order_type == "HIA":
            subscriber.certificates["X002"] = read_certificate(
                order.find(q("AuthenticationPubKeyInfo")))
            subscriber.certificates["E002"] = read_certificate(
                order.find(q("EncryptionPubKeyInfo")))
        else:
            return self._plain_answer("ebicsKeyManagementResponse", INVALID_REQUEST), \
                INVALID_REQUEST
        return self._plain_answer("ebicsKeyManagementResponse", OK, "[EBICS_OK] OK"), OK

    def _encrypted_body(self, answer: Any, subscriber: Subscriber, encrypted_key: bytes,
                        segment: bytes, with_key: bool = True) -> None:
        body = answer.find(q("body"))
        transfer = etree.Element(q("DataTransfer"))
        body.insert(0, transfer)
        if with_key:
            info = sub(transfer, "DataEncryptionInfo", authenticate="true")
            sub(info, "EncryptionPubKeyDigest",
                base64.b64encode(crypto.cert_hash(subscriber.certificates["E002"])).decode(),
                Version="E002", Algorithm=SHA256)
            sub(info, "TransactionKey", base64.b64encode(encrypted_key).decode())
        sub(transfer, "OrderData", base64.b64encode(segment).decode())

    def _hpb(self, request: Any) -> tuple[Any, str]:
        subscriber = self._subscriber(request)
        if subscriber is None or not subscriber.ready:
            code = INVALID_USER_OR_USER_STATE
            return self._plain_answer("ebicsKeyManagementResponse", code), code
        if not verify_auth_signature(request, subscriber.x002):
            code = AUTHENTICATION_FAILED
            return self._plain_answer("ebicsKeyManagementResponse", code), code
        order = etree.Element(q("HPBResponseOrderData"))
        auth = sub(order, "AuthenticationPubKeyInfo")
        x509_data(auth, self.x002_cert)
        sub(auth, "AuthenticationVersion", "X002")
        enc = sub(order, "EncryptionPubKeyInfo")
        x509_data(enc, self.e002_cert)
        sub(enc, "EncryptionVersion", "E002")
        sub(order, "HostID", self.host_id)
        key, data = crypto.encrypt_e002(subscriber.e002, zlib.compress(etree.tostring(order)))
        answer = self._plain_answer("ebicsKeyManagementResponse", OK, "[EBICS_OK] OK")
        self._encrypted_body(answer, subscriber, key, data)
        add_auth_signature(answer, self.x002)
        return answer, OK

    def _signed(self, answer: Any) -> Any:
        add_auth_signature(answer, self.x002)
        return answer

    def _transaction(self, request: Any) -> tuple[Any, str]:
        phase = text_of(request, "e:header/e:mutable/e:TransactionPhase")
        transaction_id = text_of(request, "e:header/e:static/e:TransactionID")
        if phase == "Initialisation":
            return self._initialise(request)
        transaction = self.transactions.get(transaction_id or "")
        if transaction is None:
            return self._signed(self._plain_answer("ebicsResponse", TX_UNKNOWN_TXID)), \
                TX_UNKNOWN_TXID
        if not verify_auth_signature(request, transaction.subscriber.x002):
            return self._signed(self._plain_answer("ebicsResponse", AUTHENTICATION_FAILED)), \
                AUTHENTICATION_FAILED
        assert transaction_id is not None
        if phase == "Transfer":
            number = int(text_of(request, "e:header/e:mutable/e:SegmentNumber") or "0")
            if not 1 <= number <= len(transaction.segments):
                return self._signed(self._plain_answer("ebicsResponse", INVALID_REQUEST)), \
                    INVALID_REQUEST
            answer = self._segment_answer(transaction_id, transaction, number)
            return self._signed(answer), OK
        if phase == "Receipt":
            code = text_of(request, "e:body/e:TransferReceipt/e:ReceiptCode")
            self.receipts.append((transaction_id, code or ""))
            del self.transactions[transaction_id]
            if code == "0":
                for document in transaction.documents:
                    document.delivered = True
                result = DOWNLOAD_POSTPROCESS_DONE
            else:
                result = DOWNLOAD_POSTPROCESS_SKIPPED
            answer = self._plain_answer("ebicsResponse", result)
            sub(answer.find(q("header")).find(q("static")), "TransactionID", transaction_id)
            return self._signed(answer), result
        return self._signed(self._plain_answer("ebicsResponse", INVALID_REQUEST)), \
            INVALID_REQUEST

    def _initialise(self, request: Any) -> tuple[Any, str]:
        subscriber = self._subscriber(request)
        if subscriber is None or not subscriber.ready:
            return self._signed(self._plain_answer("ebicsResponse", INVALID_USER_OR_USER_STATE)
                                ), INVALID_USER_OR_USER_STATE
        if not verify_auth_signature(request, subscriber.x002):
            return self._signed(self._plain_answer("ebicsResponse", AUTHENTICATION_FAILED)), \
                AUTHENTICATION_FAILED
        digests = {
            "X002": text_of(request, "e:header/e:static/e:BankPubKeyDigests/e:Authentication"),
            "E002": text_of(request, "e:header/e:static/e:BankPubKeyDigests/e:Encryption")}
        expected = {"X002": base64.b64encode(crypto.cert_hash(self.x002_cert)).decode(),
                    "E002": base64.b64encode(crypto.cert_hash(self.e002_cert)).decode()}
        if digests != expected:
            return self._signed(self._plain_answer("ebicsResponse", BANK_PUBKEY_UPDATE_REQUIRED)
                                ), BANK_PUBKEY_UPDATE_REQUIRED
        params = "e:header/e:static/e:OrderDetails/e:BTDOrderParams/e:Service/e:"
        if text_of(request, "e:header/e:static/e:OrderDetails/e:AdminOrderType") != "BTD":
            return self._signed(self._plain_answer("ebicsResponse", INVALID_REQUEST)), \
                INVALID_REQUEST
        service = text_of(request, params + "ServiceName")
        msg = text_of(request, params + "MsgName")
        scope = text_of(request, params + "Scope")
        zipped = request.find(
            "e:header/e:static/e:OrderDetails/e:BTDOrderParams/e:Service/e:Container",
            namespaces={"e": NS}) is not None
        documents = [d for d in self.documents if not d.delivered
                     and d.service_name == service and d.msg_name == msg
                     and (scope is None or d.scope in (None, scope))]
        if not documents:
            code = NO_DOWNLOAD_DATA_AVAILABLE
            return self._signed(self._plain_answer("ebicsResponse", code)), code
        if zipped:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for document in documents:
                    archive.writestr(document.name, document.data)
            order_data = buffer.getvalue()
        else:
            order_data = b"".join(d.data for d in documents)
        key, encrypted = crypto.encrypt_e002(subscriber.e002, zlib.compress(order_data))
        segments = [encrypted[i:i + self.segment_size]
                    for i in range(0, len(encrypted), self.segment_size)]
        transaction_id = os.urandom(16).hex().upper()
        transaction = Transaction(subscriber, documents, key, segments)
        self.transactions[transaction_id] = transaction
        return self._signed(self._segment_answer(transaction_id, transaction, 1)), OK

    def _segment_answer(self, transaction_id: str, transaction: Transaction,
                        number: int) -> Any:
        answer = self._plain_answer("ebicsResponse", OK, "[EBICS_OK] OK")
        static = answer.find(q("header")).find(q("static"))
        sub(static, "TransactionID", transaction_id)
        sub(static, "NumSegments", str(len(transaction.segments)))
        mutable = answer.find(q("header")).find(q("mutable"))
        phase = etree.Element(q("TransactionPhase"))
        phase.text = "Initialisation" if number == 1 else "Transfer"
        mutable.insert(0, phase)
        segment = etree.Element(q("SegmentNumber"),
                                lastSegment=str(number == len(transaction.segments)).lower())
        segment.text = str(number)
        mutable.insert(1, segment)
        self._encrypted_body(answer, transaction.subscriber, transaction.encrypted_key,
                             transaction.segments[number - 1])
        return answer
