"""EBICS key material and the three procedures: A006 (signature), X002 (authentication),
E002 (encryption), with `cryptography`.

- A006: RSASSA-PSS, SHA-256, over the order data (the electronic signature of an order).
- X002: RSASSA-PKCS1-v1_5, SHA-256, over the canonical SignedInfo (the AuthSignature).
- E002: AES-128-CBC, zero IV, ANSI X9.23 padding, under a fresh transaction key that is
  itself encrypted with RSA PKCS#1 v1.5 for the recipient.

Simplification (documented in README.md): public keys travel as RSAKeyValue (modulus and
exponent), and a key's hash is SHA-256 over "exponent modulus" in lower-case hex, as EBICS
2.5 defines it, instead of the X.509 certificate hash of EBICS 3.0.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.errors import ConnectorError

KEY_BITS = 2048
ZERO_IV = bytes(16)


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def key_hash(public: rsa.RSAPublicKey) -> bytes:
    numbers = public.public_numbers()
    text = f"{numbers.e:x} {numbers.n:x}"
    return hashlib.sha256(text.encode("ascii")).digest()


def key_hash_hex(public: rsa.RSAPublicKey) -> str:
    """As printed on the initialisation letter: groups of two hex digits."""
    digest = key_hash(public).hex().upper()
    return " ".join(digest[i:i + 2] for i in range(0, len(digest), 2))


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


def save_public(key: rsa.RSAPublicKey, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo))


def load_public(path: Path) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConnectorError(f"EBICS: cannot load the bank key {path} ({exc}); run "
                             "`recon ebics hpb SOURCE` first") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConnectorError(f"EBICS: {path} is not an RSA key")
    return key
