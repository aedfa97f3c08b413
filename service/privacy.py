"""Phone numbers and bodies never sit in Redis in clear: keys use an HMAC, values use AES-GCM.

A value is "~" and url-safe base64 of nonce, ciphertext and tag, under a key derived (HKDF-SHA256) from
a DATA_ENCRYPTION_KEY: a phone number seals to under 64 characters, so the contact record stays one of
Redis' compact small hashes. Values the previous release wrote as Fernet tokens still decrypt, and
`flask ops rotate-keys` rewrites them.

Both keys rotate: DATA_ENCRYPTION_KEY and PHONE_HASH_KEY each take several keys, comma-separated,
newest first. New values are encrypted, and person keys computed, with the newest; older keys still
decrypt and still find people until `flask ops rotate-keys` has moved everything to the newest."""
import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.config import Config


MARK = "~"  # sealed by this release (Fernet tokens, from the previous one, start "gAAAA")
RAW = b"\x01"  # sealed as bytes, not base64: a quarter smaller, for values every person has (Redis is binary-safe)
NONCE = 12


class Vault:
    def __init__(self, fernet_keys: list[bytes], hash_keys: list[bytes] | bytes):
        self._fernet = MultiFernet([Fernet(k) for k in fernet_keys])
        self._aead = [AESGCM(_aead_key(k)) for k in fernet_keys]
        self._hash_keys = [hash_keys] if isinstance(hash_keys, bytes) else list(hash_keys)

    @classmethod
    def from_config(cls, config: Config) -> "Vault":
        """Keys come from the environment (required outside tests); tests derive theirs from SECRET_KEY."""
        seed = config.secret_key.reveal().encode()
        keys = config.data_encryption_key.reveal() or _derive(b"fernet", seed).decode()
        hashes = [k.strip().encode() for k in config.phone_hash_key.reveal().split(",") if k.strip()] \
            or [_derive(b"phone-hash", seed)]
        try:
            return cls([k.strip().encode() for k in keys.split(",") if k.strip()], hashes)
        except ValueError:
            raise ValueError("DATA_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated") from None

    def person_key(self, e164: str) -> str:
        """Stable pseudonymous id for a number: 120 bits of HMAC-SHA256, url-safe, 20 characters."""
        return _hmac(self._hash_keys[0], e164)

    def digest(self, text: str) -> str:
        """A keyed digest of personal values (to tell "unchanged" without keeping a readable copy)."""
        return _hmac(self._hash_keys[0], "digest:" + text)

    def older_person_keys(self, e164: str) -> list[str]:
        """The same number's ids under the hash keys being retired (none once rotation is done)."""
        return [_hmac(key, e164) for key in self._hash_keys[1:]]

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(NONCE)
        return MARK + _b64(nonce + self._aead[0].encrypt(nonce, text.encode(), None))

    def seal(self, text: str) -> bytes:
        """Like encrypt, as bytes (RAW, nonce, ciphertext and tag) for values stored once per person."""
        nonce = os.urandom(NONCE)
        return RAW + nonce + self._aead[0].encrypt(nonce, text.encode(), None)

    def decrypt(self, token: str | bytes) -> str:
        sealed = _sealed(token)
        if sealed is None:
            return self._decrypt_fernet(token.decode() if isinstance(token, bytes) else token)
        for aead in self._aead:
            try:
                return aead.decrypt(sealed[:NONCE], sealed[NONCE:], None).decode()
            except InvalidTag:
                continue
        raise ValueError("stored value cannot be decrypted with the configured keys")

    def is_current(self, token: str | bytes) -> bool:
        """Sealed with the newest key already (nothing for rotation to do)."""
        sealed = _sealed(token)
        if sealed is None:
            return False
        try:
            self._aead[0].decrypt(sealed[:NONCE], sealed[NONCE:], None)
            return True
        except InvalidTag:
            return False

    def rotate(self, token: str | bytes) -> str | bytes:
        """The same plaintext under the newest key (and this release's format: bytes stay bytes)."""
        if isinstance(token, bytes) and token.startswith(RAW):
            return self.seal(self.decrypt(token))
        return self.encrypt(self.decrypt(token))

    def _decrypt_fernet(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("stored value cannot be decrypted with the configured keys") from None


def _aead_key(fernet_key: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, None, b"sms-outreach vault aes-256-gcm").derive(base64.urlsafe_b64decode(fernet_key))


def _sealed(token: str | bytes) -> bytes | None:
    """Nonce, ciphertext and tag of this release's values (None: a Fernet token of the previous one)."""
    if isinstance(token, bytes) and token.startswith(RAW):
        if len(token) < 1 + NONCE + 16:
            raise ValueError("stored value cannot be decrypted with the configured keys")
        return token[1:]
    token = token.decode() if isinstance(token, bytes) else token
    return _unb64(token[len(MARK):]) if token.startswith(MARK) else None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raw = b""
    if len(raw) < NONCE + 16:
        raise ValueError("stored value cannot be decrypted with the configured keys")
    return raw


def _hmac(key: bytes, e164: str) -> str:
    digest = hmac.new(key, e164.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode()


def _derive(purpose: bytes, seed: bytes) -> bytes:
    return base64.urlsafe_b64encode(hmac.new(seed, purpose, hashlib.sha256).digest())
