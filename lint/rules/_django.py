"""Django settings split over modules: which ``CACHES`` a settings module ends up with.

Facts recorded per file while visiting (``caches``, ``caches_guarded``, ``star_imports``) are
combined here in the cross-file phase, following ``from .base import *`` chains.
"""

from __future__ import annotations

import posixpath
from typing import Any

Facts = dict[str, dict[str, Any]]

LOCAL_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)
DEFAULT_CACHE = "django.core.cache.backends.locmem.LocMemCache"


def star_targets(path: str, module: str, paths: set[str]) -> list[str]:
    """The project files that ``from <module> import *`` in ``path`` may import."""
    if module.startswith("."):
        level = len(module) - len(module.lstrip("."))
        base = posixpath.dirname(path)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        rel = module.lstrip(".").replace(".", "/")
        candidates = [posixpath.join(base, rel + ".py"), posixpath.join(base, rel, "__init__.py")]
    else:
        rel = module.replace(".", "/")
        candidates = [p for p in paths if p.endswith((f"{rel}.py", f"{rel}/__init__.py"))]
    return [c for c in candidates if c in paths]


def caches_for(path: str, facts: Facts, seen: set[str] | None = None) -> dict[str, str] | None:
    """``CACHES`` (alias -> backend) as seen from the settings module ``path``, or ``None``."""
    seen = set() if seen is None else seen
    if path in seen:
        return None
    seen.add(path)
    own = facts.get(path, {})
    found: dict[str, str] | None = None
    for module in own.get("star_imports", []):
        for target in star_targets(path, module, set(facts)):
            inherited = caches_for(target, facts, seen)
            if inherited is not None:
                found = inherited
    if "caches" in own or "caches_guarded" in own:
        found = own.get("caches") or own.get("caches_guarded") or {}
    return found


def project_caches(facts: Facts, alias: str) -> list[str]:
    """Every backend configured for ``alias`` anywhere in the project."""
    found = ((f.get("caches") or f.get("caches_guarded") or {}).get(alias) for f in facts.values())
    return [c for c in found if c]


def has_caches(facts: Facts) -> bool:
    return any("caches" in f or "caches_guarded" in f for f in facts.values())
