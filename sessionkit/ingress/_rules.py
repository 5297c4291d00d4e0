"""Audit existing ingress-nginx affinity annotations with the controller's own acceptance rules.

Each annotation's validator is the one registered in ``sessionaffinity/main.go``
(kubernetes/ingress-nginx); where that validator is looser than what works (the expires/max-age
regex ``(^0|-?[1-9]\\d*$)`` is unanchored and accepts ``abc5`` or ``0x``; BasicCharsRegex lets
``/`` and ``:`` into cookie names) the stricter rule of :mod:`._validate` applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sessionkit.ingress import _validate as v
from sessionkit.ingress._nginx import APP_SESSION_COOKIES, EXTRA_SUFFIXES, SUFFIXES
from sessionkit.ingress._validate import AffinityConfigError, Finding

# Go strconv.ParseBool, used by parser.ValidateBool and GetBoolAnnotation.
GO_BOOLS = frozenset({"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"})
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def _options(*accepted: str, case_sensitive: bool = True) -> Callable[[str], None]:
    def check(value: str) -> None:
        probe = value if case_sensitive else value.lower()
        if probe not in accepted:
            raise AffinityConfigError(f"accepted values: {', '.join(accepted)}")

    return check


def _boolean(value: str) -> None:
    if value not in GO_BOOLS:
        raise AffinityConfigError('accepted values: "true" or "false"')


def _seconds(value: str) -> None:
    v.positive_seconds(value, "value")


def _discard(_: str) -> None:
    return None


def _domain(value: str) -> None:
    if value:
        v.cookie_domain(value, "value")


RULES: dict[str, Callable[[str], None]] = {
    "affinity": _options("cookie"),
    "affinity-mode": _options("balanced", "persistent"),
    "affinity-canary-behavior": _options("sticky", "legacy"),
    "session-cookie-name": lambda s: _discard(v.cookie_name(s, "value")),
    "session-cookie-path": lambda s: _discard(v.cookie_path(s, "value")),
    "session-cookie-domain": _domain,
    "session-cookie-samesite": _options("none", "lax", "strict", case_sensitive=False),
    "session-cookie-conditional-samesite-none": _boolean,
    "session-cookie-expires": _seconds,
    "session-cookie-max-age": _seconds,
    "session-cookie-secure": _boolean,
    "session-cookie-change-on-failure": _boolean,
    "session-cookie-partitioned": _boolean,
}


def value_problem(suffix: str, value: object) -> str | None:
    """Why the controller (or our stricter rule) would not use ``value``, or ``None`` if fine."""
    if not isinstance(value, str):
        return (
            f"value {value!r} is not a string; annotation values must be quoted strings "
            '(write "' + str(value).lower() + '")'
        )
    if suffix == "affinity" and value != "cookie" and value.strip().lower() == "cookie":
        return (
            f'{value!r} is not "cookie": the controller compares case-sensitively, logs and '
            "silently disables stickiness. Write \"cookie\" (lowercase)"
        )
    try:
        RULES[suffix](value)
    except AffinityConfigError as exc:
        detail = str(exc).removeprefix("value: ")
        return f"{value!r} is refused ({detail}); the controller would fall back to its default"
    return None


def audit_annotations(
    annotations: Mapping[str, object], prefix: str, app_cookie: str | None = None,
    canary: bool = False,
) -> list[Finding]:
    """Every problem and warning in one Ingress's affinity annotations under ``prefix``.

    A canary Ingress without any affinity annotation is reported by :mod:`._traps` instead.
    """
    found: list[Finding] = []
    ours = {k[len(prefix) + 1 :]: val for k, val in annotations.items() if k.startswith(prefix + "/")}
    for suffix, value in ours.items():
        key = f"{prefix}/{suffix}"
        if suffix in RULES:
            reason = value_problem(suffix, value)
            if reason:
                found.append(Finding("problem", key, reason))
        elif suffix.startswith(("affinity", "session-cookie-")):
            found.append(
                Finding("warning", key, "not read by the controller's affinity parser (typo?)")
            )
    if "affinity" not in ours:
        if canary and not any(s in ours for s in SUFFIXES[1:]):
            return found
        if any(s in ours for s in SUFFIXES[1:]):
            found.append(
                Finding("problem", f"{prefix}/affinity", 'missing: session-cookie-* annotations '
                        'do nothing without affinity: "cookie"')
            )
        else:
            found.append(Finding("problem", f"{prefix}/affinity", "missing: no cookie affinity"))
        return found
    found.extend(_cross(ours, prefix, app_cookie))
    return found


def _text(ours: Mapping[str, object], suffix: str) -> str | None:
    value = ours.get(suffix)
    return value if isinstance(value, str) else None


def _cross(ours: Mapping[str, object], prefix: str, app_cookie: str | None) -> list[Finding]:
    out: list[Finding] = []

    def warn(suffix: str, message: str) -> None:
        out.append(Finding("warning", f"{prefix}/{suffix}", message))

    name = _text(ours, "session-cookie-name") or "INGRESSCOOKIE"
    if app_cookie is not None and name == app_cookie:
        out.append(Finding("problem", f"{prefix}/session-cookie-name",
                           f"{name!r} is the app's session cookie; affinity would overwrite it"))
    elif name.lower() in APP_SESSION_COOKIES:
        warn("session-cookie-name", f"{name!r} looks like a framework session cookie name")
    samesite = (_text(ours, "session-cookie-samesite") or "").lower()
    if samesite == "none" and _text(ours, "session-cookie-secure") not in GO_TRUE:
        out.append(Finding("problem", f"{prefix}/session-cookie-samesite",
                           "browsers drop SameSite=None cookies without Secure, which the "
                           'controller adds only on HTTPS requests unless secure is "true"'))
    if _text(ours, "session-cookie-conditional-samesite-none") in GO_TRUE and samesite != "none":
        warn("session-cookie-conditional-samesite-none", "has no effect unless samesite is None")
    if "affinity-mode" not in ours:
        warn("affinity-mode", "missing: defaults to balanced, which moves sessions on scale-up")
    if "session-cookie-path" not in ours:
        warn("session-cookie-path", 'missing: defaults to the Ingress path; set "/"')
    if ("session-cookie-max-age" in ours) != ("session-cookie-expires" in ours):
        warn("session-cookie-max-age", "set max-age and expires together (old browsers)")
    if _text(ours, "session-cookie-change-on-failure") not in GO_TRUE:
        warn("session-cookie-change-on-failure", 'not "true": a failed pod keeps its users pinned')
    if _text(ours, "session-cookie-secure") not in GO_TRUE:
        warn("session-cookie-secure", 'not "true": no Secure flag when TLS ends before the controller')
    for suffix in EXTRA_SUFFIXES:
        if suffix in ours:
            warn(suffix, "read only by recent controller releases")
    return out
