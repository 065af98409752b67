"""The EBICS XML envelope: building elements, the AuthSignature (X002) over every element
marked authenticate="true", and the order data encoding (zlib, then E002, then base64).

Canonicalisation is inclusive C14N 1.0 (lxml), as the specification requires; the digest is
SHA-256 over the concatenated canonical forms of the marked elements in document order.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import zlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from connectors.errors import ConnectorError
from connectors.sources.ebics import crypto

NS = "urn:org:ebics:H005"
DS = "http://www.w3.org/2000/09/xmldsig#"
S002 = "http://www.ebics.org/S002"
NSMAP = {None: NS, "ds": DS}
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
AUTH_XPATH = "#xpointer(//*[@authenticate='true'])"
Element = Any  # lxml's _Element


def q(tag: str, ns: str = NS) -> str:
    return f"{{{ns}}}{tag}"


def sub(parent: Element, tag: str, text: str | None = None, ns: str = NS,
        **attrs: str) -> Element:
    element = etree.SubElement(parent, q(tag, ns), attrib=attrs or None)
    if text is not None:
        element.text = text
    return element


def root(tag: str) -> Element:
    return etree.Element(q(tag), nsmap=NSMAP,  # type: ignore[arg-type]
                         attrib={"Version": "H005", "Revision": "1"})


def nonce() -> str:
    return os.urandom(16).hex().upper()


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text_of(element: Element, path: str) -> str | None:
    found = element.find(path, namespaces={"e": NS, "ds": DS, "s": S002})
    return found.text.strip() if found is not None and found.text else None


def c14n(element: Element) -> bytes:
    data: bytes = etree.tostring(element, method="c14n")
    return data


def _marked(document: Element) -> list[Element]:
    return [el for el in document.iter()
            if el.get("authenticate") == "true"
            and not any(a.tag == q("AuthSignature") for a in el.iterancestors())]


def authenticated_digest(document: Element) -> bytes:
    digest = hashlib.sha256()
    for element in _marked(document):
        digest.update(c14n(element))
    return digest.digest()


def add_auth_signature(document: Element, key: rsa.RSAPrivateKey) -> None:
    """Insert AuthSignature right after the header, signing what is marked."""
    signature = etree.Element(q("AuthSignature"))
    document.find(q("header")).addnext(signature)
    info = sub(signature, "SignedInfo", ns=DS)
    sub(info, "CanonicalizationMethod", ns=DS, Algorithm=C14N)
    sub(info, "SignatureMethod", ns=DS, Algorithm=RSA_SHA256)
    reference = sub(info, "Reference", ns=DS, URI=AUTH_XPATH)
    transforms = sub(reference, "Transforms", ns=DS)
    sub(transforms, "Transform", ns=DS, Algorithm=C14N)
    sub(reference, "DigestMethod", ns=DS, Algorithm=SHA256)
    sub(reference, "DigestValue", base64.b64encode(authenticated_digest(document)).decode(),
        ns=DS)
    value = crypto.sign_x002(key, c14n(info))
    sub(signature, "SignatureValue", base64.b64encode(value).decode(), ns=DS)


def verify_auth_signature(document: Element, public: rsa.RSAPublicKey) -> bool:
    info = document.find(f"{q('AuthSignature')}/{q('SignedInfo', DS)}")
    value = text_of(document, "e:AuthSignature/ds:SignatureValue")
    digest = text_of(document, "e:AuthSignature/ds:SignedInfo/ds:Reference/ds:DigestValue")
    if info is None or value is None or digest is None:
        return False
    if base64.b64decode(digest) != authenticated_digest(document):
        return False
    return crypto.verify_x002(public, base64.b64decode(value), c14n(info))


def serialize(document: Element) -> bytes:
    data: bytes = etree.tostring(document, xml_declaration=True, encoding="UTF-8")
    return data


def parse(data: bytes, what: str) -> Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ConnectorError(f"EBICS: {what} is not XML: {exc}") from None


# --- order data -----------------------------------------------------------------------------


def pack_plain(order_xml: Element) -> str:
    """Key management order data (INI, HIA): compressed and base64, not encrypted."""
    return base64.b64encode(zlib.compress(etree.tostring(order_xml))).decode()


def unpack_plain(text: str) -> Element:
    return parse(zlib.decompress(base64.b64decode(text)), "order data")


def x509_data(parent: Element, certificate: Any) -> Element:
    """ds:X509Data with issuer, serial number and the DER certificate (EBICS 3.0)."""
    data = sub(parent, "X509Data", ns=DS)
    issuer_serial = sub(data, "X509IssuerSerial", ns=DS)
    sub(issuer_serial, "X509IssuerName", certificate.issuer.rfc4514_string(), ns=DS)
    sub(issuer_serial, "X509SerialNumber", str(certificate.serial_number), ns=DS)
    der = certificate.public_bytes(serialization.Encoding.DER)
    sub(data, "X509Certificate", base64.b64encode(der).decode(), ns=DS)
    return data


def read_certificate(element: Element | None) -> x509.Certificate:
    text = text_of(element, ".//ds:X509Data/ds:X509Certificate") if element is not None \
        else None
    if not text:
        raise ConnectorError("EBICS: a key without its X.509 certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text))
    except ValueError as exc:
        raise ConnectorError(f"EBICS: unreadable certificate: {exc}") from None
