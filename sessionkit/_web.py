"""What every web adapter shares: cookie settings and the Secure rule, the one Set-Cookie rule,
the validation of settings (naming the setting as the user spelled it), the 503 reply, and
migrated sessions."""

from __future__ import annotations

import difflib
import functools
import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

from sessionkit._cache import CacheConfig
from sessionkit._core import SaveResult
from sessionkit._errors import ConfigurationError, SessionBackendUnavailable
from sessionkit._session import Session

SameSite = Literal["lax", "strict", "none"]
CookieAction = Literal["set", "delete", "leave"]
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 6265 cookie-name (RFC 7230 token)

log = logging.getLogger("sessionkit")
UNAVAILABLE_BODY = "Session storage is temporarily unavailable. Please retry in a moment.\n"
# A write lost to a concurrent regenerate (a login in another tab): answered 409, never a silent 200.
CONFLICT_BODY = "Your session was replaced by another request (a login). Please retry.\n"
CONFLICT_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@dataclass(frozen=True)
class CookieSettings:
    """Attributes of the session cookie, validated once.

    ``max_age=None`` makes a browser-session cookie. ``same_site="none"`` requires ``secure``.
    ``secure=None`` is the default rule of every adapter: ``Secure``, except on a plain-http
    request to a local development host (``localhost``, a loopback address, or the test
    clients' ``testserver``), where clients would not send a ``Secure`` cookie back.
    """

    name: str = "session"
    path: str = "/"
    domain: str | None = None
    secure: bool | None = None
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
        if self.same_site == "none" and self.secure is False:
            raise ConfigurationError("same_site='none' requires secure cookies (browsers drop them)")
        if self.partitioned and self.secure is False:
            raise ConfigurationError("partitioned cookies require secure cookies")
        if not self.path.startswith("/"):
            raise ConfigurationError(f"cookie path must start with '/', got {self.path!r}")

    def is_secure(self, *, local_http: bool = False) -> bool:
        """Whether the cookie gets ``Secure`` on a request (``local_http``: see ``local_http``)."""
        if self.secure is not None:
            return self.secure
        return self.same_site == "none" or self.partitioned or not local_http

    def header(self, value: str, *, delete: bool = False, local_http: bool = False,
               max_age: int | None = None) -> str:
        """A complete ``Set-Cookie`` header value (deletion sets an expired, empty cookie);
        ``max_age`` lowers the configured one (a session's remaining absolute lifetime)."""
        parts = [f"{self.name}={'' if delete else value}", f"Path={self.path}"]
        if delete:
            parts.append("Max-Age=0")
            parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        elif self.max_age is not None:
            parts.append(f"Max-Age={self.max_age if max_age is None else min(self.max_age, max_age)}")
        if self.domain:
            parts.append(f"Domain={self.domain}")
        if self.is_secure(local_http=local_http):
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        if self.same_site:
            parts.append(f"SameSite={self.same_site.capitalize()}")
        if self.partitioned:
            parts.append("Partitioned")
        return "; ".join(parts)


def cookie_action(result: SaveResult | None, *, migrated: bool, slide: bool) -> CookieAction:
    """The one Set-Cookie rule of every adapter: set, delete or leave the browser's cookie alone.

    Args:
        result: what ``save`` returned; ``None`` when the session held nothing worth storing.
        migrated: the request's cookie was the framework's own cookie session, moved into Redis
            now; that cookie never stays (it is replaced by ours, or deleted).
        slide: resend the cookie after a write, so its ``Max-Age`` counts from now (Flask: a
            permanent session; Starlette: a cookie with ``max_age``).

    A request whose write lost a race (the session was logged out or regenerated by another
    request) leaves the cookie alone: the request that won sent the cookie the browser must keep,
    and a late ``Max-Age=0`` would log out the login that replaced it. Only this request's own
    logout deletes.
    """
    if result is None or result.conflict:
        return "delete" if migrated else "leave"
    if result.cookie in ("set", "delete"):
        return result.cookie
    if migrated:
        return "delete"
    return "set" if result.written and slide else "leave"


def lost_write(result: SaveResult | None) -> bool:
    """Whether the request's changes were not applied because a concurrent request regenerated
    the session (adapters answer ``409 Conflict``; the cookie is left alone)."""
    return result is not None and result.conflict == "regenerated"


def set_cookie_header(action: CookieAction, result: SaveResult | None, cookie: CookieSettings, *,
                      local_http: bool = False, max_age: int | None = None) -> str | None:
    """The ``Set-Cookie`` value for ``action`` (the ID is signed only here, when it is sent)."""
    if action == "delete":
        return cookie.header("", delete=True, local_http=local_http)
    value = result.value if action == "set" and result is not None else None
    return cookie.header(value, local_http=local_http, max_age=max_age) if value else None


_LOCAL_HOSTS = frozenset({"localhost", "testserver"})


