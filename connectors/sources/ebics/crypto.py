"""EBICS key material and the three procedures: A006 (signature), X002 (authentication),
E002 (encryption), with `cryptography`.

- A006: RSASSA-PSS, SHA-256, over the order data (the electronic signature of an order).
- X002: RSASSA-PKCS1-v1_5, SHA-256, over the canonical SignedInfo (the AuthSignature).
- E002: AES-128-CBC, zero IV, ANSI X9.23 padding, under a fresh transaction key that is
  itself encrypted with RSA PKCS#1 v1.5 for the recipient.

Public keys travel as X.509 certificates, as EBICS 3.0 requires; the project makes
self-signed ones ("mit Schlüsseln" profile). A key's hash, on the letters and in
BankPubKeyDigests, is SHA-256 over the certificate's DER encoding.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from connectors.errors import ConnectorError

KEY_BITS = 2048
ZERO_IV = bytes(16)


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def make_certificate(key: rsa.RSAPrivateKey, common_name: str, *,
                     years: int = 5) -> x509.Certificate:
    """A self-signed certificate that carries the public key to the other side."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def cert_hash(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()


def cert_hash_hex(certificate: x509.Certificate) -> str:
    """As printed on the initialisation letter: groups of two hex digits."""
    digest = cert_hash(certificate).hex().upper()
    return " ".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def rsa_public(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConnectorError("EBICS: a certificate without an RSA key")
    return key


def to_b64_int(value: int) -> str:
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode()


def from_b64_int(text: str) -> int:
    return int.from_bytes(base64.b64decode(text), "big")


def public_from_numbers(modulus_b64: str, exponent_b64: str) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(from_b64_int(exponent_b64), from_b64_int(modulus_b64)
                                ).public_key()


# --- X002 -----------------------------------------------------------------------------------


def sign_x002(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def verify_x002(public: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


# --- A006 -----------------------------------------------------------------------------------

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def sign_a006(key: rsa.RSAPrivateKey, order_data: bytes) -> bytes:
    return key.sign(order_data, _PSS, hashes.SHA256())


def verify_a006(public: rsa.RSAPublicKey, signature: bytes, order_data: bytes) -> bool:
    try:
        public.verify(signature, order_data, _PSS, hashes.SHA256())
    except Exception:
        return False
    return True


# --- E002 -----------------------------------------------------------------------------------


def encrypt_e002(recipient: rsa.RSAPublicKey, data: bytes) -> tuple[bytes, bytes]:
    """Returns (encrypted transaction key, encrypted data)."""
    transaction_key = os.urandom(16)
    pad = 16 - len(data) % 16
    padded = data + bytes(pad - 1) + bytes([pad])  # ANSI X9.23
    encryptor = Cipher(algorithms.AES(transaction_key), modes.CBC(ZERO_IV)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    return recipient.encrypt(transaction_key, padding.PKCS1v15()), encrypted


def decrypt_e002(key: rsa.RSAPrivateKey, encrypted_key: bytes, data: bytes) -> bytes:
    try:
        transaction_key = key.decrypt(encrypted_key, padding.PKCS1v15())
        decryptor = Cipher(algorithms.AES(transaction_key), modes.CBC(ZERO_IV)).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
    except ValueError as exc:
        raise ConnectorError(f"EBICS: cannot decrypt the order data: {exc}") from None
    pad = padded[-1] if padded else 0
    if not 1 <= pad <= 16:
        raise ConnectorError("EBICS: order data padding is broken")
    return padded[:-pad]


# --- storage --------------------------------------------------------------------------------


def save_private(key: rsa.RSAPrivateKey, path: Path, passphrase: str | None) -> None:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
        else serialization.NoEncryption())
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def load_private(path: Path, passphrase: str | None) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), passphrase.encode() if passphrase else None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConnectorError(f"EBICS: cannot load key {path}: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConnectorError(f"EBICS: {path} is not an RSA key")
    return key


def save_cert(certificate: x509.Certificate, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConnectorError(f"EBICS: cannot load the certificate {path} ({exc}); run "
                             "`recon ebics hpb SOURCE` (bank) or ini/hia (ours) first") from None
