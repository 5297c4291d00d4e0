"""Value checks shared by every target: cookie names, Kubernetes names, ports, durations.

Every check raises :class:`AffinityConfigError` naming the field and what is accepted. Patterns use
``fullmatch`` with explicit ASCII classes: Go's ``regexp`` (which the controllers use) has ASCII
``\\d`` and no "``$`` before a trailing newline" quirk, so ``\\d`` and ``$`` would be looser here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sessionkit._errors import ConfigurationError


class AffinityConfigError(ConfigurationError):
    """An affinity option or manifest value is invalid; the message names the field."""


@dataclass(frozen=True)
class Finding:
    """One problem (the config does not do what it says) or warning (a visible trap)."""

    severity: Literal["problem", "warning"]
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Plain-data form for ``--format json``."""
        return {"severity": self.severity, "field": self.field, "message": self.message}


# RFC 6265 section 4.1.1: cookie-name is an RFC 2616 token (no separators, no CTLs, no space).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# ingress-nginx BasicCharsRegex (internal/ingress/annotations/parser/validators.go) is
# ^[/\-._~a-zA-Z0-9:]*$ ; '/' and ':' are RFC 6265 separators, so the intersection is:
COOKIE_NAME = re.compile(r"[A-Za-z0-9._~\-]+")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_POSITIVE_INT = re.compile(r"[1-9][0-9]*")
# A hostname label may use upper case on the wire; Kubernetes requires lower case in Ingress.host.
_HOST_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def cookie_name(value: str, field: str = "cookie name") -> str:
    """Return ``value`` if it is a cookie name every controller and browser accepts."""
    if not COOKIE_NAME.fullmatch(value) or not _TOKEN.fullmatch(value):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a valid cookie name; use letters, digits and . _ ~ - "
            "(an RFC 6265 token that ingress-nginx's BasicCharsRegex also accepts), e.g. 'route'"
        )
    return value


def dns1123_label(value: str, field: str) -> str:
    """Return ``value`` if it is an RFC 1123 label (names of Services, Secrets, namespaces)."""
    if len(value) > 63 or not _DNS_LABEL.fullmatch(value):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a valid DNS-1123 label; use at most 63 lower-case "
            "letters, digits and '-', starting and ending with a letter or digit"
        )
    return value


def dns1035_label(value: str, field: str) -> str:
    """Return ``value`` if it is an RFC 1035 label (the rule for Service names)."""
    if len(value) > 63 or not _DNS_1035.fullmatch(value):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a valid Service name (DNS-1035 label); use at most 63 "
            "lower-case letters, digits and '-', starting with a letter"
        )
    return value


def dns1123_subdomain(value: str, field: str) -> str:
    """Return ``value`` if it is an RFC 1123 subdomain (object names, annotation prefixes)."""
    labels = value.split(".")
    if len(value) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a valid DNS-1123 subdomain; use lower-case labels of "
            "letters, digits and '-' separated by '.', at most 253 characters"
        )
    return value


def hostname(value: str, field: str = "host") -> str:
    """Return ``value`` if it is a valid Ingress host (optionally one leading ``*.`` wildcard)."""
    bare = value[2:] if value.startswith("*.") else value
    labels = bare.split(".")
    ok = (
        0 < len(bare) <= 253
        and all(len(label) <= 63 and _HOST_LABEL.fullmatch(label) for label in labels)
        and not _is_ip(bare)
    )
    if not ok:
        raise AffinityConfigError(
            f"{field}: {value!r} is not a valid host; use a lower-case DNS name such as "
            "'app.example.com' (an IP address is not allowed in Ingress rules)"
        )
    return value


def _is_ip(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+", value)) or ":" in value


def port(value: str | int, field: str = "port") -> int | str:
    """Return a port number (1-65535) or an IANA_SVC_NAME port name (as Services name ports)."""
    text = str(value)
    if re.fullmatch(r"[0-9]+", text):
        number = int(text)
        if not 1 <= number <= 65535:
            raise AffinityConfigError(f"{field}: {number} is out of range; use 1-65535")
        return number
    if (
        len(text) > 15
        or not _PORT_NAME.fullmatch(text)
        or "--" in text
        or not re.search(r"[a-z]", text)
    ):
        raise AffinityConfigError(
            f"{field}: {value!r} is neither a port number (1-65535) nor a port name (at most 15 "
            "lower-case letters, digits and '-', with at least one letter, no '--')"
        )
    return text


def positive_seconds(value: str | int, field: str, maximum: int | None = None) -> int:
    """Return a positive integer number of seconds (optionally at most ``maximum``)."""
    text = str(value)
    if not _POSITIVE_INT.fullmatch(text):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a positive whole number of seconds (e.g. 172800 for 48h)"
        )
    number = int(text)
    if maximum is not None and number > maximum:
        raise AffinityConfigError(f"{field}: {number} is too large; use 1-{maximum} seconds")
    return number


def cookie_path(value: str, field: str = "cookie path") -> str:
    """Return an absolute cookie path using only characters ingress-nginx's URL check accepts."""
    # Controller: URLIsValidRegex = ^[-._~a-zA-Z0-9/:?&=]*$ (validators.go). A cookie path never
    # carries a query, so '?', '&' and '=' are refused here, and it must start with '/'.
    if not re.fullmatch(r"/[A-Za-z0-9._~/:\-]*", value):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a valid cookie path; use an absolute path of letters, "
            "digits and . _ ~ / : - such as '/'"
        )
    return value


def cookie_domain(value: str, field: str = "cookie domain") -> str:
    """Return a cookie Domain attribute: a DNS name, optionally with a leading dot."""
    bare = value[1:] if value.startswith(".") else value
    labels = bare.lower().split(".")
    if not bare or len(bare) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a valid cookie domain; use a DNS name such as "
            "'example.com' (or leave it empty for a host-only cookie)"
        )
    return value


def object_name(value: str, field: str) -> str:
    """Return a valid metadata.name (DNS-1123 subdomain)."""
    return dns1123_subdomain(value, field)


def format_gateway_duration(seconds: int) -> str:
    """Format seconds as a Gateway API Duration (GEP-2257): at most 5 digits per unit.

    ``172800`` becomes ``"48h"``; ``90061`` becomes ``"25h1m1s"``.
    """
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    text = "".join(parts) or "0s"
    if not GATEWAY_DURATION.fullmatch(text):
        raise AffinityConfigError(
            f"absolute timeout: {seconds}s cannot be written as a Gateway API Duration "
            "(at most 99999h)"
        )
    return text


# Pattern of every Duration field in the Gateway API CRDs (GEP-2257).
GATEWAY_DURATION = re.compile(r"([0-9]{1,5}(h|m|s|ms)){1,4}")
