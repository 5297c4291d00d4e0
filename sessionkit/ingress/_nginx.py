"""ingress-nginx cookie affinity: the 12 annotations, their defaults and the controller's rules.

Rules come from kubernetes/ingress-nginx:
``internal/ingress/annotations/sessionaffinity/main.go`` (the annotation names, each one's
validator, ``affinityCookieExpiresRegex`` and the ``switch at { case "cookie": ...}`` that leaves
affinity off for any other value) and ``internal/ingress/annotations/parser/validators.go``
(``ValidateOptions``, ``ValidateRegex``, ``ValidateBool``, ``BasicCharsRegex``, ``URLIsValidRegex``).
A value that fails is logged and replaced by the default; we refuse it instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sessionkit.ingress import _validate as v
from sessionkit.ingress._validate import AffinityConfigError

Mode = Literal["balanced", "persistent"]
CanaryBehavior = Literal["sticky", "legacy"]
SameSite = Literal["Lax", "Strict", "None"]

DEFAULT_PREFIX = "nginx.ingress.kubernetes.io"
DEFAULT_SECONDS = 172800
# The order of the issue (and of the controller's constants); output keeps this order.
SUFFIXES: tuple[str, ...] = (
    "affinity",
    "affinity-mode",
    "affinity-canary-behavior",
    "session-cookie-name",
    "session-cookie-path",
    "session-cookie-domain",
    "session-cookie-samesite",
    "session-cookie-conditional-samesite-none",
    "session-cookie-expires",
    "session-cookie-max-age",
    "session-cookie-secure",
    "session-cookie-change-on-failure",
)
# Read by newer controllers (main.go) but not part of the generated set.
EXTRA_SUFFIXES: tuple[str, ...] = ("session-cookie-partitioned",)
RETIREMENT_NOTE: tuple[str, ...] = (
    "ingress-nginx was retired upstream (announced November 2025, no fixes after March 2026).",
    "Alternatives: Gateway API, Traefik, F5 NGINX Ingress Controller, cloud LB controllers",
    "(sessionkit ingress --target gateway|traefik|aws|f5|emissary|istio|envoy-gateway|contour;",
    "sessionkit ingress --convert FILE --target X moves existing Ingresses, keeping the affinity).",
)
# Framework defaults that are the app's own session cookie, never an affinity cookie.
APP_SESSION_COOKIES = frozenset(
    {"session", "sessionid", "phpsessid", "jsessionid", "connect.sid", "laravel_session"}
)
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


@dataclass(frozen=True)
class NginxAffinity:
    """Validated ingress-nginx affinity options; construction raises on any invalid value."""

    cookie_name: str = "route"
    mode: Mode = "persistent"
    canary_behavior: CanaryBehavior = "sticky"
    cookie_path: str = "/"
    cookie_domain: str = ""
    samesite: SameSite = "Lax"
    conditional_samesite_none: bool = False
    max_age: int = DEFAULT_SECONDS
    expires: int | None = None
    secure: bool = True
    change_on_failure: bool = True
    app_cookie: str | None = None
    prefix: str = DEFAULT_PREFIX
    canary: bool = False
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        v.cookie_name(self.cookie_name, "--cookie-name")
        if self.mode not in ("balanced", "persistent"):
            raise AffinityConfigError(
                f"--mode: {self.mode!r} is not accepted; use 'persistent' or 'balanced' (lowercase)"
            )
        if self.canary_behavior not in ("sticky", "legacy"):
            raise AffinityConfigError(
                f"--canary-behavior: {self.canary_behavior!r} is not accepted; use 'sticky' or "
                "'legacy' (lowercase)"
            )
        v.cookie_path(self.cookie_path, "--cookie-path")
        if self.cookie_domain:
            v.cookie_domain(self.cookie_domain, "--cookie-domain")
        if self.samesite not in ("Lax", "Strict", "None"):
            raise AffinityConfigError(
                f"--samesite: {self.samesite!r} is not accepted; use Lax, Strict or None"
            )
        v.positive_seconds(self.max_age, "--max-age")
        if self.expires is not None:
            v.positive_seconds(self.expires, "--expires")
        v.dns1123_subdomain(self.prefix, "--annotations-prefix")
        _cross_checks(self)
        object.__setattr__(self, "warnings", tuple(_option_warnings(self)))


def parse_samesite(value: str) -> SameSite:
    """Map any case of lax/strict/none to the browser spelling; raise on anything else."""
    canonical = _SAMESITE.get(value.lower())
    if canonical == "Lax":
        return "Lax"
    if canonical == "Strict":
        return "Strict"
    if canonical == "None":
        return "None"
    raise AffinityConfigError(f"--samesite: {value!r} is not accepted; use Lax, Strict or None")


def _cross_checks(o: NginxAffinity) -> None:
    if o.app_cookie is not None and o.app_cookie == o.cookie_name:
        raise AffinityConfigError(
            f"--cookie-name: {o.cookie_name!r} is the app's session cookie (--app-cookie); the "
            "controller would overwrite it and log every user out. Pick another name, e.g. 'route'"
        )
    if o.conditional_samesite_none and o.samesite != "None":
        raise AffinityConfigError(
            "--conditional-samesite-none: only acts with --samesite None (the controller ignores "
            "it otherwise); drop it"
        )
    if o.samesite == "None" and not o.secure:
        raise AffinityConfigError(
            "--samesite None needs --secure: browsers drop SameSite=None cookies without Secure"
        )
    if o.cookie_name.startswith("__Host-") and (
        not o.secure or o.cookie_path != "/" or o.cookie_domain
    ):
        raise AffinityConfigError(
            "--cookie-name: a __Host- cookie needs --secure, --cookie-path / and no --cookie-domain"
        )
    if o.cookie_name.startswith("__Secure-") and not o.secure:
        raise AffinityConfigError("--cookie-name: a __Secure- cookie needs --secure")


def _option_warnings(o: NginxAffinity) -> list[str]:
    out: list[str] = []
    if o.app_cookie is not None and o.app_cookie.lower() == o.cookie_name.lower():
        out.append(f"cookie name {o.cookie_name!r} differs from --app-cookie only by case")
    elif o.app_cookie is None and o.cookie_name.lower() in APP_SESSION_COOKIES:
        out.append(
            f"cookie name {o.cookie_name!r} is a common framework session cookie name; make sure "
            "it is not the app's own session cookie (pass --app-cookie NAME to check)"
        )
    if not o.secure:
        out.append("--no-secure: the affinity cookie is also sent over plain HTTP")
    if o.mode == "balanced":
        out.append("--mode balanced moves some sessions to new pods on scale-up (they are lost)")
    return out


def nginx_annotations(o: NginxAffinity) -> dict[str, str]:
    """The affinity annotations for ``o``, every value a string, in the controller's order.

    Two are emitted only where they act: ``affinity-canary-behavior`` on a canary Ingress
    (``o.canary``), ``session-cookie-conditional-samesite-none`` with SameSite None.
    """
    expires = o.expires if o.expires is not None else o.max_age
    values = (
        "cookie",
        o.mode,
        o.canary_behavior if o.canary else None,
        o.cookie_name,
        o.cookie_path,
        o.cookie_domain,
        o.samesite,
        _bool(o.conditional_samesite_none) if o.samesite == "None" else None,
        str(expires),
        str(o.max_age),
        _bool(o.secure),
        _bool(o.change_on_failure),
    )
    return {f"{o.prefix}/{suffix}": value for suffix, value in zip(SUFFIXES, values)
            if value is not None}


CANARY_NOTE: tuple[str, ...] = (
    "Canary pairs: give the canary Ingress the same annotations plus affinity-canary-behavior",
    "(sticky keeps canary users on the canary, legacy lets canary traffic ignore affinity):",
    "sessionkit ingress --patch FILE does both Ingresses of a pair.",
)


def nginx_reasons(o: NginxAffinity) -> dict[str, str]:
    """Why each default is what it is: one short comment per annotation key."""
    reasons = {
        "affinity": 'only "cookie" (lowercase) enables stickiness; any other value disables it',
        "affinity-mode": "persistent: sessions stay on their pod when the Deployment scales up",
        "affinity-canary-behavior": "sticky: users served by a canary stay on the canary",
        "session-cookie-name": "affinity cookie, distinct from the app's session cookie",
        "session-cookie-path": "explicit: the default is the Ingress path, wrong for regex paths",
        "session-cookie-domain": "empty: host-only cookie (the controller treats empty as unset)",
        "session-cookie-samesite": "sent on top-level navigation, not on cross-site subrequests",
        "session-cookie-conditional-samesite-none": "true: no SameSite=None for browsers that reject it",
        "session-cookie-expires": "Expires for old browsers, same lifetime as Max-Age",
        "session-cookie-max-age": "seconds the pin lasts (172800 = 48h); set with expires",
        "session-cookie-secure": "Secure even when TLS ends before the controller",
        "session-cookie-change-on-failure": "re-pin to a live pod when the pinned one fails",
    }
    present = nginx_annotations(o)
    return {f"{o.prefix}/{s}": reasons[s] for s in SUFFIXES if f"{o.prefix}/{s}" in present}


def _bool(value: bool) -> str:
    return "true" if value else "false"
