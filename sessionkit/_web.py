"""What every web adapter shares: cookie settings, the 503 reply, and migrated sessions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sessionkit._errors import ConfigurationError, SessionBackendUnavailable
from sessionkit._session import Session

SameSite = Literal["lax", "strict", "none"]
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 6265 cookie-name (RFC 7230 token)

UNAVAILABLE_BODY = "Session storage is temporarily unavailable. Please retry in a moment.\n"


@dataclass(frozen=True)
class CookieSettings:
    """Attributes of the session cookie, validated once.

    ``max_age=None`` makes a browser-session cookie. ``same_site="none"`` requires ``secure``.
    """

    name: str = "session"
    path: str = "/"
    domain: str | None = None
    secure: bool = True
    httponly: bool = True
    same_site: SameSite | None = "lax"
    partitioned: bool = False
    max_age: int | None = 14 * 86400

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.name):
            raise ConfigurationError(
                f"cookie name {self.name!r} is not a valid cookie name (RFC 6265: letters, digits "
                "and !#$%&'*+-.^_`|~ only)"
            )
        if self.same_site is not None and self.same_site not in ("lax", "strict", "none"):
            raise ConfigurationError(
                f"same_site must be 'lax', 'strict', 'none' or None, not {self.same_site!r}"
            )
        if self.same_site == "none" and not self.secure:
            raise ConfigurationError("same_site='none' requires secure cookies (browsers drop them)")
        if self.partitioned and not self.secure:
            raise ConfigurationError("partitioned cookies require secure=True")
        if not self.path.startswith("/"):
            raise ConfigurationError(f"cookie path must start with '/', got {self.path!r}")

    def header(self, value: str, *, delete: bool = False) -> str:
        """A complete ``Set-Cookie`` header value (deletion sets an expired, empty cookie)."""
        parts = [f"{self.name}={'' if delete else value}", f"Path={self.path}"]
        if delete:
            parts.append("Max-Age=0")
            parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        elif self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.domain:
            parts.append(f"Domain={self.domain}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        if self.same_site:
            parts.append(f"SameSite={self.same_site.capitalize()}")
        if self.partitioned:
            parts.append("Partitioned")
        return "; ".join(parts)


def unavailable_headers(exc: SessionBackendUnavailable) -> dict[str, str]:
    """Headers of the 503 reply adapters send when Redis is unreachable."""
    return {"Retry-After": str(exc.retry_after), "Content-Type": "text/plain; charset=utf-8",
            "Cache-Control": "no-store"}


def migrated_session(data: Mapping[str, Any]) -> Session:
    """A new session holding data read from the framework's previous session mechanism.

    Saving it creates a Redis session with a fresh ID (never the old cookie's), so the adapter
    replaces the old cookie with ours: the user stays logged in and nothing is lost.
    """
    session = Session(dict(data))
    session.accessed = True
    return session
