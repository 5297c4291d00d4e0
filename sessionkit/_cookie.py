"""Session IDs and their signed cookie form.

The ID is 256 bits from ``secrets``; the cookie carries ``<id>.<HMAC-SHA256 signature>``
(itsdangerous's format, a salt of its own). A cookie that fails any check is rejected here, before any
Redis command is sent. Redis only ever sees a hash of the ID (see ``redis_key``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from typing import Any

from sessionkit._errors import ConfigurationError

ID_BYTES = 32  # 256 bits
# id (43) + "." + base64url(SHA-256) (43), in its one canonical spelling: the signature's last
# character carries 2 unused bits, which must be zero. base64 decoders skip characters outside the
# alphabet and read "/" as "_", so without this check several spellings of one cookie would verify.
_COOKIE_RE = re.compile(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
SALT = "sessionkit.session-id"
_URLSAFE = bytes.maketrans(b"-_", b"+/")
_URLSAFE_OUT = bytes.maketrans(b"+/", b"-_")
_VERIFIED_MAX = 4096  # cookies remembered per codec (a few hundred KiB at most)
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))

SecretKeys = str | bytes | Sequence[str | bytes]


def new_session_id() -> str:
    """A fresh 256-bit session ID (43 URL-safe characters)."""
    return secrets.token_urlsafe(ID_BYTES)


def redis_key_suffix(session_id: str) -> str:
    """The hash under which a session ID is stored: a leaked key cannot be replayed as a cookie."""
    digest = hashlib.sha256(session_id.encode()).digest()  # base64url without padding, as before:
    return binascii.b2a_base64(digest, newline=False).translate(_URLSAFE_OUT).rstrip(b"=").decode()


def _normalize_secrets(secret_keys: SecretKeys) -> list[bytes]:
    keys = [secret_keys] if isinstance(secret_keys, (str, bytes)) else list(secret_keys)
    out = [k.encode() if isinstance(k, str) else bytes(k) for k in keys]
    if not out or not all(out):
        raise ConfigurationError(
            "secret_keys must be a non-empty secret (or a list of them, current first, old ones "
            "after it for rotation). Generate one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))' and load it from the environment, the same on "
            "every replica."
        )
    return out


class CookieCodec:
    """Signs session IDs for cookies and verifies them; the first secret signs, all verify.

    The format is itsdangerous's ``Signer`` with ``key_derivation="hmac"`` and SHA-256, byte for
    byte (a property test pins it): ``<id>.<base64url(HMAC-SHA256(key, id))>`` where ``key`` is
    ``HMAC-SHA256(secret, salt)``. The keys are derived once here instead of on every call, and
    so are the two SHA-256 states HMAC starts from (RFC 2104: the key XOR ipad and opad), so
    signing or verifying an ID copies two hash states instead of scheduling the key again. The
    last 4,096 cookies that verified are remembered (a dict keyed by the whole cookie string):
    a cookie equal to one of them gives its ID without HMAC work; every other cookie, forged ones
    included, is verified in full and never remembered unless it verifies.
    """

    __slots__ = ("_pads", "_sign_pads", "_signed", "_verified")

    def __init__(self, secret_keys: SecretKeys, *, salt: str = SALT) -> None:
        salt_b = salt.encode()
        secrets = _normalize_secrets(secret_keys)
        keys = (hmac.new(k, salt_b, hashlib.sha256).digest() for k in secrets)
        self._pads = tuple(_pads(k) for k in keys)
        self._sign_pads = self._pads[0]
        # Cookies that verified, remembered: a browser sends the same cookie on every request.
        # Only a cookie equal to one that verified is answered from here; anything else is checked.
        self._verified: dict[str, str] = {}
        self._signed: dict[str, str] = {}  # the other way round, for cookies signed with the current key

    def sign(self, session_id: str) -> str:
        mac = _mac(self._sign_pads, session_id.encode())
        return f"{session_id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    def sign_cached(self, session_id: str) -> str:
        """``sign``, remembered for the last IDs signed or verified (an adapter that slides the
        cookie's expiry sends the same signed ID after every write)."""
        cookie = self._signed.get(session_id)
        if cookie is None:
            cookie = self.sign(session_id)
            self._remember(cookie, session_id, current=True)
        return cookie

    def _remember(self, cookie: str, session_id: str, *, current: bool) -> None:
        """Keep a cookie that verified (``current``: signed with the signing key, so it is also
        what ``sign`` gives for the ID; a cookie signed with a rotated-out secret is not)."""
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
            self._signed.clear()
        self._verified[cookie] = session_id
        if current:
            self._signed[session_id] = cookie

    def unsign(self, cookie: str | None) -> str | None:
        """Return the session ID in a valid cookie, or ``None`` for anything else."""
        if not cookie:
            return None
        known = self._verified.get(cookie)
        if known is not None:
            return known
        if not _COOKIE_RE.fullmatch(cookie):  # no HMAC work for what cannot verify
            return None
        session_id, _, sig = cookie.rpartition(".")
        mac = binascii.a2b_base64(sig.encode().translate(_URLSAFE) + b"=")
        value = session_id.encode()
        for pads in self._pads:
            if hmac.compare_digest(mac, _mac(pads, value)):
                self._remember(cookie, session_id, current=pads is self._sign_pads)
                return session_id
        return None


_Pads = tuple[Any, Any]  # SHA-256 states after absorbing key XOR ipad, and key XOR opad


def _pads(key: bytes) -> _Pads:
    """HMAC-SHA256's two starting states for ``key`` (32 bytes, below the 64-byte block)."""
    block = key.ljust(hashlib.sha256().block_size, b"\0")
    return (hashlib.sha256(block.translate(_IPAD)), hashlib.sha256(block.translate(_OPAD)))


def _mac(pads: _Pads, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` from precomputed pads (the bytes ``hmac.digest`` gives)."""
    inner = pads[0].copy()
    inner.update(message)
    outer = pads[1].copy()
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]
