"""Phone numbers and bodies never sit in Redis in clear: keys use an HMAC, values use Fernet.

Both keys rotate: DATA_ENCRYPTION_KEY and PHONE_HASH_KEY each take several keys, comma-separated,
newest first. New values are encrypted, and person keys computed, with the newest; older keys still
decrypt and still find people until `flask ops rotate-keys` has moved everything to the newest."""
import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from service.config import Config


class Vault:
    def __init__(self, fernet_keys: list[bytes], hash_keys: list[bytes] | bytes):
        self._fernet = MultiFernet([Fernet(k) for k in fernet_keys])
        self._newest = Fernet(fernet_keys[0])
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

    def older_person_keys(self, e164: str) -> list[str]:
        """The same number's ids under the hash keys being retired (none once rotation is done)."""
        return [_hmac(key, e164) for key in self._hash_keys[1:]]

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str | bytes) -> str:
        try:
            return self._fernet.decrypt(token if isinstance(token, bytes) else token.encode()).decode()
        except InvalidToken:
            raise ValueError("stored value cannot be decrypted with the configured keys") from None

    def is_current(self, token: str | bytes) -> bool:
        """Encrypted with the newest key already (nothing for rotation to do)."""
        try:
            self._newest.decrypt(token if isinstance(token, bytes) else token.encode())
            return True
        except InvalidToken:
            return False

    def rotate(self, token: str | bytes) -> str:
        """The same plaintext under the newest key."""
        try:
            return self._fernet.rotate(token if isinstance(token, bytes) else token.encode()).decode()
        except InvalidToken:
            raise ValueError("stored value cannot be decrypted with the configured keys") from None


def _hmac(key: bytes, e164: str) -> str:
    digest = hmac.new(key, e164.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode()


def _derive(purpose: bytes, seed: bytes) -> bytes:
    return base64.urlsafe_b64encode(hmac.new(seed, purpose, hashlib.sha256).digest())
