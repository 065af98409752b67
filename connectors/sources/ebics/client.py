"""The project's own minimal EBICS 3.0 (H005) client: key management and BTD downloads.

Transactions: INI and HIA as ebicsUnsecuredRequest; HPB as ebicsNoPubKeyDigestsRequest;
a download as ebicsRequest in three phases (Initialisation, Transfer per further segment,
Receipt). Every signed request carries an X002 AuthSignature and every signed response is
verified against the bank's X002 key from HPB; order data arrives E002-encrypted.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.errors import ConnectorError, TransientConnectorError
from connectors.sources.ebics import crypto
from connectors.sources.ebics.backend import Download, OrderParams
from connectors.sources.ebics.envelope import (
    NS as H005,
)
from connectors.sources.ebics.envelope import (
    S002,
    SHA256,
    Element,
    add_auth_signature,
    nonce,
    pack_plain,
    parse,
    q,
    read_certificate,
    root,
    serialize,
    sub,
    text_of,
    timestamp,
    verify_auth_signature,
    x509_data,
)

OK = "000000"
NO_DATA = "090005"  # EBICS_NO_DOWNLOAD_DATA_AVAILABLE
POSTPROCESS_DONE = "011000"
POSTPROCESS_SKIPPED = "011001"
KEY_FILES = {"A006": "user_a006.pem", "X002": "user_x002.pem", "E002": "user_e002.pem"}


class EbicsClient:
    def __init__(self, label: str, *, url: str, host_id: str, partner_id: str, user_id: str,
                 keys_dir: str, passphrase: str | None = None, timeout: int = 30,
                 product: str = "recon") -> None:
        self.label, self.url, self.host_id = label, url, host_id
        self.partner_id, self.user_id = partner_id, user_id
        self.keys_dir, self.passphrase = Path(keys_dir), passphrase
        self.timeout, self.product = timeout, product
        self._keys: dict[str, rsa.RSAPrivateKey] = {}  # decrypting a stored key is slow

    # --- keys -------------------------------------------------------------------------------

    def _user_key(self, version: str, create: bool = False) -> rsa.RSAPrivateKey:
        if version in self._keys:
            return self._keys[version]
        path = self.keys_dir / KEY_FILES[version]
        if not path.exists():
            if not create:
                raise ConnectorError(f"{self.label}: no {version} key in {self.keys_dir}; run "
                                     "`recon ebics ini` and `recon ebics hia` first")
            crypto.save_private(crypto.generate_key(), path, self.passphrase)
        self._keys[version] = crypto.load_private(path, self.passphrase)
        return self._keys[version]

    def _user_cert(self, version: str, create: bool = False) -> x509.Certificate:
        path = self.keys_dir / KEY_FILES[version].replace(".pem", ".crt")
        if not path.exists():
            key = self._user_key(version, create)
            name = f"{self.user_id}@{self.partner_id} {version}"
            crypto.save_cert(crypto.make_certificate(key, name), path)
        return crypto.load_cert(path)

    def _bank_cert(self, version: str) -> x509.Certificate:
        return crypto.load_cert(self.keys_dir / f"bank_{version.lower()}.crt")

    def _bank_key(self, version: str) -> rsa.RSAPublicKey:
        return crypto.rsa_public(self._bank_cert(version))

    # --- transport --------------------------------------------------------------------------

    def _post(self, document: Element, what: str) -> Element:
        request = urllib.request.Request(self.url, data=serialize(document), method="POST",
                                         headers={"Content-Type": "text/xml; charset=UTF-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            raise TransientConnectorError(f"{self.label}: {what}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientConnectorError(f"{self.label}: {what}: {reason}") from None
        return parse(body, f"{self.label}: the answer to {what}")

    def _codes(self, answer: Element, what: str, allowed: tuple[str, ...] = (OK,)) -> str:
        """The business code if both codes are acceptable; otherwise a clear error."""
        technical = text_of(answer, "e:header/e:mutable/e:ReturnCode") or "?"
        business = text_of(answer, "e:body/e:ReturnCode") or OK
        report = text_of(answer, "e:header/e:mutable/e:ReportText") or ""
        for code in (technical, business):
            if code not in allowed and code != OK:
                raise ConnectorError(f"{self.label}: {what} refused by the bank: {code} "
                                     f"{report}".strip())
        return business if business != OK else technical

    # --- key management ---------------------------------------------------------------------

    def _unsecured(self, order_type: str, order_data: Element) -> Element:
        document = root("ebicsUnsecuredRequest")
        header = sub(document, "header", authenticate="true")
        static = sub(header, "static")
        sub(static, "HostID", self.host_id)
        sub(static, "PartnerID", self.partner_id)
        sub(static, "UserID", self.user_id)
        sub(static, "Product", self.product, Language="en")
        details = sub(static, "OrderDetails")
        sub(details, "AdminOrderType", order_type)
        sub(static, "SecurityMedium", "0000")
        sub(header, "mutable")
        body = sub(document, "body")
        transfer = sub(body, "DataTransfer")
        sub(transfer, "OrderData", pack_plain(order_data))
        return document

    def ini(self) -> str:
        """Send the A006 signature key. The bank activates it after the signed letter."""
        certificate = self._user_cert("A006", create=True)
        order = root_plain("SignaturePubKeyOrderData", S002)
        info = sub(order, "SignaturePubKeyInfo", ns=S002)
        x509_data(info, certificate)
        sub(info, "SignatureVersion", "A006", ns=S002)
        sub(order, "PartnerID", self.partner_id, ns=S002)
        sub(order, "UserID", self.user_id, ns=S002)
        answer = self._post(self._unsecured("INI", order), "INI")
        self._codes(answer, "INI")
        return f"INI accepted; A006 certificate hash: {crypto.cert_hash_hex(certificate)}"

    def hia(self) -> str:
        """Send the X002 authentication and E002 encryption keys."""
        auth = self._user_cert("X002", create=True)
        enc = self._user_cert("E002", create=True)
        order = root_plain("HIARequestOrderData", H005)
        auth_info = sub(order, "AuthenticationPubKeyInfo")
        x509_data(auth_info, auth)
        sub(auth_info, "AuthenticationVersion", "X002")
        enc_info = sub(order, "EncryptionPubKeyInfo")
        x509_data(enc_info, enc)
        sub(enc_info, "EncryptionVersion", "E002")
        sub(order, "PartnerID", self.partner_id)
        sub(order, "UserID", self.user_id)
        answer = self._post(self._unsecured("HIA", order), "HIA")
        self._codes(answer, "HIA")
        return (f"HIA accepted; X002 certificate hash: {crypto.cert_hash_hex(auth)}; "
                f"E002 certificate hash: {crypto.cert_hash_hex(enc)}")

    def letter(self) -> str:
        lines = [f"EBICS initialisation letter: host {self.host_id}, partner "
                 f"{self.partner_id}, user {self.user_id}"]
        for version in ("A006", "X002", "E002"):
            lines.append(f"{version}: {crypto.cert_hash_hex(self._user_cert(version))}")
        return "\n".join(lines)

    def hpb(self) -> str:
        """Fetch the bank's X002 and E002 keys. Compare the printed hashes with the bank's
        letter before the first download: this is the trust anchor of every later answer."""
        document = root("ebicsNoPubKeyDigestsRequest")
        header = sub(document, "header", authenticate="true")
        static = sub(header, "static")
        sub(static, "HostID", self.host_id)
        self._identify(static, "HPB")
        sub(static, "SecurityMedium", "0000")
        sub(header, "mutable")
        sub(document, "body")
        add_auth_signature(document, self._user_key("X002"))
        answer = self._post(document, "HPB")
        self._codes(answer, "HPB")
        order = parse(self._decrypt_order_data(answer), "HPB order data")
        auth = read_certificate(order.find(q("AuthenticationPubKeyInfo")))
        enc = read_certificate(order.find(q("EncryptionPubKeyInfo")))
        crypto.rsa_public(enc)
        if not verify_auth_signature(answer, crypto.rsa_public(auth)):
            raise ConnectorError(f"{self.label}: HPB answer is not signed by the key it carries")
        crypto.save_cert(auth, self.keys_dir / "bank_x002.crt")
        crypto.save_cert(enc, self.keys_dir / "bank_e002.crt")
        return (f"bank keys stored; compare with the bank's letter: X002 "
                f"{crypto.cert_hash_hex(auth)}; E002 {crypto.cert_hash_hex(enc)}")

    # --- downloads --------------------------------------------------------------------------

    def _identify(self, static: Element, order_type: str) -> Element:
        """The static header's who-and-when (a fresh nonce and timestamp against replay) and
        the order type; returns the OrderDetails element for order parameters."""
        sub(static, "Nonce", nonce())
        sub(static, "Timestamp", timestamp())
        sub(static, "PartnerID", self.partner_id)
        sub(static, "UserID", self.user_id)
        sub(static, "Product", self.product, Language="en")
        details = sub(static, "OrderDetails")
        sub(details, "AdminOrderType", order_type)
        return details


    def _request(self, phase: str, *, order: OrderParams | None = None,
                 transaction_id: str | None = None, segment: int | None = None,
                 receipt_code: int | None = None) -> Element:
        document = root("ebicsRequest")
        header = sub(document, "header", authenticate="true")
        static = sub(header, "static")
        sub(static, "HostID", self.host_id)
        if transaction_id is None:
            assert order is not None
            details = self._identify(static, "BTD")
            params = sub(details, "BTDOrderParams")
            service = sub(params, "Service")
            sub(service, "ServiceName", order.service_name)
            if order.scope:
                sub(service, "Scope", order.scope)
            if order.container:
                sub(service, "Container", containerType=order.container)
            msg = sub(service, "MsgName", order.msg_name)
            if order.msg_version:
                msg.set("version", order.msg_version)
            digests = sub(static, "BankPubKeyDigests")
            for tag, version in (("Authentication", "X002"), ("Encryption", "E002")):
                digest = crypto.cert_hash(self._bank_cert(version))
                sub(digests, tag, base64.b64encode(digest).decode(),
                    Version=version, Algorithm=SHA256)
            sub(static, "SecurityMedium", "0000")
        else:
            sub(static, "TransactionID", transaction_id)
        mutable = sub(header, "mutable")
        sub(mutable, "TransactionPhase", phase)
        if segment is not None:
            sub(mutable, "SegmentNumber", str(segment), lastSegment="false")
        body = sub(document, "body")
        if receipt_code is not None:
            receipt = sub(body, "TransferReceipt", authenticate="true")
            sub(receipt, "ReceiptCode", str(receipt_code))
        add_auth_signature(document, self._user_key("X002"))
        return document

    def _signed_answer(self, document: Element, what: str) -> Element:
        answer = self._post(document, what)
        if not verify_auth_signature(answer, self._bank_key("X002")):
            raise ConnectorError(f"{self.label}: {what}: the answer's AuthSignature does not "
                                 "verify with the bank's X002 key; data refused")
        return answer

    def _decrypt_order_data(self, answer: Element, segments: list[bytes] | None = None) -> bytes:
        key_text = text_of(answer, "e:body/e:DataTransfer/e:DataEncryptionInfo/e:TransactionKey")
        data_text = text_of(answer, "e:body/e:DataTransfer/e:OrderData")
        if key_text is None or data_text is None:
            raise ConnectorError(f"{self.label}: an answer without order data")
        encrypted = b"".join(segments) if segments else base64.b64decode(data_text)
        plain = crypto.decrypt_e002(self._user_key("E002"), base64.b64decode(key_text),
                                    encrypted)
        try:
            return zlib.decompress(plain)
        except zlib.error as exc:
            raise ConnectorError(f"{self.label}: order data does not decompress: {exc}"
                                 ) from None

    def download(self, order: OrderParams) -> Download | None:
        what = f"download {order.label}"
        first = self._signed_answer(self._request("Initialisation", order=order), what)
        if self._codes(first, what, (NO_DATA,)) == NO_DATA:
            return None
        transaction_id = text_of(first, "e:header/e:static/e:TransactionID")
        total = int(text_of(first, "e:header/e:static/e:NumSegments") or "1")
        if not transaction_id:
            raise ConnectorError(f"{self.label}: {what}: no transaction id in the answer")
        segments = [base64.b64decode(text_of(first, "e:body/e:DataTransfer/e:OrderData") or "")]
        for number in range(2, total + 1):
            answer = self._signed_answer(
                self._request("Transfer", transaction_id=transaction_id, segment=number),
                f"{what} segment {number}")
            self._codes(answer, what)
            segments.append(base64.b64decode(
                text_of(answer, "e:body/e:DataTransfer/e:OrderData") or ""))
        return Download(transaction_id, order, self._decrypt_order_data(first, segments))

    def receipt(self, transaction_id: str, ok: bool = True) -> None:
        what = f"receipt for {transaction_id}"
        answer = self._signed_answer(self._request(
            "Receipt", transaction_id=transaction_id, receipt_code=0 if ok else 1), what)
        self._codes(answer, what, (POSTPROCESS_DONE, POSTPROCESS_SKIPPED))


def root_plain(tag: str, ns: str) -> Element:
    from lxml import etree

    from connectors.sources.ebics.envelope import DS

    return etree.Element(q(tag, ns), nsmap={None: ns, "ds": DS})  # type: ignore[dict-item]
