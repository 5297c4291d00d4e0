"""Cross-file phase: decisions that depend on several files (Django settings split over modules).

Each file's analysis leaves JSON facts (``session_engine``, ``caches``, ``star_imports``,
``media_root``, ``shared_storage``); this module combines them without re-reading any file.
"""

from __future__ import annotations

import posixpath
from typing import Any

from sessionkit.lint._rule import LOWER, Rule
from sessionkit.lint._types import Finding
from sessionkit.lint.rules.caches import LocalCacheBackend
from sessionkit.lint.rules.files import LocalMediaRoot
from sessionkit.lint.rules.sessions import DjangoLocalSessions

LOCAL_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)
DEFAULT_CACHE = "django.core.cache.backends.locmem.LocMemCache"


def _finding(rule: type[Rule], path: str, where: dict[str, Any], subject: str, guard: str | None) -> Finding:
    severity = LOWER[rule.severity] if guard else rule.severity
    message = f"{subject}: {rule.message}"
    if guard:
        message += f" (guarded: {guard}; still wrong whenever the guard does not hold)"
    return Finding(
        path=path,
        line=where["line"],
        column=where["column"],
        code=rule.code,
        category=rule.category,
        severity=severity,
        remedy=rule.remedy,
        end_line=where["end_line"],
        end_column=where["end_column"],
        message=message,
        fix_hint=rule.fix_hint,
    )


def _star_targets(path: str, module: str, paths: set[str]) -> list[str]:
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


def _caches_for(path: str, facts: dict[str, dict[str, Any]], seen: set[str]) -> dict[str, str] | None:
    if path in seen:
        return None
    seen.add(path)
    own = facts.get(path, {})
    found: dict[str, str] | None = None
    for module in own.get("star_imports", []):
        for target in _star_targets(path, module, set(facts)):
            inherited = _caches_for(target, facts, seen)
            if inherited is not None:
                found = inherited
    if "caches" in own or "caches_guarded" in own:
        found = own.get("caches") or own["caches_guarded"]
    return found


def resolve(facts: dict[str, dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for path, own in sorted(facts.items()):
        engine = own.get("session_engine")
        if engine:
            alias = own.get("session_cache_alias") or "default"
            caches = _caches_for(path, facts, set())
            if caches is None:
                # No CACHES reachable from this module: elsewhere in the project, or Django's default.
                shared = [
                    c
                    for f in facts.values()
                    for c in [(f.get("caches") or f.get("caches_guarded") or {}).get(alias)]
                    if c
                ]
                if shared and all(c not in LOCAL_CACHES for c in shared):
                    continue
                backend = shared[0] if shared else DEFAULT_CACHE
                why = "Django's default CACHES" if not shared else f"CACHES[{alias!r}]"
            else:
                backend = caches.get(alias, DEFAULT_CACHE if alias == "default" else "")
                why = f"CACHES[{alias!r}]"
            if backend in LOCAL_CACHES:
                short = engine["engine"].rsplit(".", 1)[-1]
                subject = (
                    f"`SESSION_ENGINE` {short!r} over {why} = {backend.rsplit('.', 1)[-1]} (per process)"
                )
                out.append(_finding(DjangoLocalSessions, path, engine, subject, engine.get("guard")))
    django_project = any(f.get("django_settings") for f in facts.values())
    if django_project and not any("caches" in f or "caches_guarded" in f for f in facts.values()):
        for path, own in sorted(facts.items()):
            use = own.get("django_cache_use")
            if use:
                subject = (
                    f"`cache.{use['call']}()` writes to Django's default cache, a per-process "
                    "LocMemCache (no CACHES setting in the project)"
                )
                out.append(_finding(LocalCacheBackend, path, use, subject, None))
    if not any(f.get("shared_storage") for f in facts.values()):
        for path, own in sorted(facts.items()):
            if "media_root" in own:
                out.append(
                    _finding(
                        LocalMediaRoot,
                        path,
                        own["media_root"],
                        "`MEDIA_ROOT` on local disk with no shared storage backend",
                        None,
                    )
                )
    return out