@functools.lru_cache(maxsize=256)  # an app answers for a few hosts; parsing one costs an ipaddress
def local_http(scheme: str, host: str | None) -> bool:
    """A plain-http request to a development host: ``localhost`` (and ``*.localhost``), a
    loopback address, or ``testserver`` (the host of Starlette's and Django's test clients)."""
    if scheme != "http" or not host:
        return False
    if host.startswith("["):  # [IPv6]:port
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower().rstrip(".")
    if name in _LOCAL_HOSTS or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class PlainHttpWarning:
    """Warns once per app when an explicitly ``Secure`` cookie is served over plain http on a
    development host (clients such as curl, requests, httpx would never send it back)."""

    def __init__(self, secure: bool | None, setting: str) -> None:
        self._pending = secure is True  # only a Secure the user asked for
        self._setting = setting

    def check(self, is_local_http: bool) -> None:
        """Call at start-up with ``True`` in debug mode, and with each cookie sent."""
        if self._pending and is_local_http:
            self._pending = False
            log.warning(
                "%s makes the session cookie Secure, but this app runs in debug mode or answers "
                "over plain http on a development host: curl, requests, httpx and test clients will "
                "not send the cookie back over http, so every request starts a new session. Leave "
                "it unset in development: sessionkit then sets Secure everywhere except on "
                "plain-http localhost.", self._setting)


def remaining_lifetime(absolute_timeout: float | None, created_at: float, now: float) -> int | None:
    """Seconds left before a session's absolute cap (``None``: no cap), for the cookie's Max-Age."""
    if absolute_timeout is None:
        return None
    start = created_at or now
    return max(0, int(start + absolute_timeout - now))


# -- settings: validated once, errors name the setting as the user spelled it ---------------
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[dhms])+", re.I)
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])", re.I)
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _plain_number(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().isdigit()
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def duration(value: Any, name: str) -> float:
    """Seconds from a number, a ``timedelta`` or a string such as ``"8h"``, ``"30m"`` or ``"1h30m"``."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif _plain_number(value):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.fullmatch(value.replace(" ", "")):
        seconds = sum(float(n) * _UNIT[u.lower()] for n, u in _PART.findall(value))
    else:
        raise ConfigurationError(f"{name} must be a number of seconds, a timedelta or a duration like "
                                 f"'8h', '30m' or '1h30m', not {value!r}")
    if seconds < 0:
        raise ConfigurationError(f"{name} must be >= 0 seconds, not {value!r}")
    return seconds


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name} must be a whole number >= 0, not {value!r}")
    return value


def flag(value: Any, name: str) -> bool:
    """A bool setting; anything else is a ``ConfigurationError`` naming it."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, not {value!r}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string, not {value!r}")
    return value


def _optional_duration(value: Any, name: str) -> float | None:
    return None if value is None else duration(value, name)


def _hooks(value: Any, name: str) -> tuple[Any, ...]:
    hooks = (value,) if callable(value) else tuple(value)
    if not all(callable(h) for h in hooks):
        raise ConfigurationError(f"{name} must be a list of callables taking an OperationEvent, "
                                 f"not {value!r}")
    return hooks


def _any(value: Any, name: str) -> Any:
    return value


def _local_cache(value: Any, name: str) -> Any:
    if not isinstance(value, (bool, CacheConfig)):
        raise ConfigurationError(f"{name} must be True, False or a sessionkit.CacheConfig, not {value!r}")
    return value


STORE_OPTIONS: dict[str, Callable[[Any, str], Any]] = {
    "key_prefix": _text,
    "idle_timeout": duration,
    "absolute_timeout": _optional_duration,
    "refresh_interval": duration,
    "max_size": _count,
    "degraded": flag,
    "wait_replicas": _count,
    "regenerate_grace": duration,
    "pool_size": _count,
    "pool_timeout": duration,
    "hooks": _hooks,
    "local_cache": _local_cache,
    "serializer": _any,
}


def store_options(values: Mapping[str, Any], spelled: Callable[[str], str]) -> dict[str, Any]:
    """Validate store options (names as in ``RedisStore``); ``spelled(name)`` is how the user
    wrote the setting (``SESSIONKIT_IDLE_TIMEOUT``, ``SessionMiddleware(idle_timeout=...)``)."""
    return {name: STORE_OPTIONS[name](value, spelled(name)) for name, value in values.items()}


def unknown_names(given: Iterable[str], known: Iterable[str],
                  elsewhere: Mapping[str, str] | None = None) -> list[str]:
    """``"X (did you mean 'Y'?)"`` for each name in ``given`` that is not ``known``.

    ``elsewhere`` maps names a user may expect to the setting that holds that value instead
    (Django's idle timeout is ``SESSION_COOKIE_AGE``, not ``SESSIONKIT_IDLE_TIMEOUT``): a name
    closest to one of them suggests that setting.
    """
    known, elsewhere = list(known), dict(elsewhere or {})
    out = []
    for name in sorted(set(given) - set(known)):
        close = difflib.get_close_matches(name, [*known, *elsewhere], n=1)
        out.append(f"{name} (did you mean {elsewhere.get(close[0], close[0])!r}?)" if close else name)
    return out


def same_site(value: Any, name: str) -> SameSite | None:
    """``"Lax"``, ``"lax"``, ``"Strict"``, ``"None"``/``"none"`` as frameworks accept them; ``None``
    or ``False`` for no attribute."""
    if value is None or value is False:
        return None
    lowered = value.lower() if isinstance(value, str) else value
    if lowered not in ("lax", "strict", "none"):
        raise ConfigurationError(f"{name} must be 'lax', 'strict', 'none' or None, not {value!r}")
    return cast(SameSite, lowered)


def unavailable_log(exc: SessionBackendUnavailable, degraded_setting: str | None) -> str:
    """The log line of a request answered 503 because of ``exc``: the hint to turn degraded mode on
    (``degraded_setting``, as the framework spells it) only when it is off (``None``: it is on)."""
    hint = (f"; set {degraded_setting} to serve empty sessions while Redis is unavailable"
            if degraded_setting else "")
    return f"{exc} The request was answered 503 with Retry-After{hint}."


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
